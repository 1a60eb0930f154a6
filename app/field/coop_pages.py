"""A cooperative's day sheet (one stage for many member lots) and adding a member household."""

from typing import Any

from flask import redirect, render_template, request
from flask_babel import gettext as _

from app.catalog.products import PRODUCTS
from app.db import utcnow
from app.errors import Forbidden
from app.field import clock, service
from app.field.pages import (
    bp,
    field_actor,
    field_required,
    field_url,
    new_key,
    submit,
)
from app.sync import handlers

# --- a cooperative's day ---------------------------------------------------------------------------

DAY_STAGES = handlers.DAY_STAGES


@bp.route("/day", methods=["GET", "POST"])
@field_required
def day_sheet() -> Any:
    """One sheet to record the same stage for many lots at once (a cooperative's harvest day)."""
    who = field_actor()
    product_key = request.values.get("product", "")
    stage = request.values.get("stage", "harvest")
    if product_key not in PRODUCTS or stage not in DAY_STAGES or stage not in PRODUCTS[product_key].stages:
        product_key, stage = (product_key if product_key in PRODUCTS else ""), "harvest"
    values: Any = {
        "occurred_at": clock.now_local_text(utcnow()),
        "idempotency_key": new_key(),
    }
    errors: dict[str, str] = {}
    status = 200
    if product_key and request.method == "POST":
        try:
            done = submit("day_sheet", product=product_key, stage=stage)
        except service.FormRefused as refused:
            values, errors, status = request.form, refused.errors, 422
        else:
            return redirect(field_url("field.home", day_recorded=len(done.result["events"])))
    each, shared = service.sheet_fields(product_key, stage) if product_key else ([], [])
    lots = service.day_sheet_lots(who, product_key) if product_key else []
    labels: dict[str, str] = {"occurred_at": _("发生时间"), "_form": ""}
    for ff in shared:
        labels[ff.name] = ff.label
    for lot in lots:
        labels[f"lot-{lot.id}-stage"] = labels[f"lot-{lot.id}-occurred_at"] = lot.lot_code
        for ff in each:
            labels[f"lot-{lot.id}-{ff.name}"] = f"{lot.lot_code} {ff.label}"
        for ff in shared:
            labels[f"lot-{lot.id}-{ff.name}"] = f"{lot.lot_code} {ff.label}"
    page = render_template(
        "field/day.html",
        products=PRODUCTS,
        product_key=product_key,
        stage=stage,
        stages=[s for s in DAY_STAGES if product_key and s in PRODUCTS[product_key].stages],
        each=each,
        shared=shared,
        lots=lots,
        values=values,
        errors=errors,
        labels=labels,
    )
    return page, status


# --- member households -----------------------------------------------------------------------------


@bp.route("/members/new", methods=["GET", "POST"])
@field_required
def member_create() -> Any:
    """A cooperative adds a member household: its organization, and a user when it has a phone."""
    who = field_actor()
    if who.org.kind != "cooperative":
        raise Forbidden(_("只有合作社可以添加成员农户。"))
    values: Any = {"idempotency_key": new_key()}
    errors: dict[str, str] = {}
    status = 200
    created = None
    if request.method == "POST":
        try:
            done = submit("member")
        except service.FormRefused as refused:
            values, errors, status = request.form, refused.errors, 422
        else:
            # The first password is said once, on the write that made it (a resend says no password).
            created = {"name": request.form.get("name", "").strip(), **done.result, **done.extra}
    labels = {"name": _("农户姓名"), "masked_id": _("身份证号（只留首尾）"), "phone": _("手机号"), "_form": ""}
    members = service.producers_for(who)[1:]
    page = render_template(
        "field/member.html", created=created, members=members, values=values, errors=errors, labels=labels
    )
    return page, status
