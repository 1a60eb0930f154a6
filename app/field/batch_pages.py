"""My batches, find by lot code or label, create a batch, and one batch's page with its journey."""

import datetime as dt
from typing import Any

from flask import redirect, render_template, request
from flask_babel import gettext as _

from app.batches.journey import build_journey
from app.catalog.products import PRODUCTS
from app.commitments import service as commitments
from app.errors import Forbidden
from app.field import clock, forms, service
from app.field.pages import (
    CREATOR_ROLES,
    _english,
    _page_batch,
    bp,
    entered_text,
    field_actor,
    field_required,
    field_url,
    new_key,
    quantity_text,
    submit,
)
from app.units import QUANTITY_UNITS

# --- my batches ------------------------------------------------------------------------------------


@bp.get("/")
@field_required
def home() -> str:
    """My batches: held, produced, a cooperative's members'; find by lot code."""
    who = field_actor()
    lot_code = request.args.get("q", "")[:40]
    try:
        page_no = int(request.args.get("page", "1"))
    except ValueError:
        page_no = 1
    page = service.my_batches(who, lot_code, page_no)
    return render_template(
        "field/home.html",
        who=who,
        page=page,
        q=lot_code,
        not_found=request.args.get("not_found") == "1",
        day_recorded=request.args.get("day_recorded", "") if request.args.get("day_recorded", "").isdigit() else "",
        can_create=who.role in CREATOR_ROLES,
        quantity_text=quantity_text,
        entered_text=entered_text,
    )


@bp.get("/find")
@field_required
def find() -> Any:
    """Open the batch a scanned QR code (its public URL) or a typed lot code names, if it is one of mine."""
    code = request.args.get("code", "").strip()[:300]
    batch = service.find_my_batch(field_actor(), code)
    if batch is not None:
        return redirect(field_url("field.batch_page", batch_id=batch.id))
    return redirect(field_url("field.home", not_found=1))


# --- create a batch --------------------------------------------------------------------------------


def _create_page(values: dict[str, str], errors: dict[str, str], status: int = 200) -> tuple[str, int]:
    who = field_actor()
    labels = {
        "product": _("产品"),
        "quantity": _("重量或数量"),
        "site": _("场所"),
        "producer": _("生产农户"),
        "lot_code": _("批次号"),
    }
    page = render_template(
        "field/create.html",
        who=who,
        products=PRODUCTS,
        units=QUANTITY_UNITS,
        producers=service.producers_for(who),
        sites=service.sites_for(who),
        values=values,
        errors=errors,
        labels=labels,
    )
    return page, status


@bp.route("/batches/new", methods=["GET", "POST"])
@field_required
def create_batch() -> Any:
    """Create a batch: product by name, quantity in 斤/公斤/吨/株..., site, producer household."""
    who = field_actor()
    if who.role not in CREATOR_ROLES:
        raise Forbidden(_("您的账号不能新建批次。"))
    if request.method == "GET":
        return _create_page({"unit": "斤", "idempotency_key": new_key()}, {})
    fields = ("product", "quantity", "unit", "site", "producer", "lot_code", "idempotency_key")
    values = {k: request.form.get(k, "") for k in fields}
    try:
        done = submit("batch")
    except service.FormRefused as refused:
        # 422 rolls the request back: nothing of a refused form is kept.
        return _create_page(values, refused.errors, 422)
    return redirect(field_url("field.batch_page", batch_id=done.result["batch"], created=1))


# --- one batch and its stages ----------------------------------------------------------------------


@bp.get("/batches/<id:batch_id>")
@field_required
def batch_page(batch_id: int) -> str:
    """One batch: what it is, its journey so far, and a button per stage to record."""
    batch = _page_batch(batch_id)
    who = field_actor()
    entered_batch = service.entered_for_batches([batch.id]).get(batch.id)
    entered_events = service.entered_for_events(batch.id)
    journey = build_journey(service.journey_rows(batch))
    certificate = commitments.certificate_of(batch.id)
    return render_template(
        "field/batch.html",
        batch=batch,
        product=PRODUCTS[batch.product_key],
        journey=journey,
        entered_batch=entered_batch,
        entered_events=entered_events,
        can_record=who.org.id == batch.custodian_org_id,
        stages=service.stages_open(batch),
        local=clock.local,
        quantity_text=quantity_text,
        entered_text=entered_text,
        data_rows=_data_rows,
        late_text=late_text,
        created=request.args.get("created") == "1",
        recorded=request.args.get("recorded") == "1",
        certified=request.args.get("certified") == "1",
        received=request.args.get("received") == "1",
        certificate=certificate,
        certificate_required=commitments.required_for(batch),
        received_already=certificate is not None
        and any(e.actor_org_id == who.org.id for e in commitments.receipts_of(batch.id)),
        who=who,
        corrected=request.args.get("corrected") == "1",
    )


def late_text(delay: dt.timedelta) -> str:
    """补录 with how long after the fact it was recorded."""
    if delay >= dt.timedelta(days=1):
        return _("补录（事后 %(n)s 天记录）", n=delay.days)
    return _("补录（事后 %(n)s 小时记录）", n=max(0, int(delay.total_seconds() // 3600)))


def _data_rows(product_key: str, stage: str, data: dict[str, Any], entered: Any = None) -> list[tuple[str, str]]:
    """A stage's data as (label, value) lines for the journey; lists as one line per item.

    ``entered`` is the quantity as the farmer typed it, shown first with the stored figure after it.
    """
    if stage not in PRODUCTS[product_key].stages:
        return []
    labels = {f.name: f for f in forms.stage_form(product_key, stage, _english())}
    rows = []
    for key, value in data.items():
        if key == "unit" or value in (None, "", [], {}):
            continue
        label = labels[key].label if key in labels else key
        if isinstance(value, list):
            for item in value:
                if isinstance(item, dict):
                    shown = [forms.choice_label(str(item.get("kind", ""))), str(item.get("name", ""))]
                    if item.get("phi_days") is not None:
                        shown.append(_("安全间隔期 %(n)s 天", n=item["phi_days"]))
                    rows.append((label, " · ".join(s for s in shown if s)))
            continue
        if key == "quantity" and "unit" in data:
            stored = quantity_text(value, data["unit"])
            value = f"{entered_text(entered)} ({stored})" if entered is not None else stored
        rows.append((label, forms.choice_label(str(value))))
    return rows
