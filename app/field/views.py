"""The field app's pages under /field: my batches, create a batch, record a stage.

Server-rendered and small: one page is one request for its HTML (styles inline, no framework),
so a first visit on one bar of signal stays well under 100 KB. Sessions and the CSRF token are the
web desk's own (app/web/views.py): one sign-in at /login serves both.

Size: one blueprint's pages (batches, stages, corrections, sites) with their small presenters, each
a thin view over app/field/service.py; the next page group (custody, import) goes in its own module.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import mimetypes
import secrets
from collections.abc import Callable
from decimal import Decimal
from functools import cache, wraps
from pathlib import Path
from typing import Any, TypeVar

from flask import Blueprint, jsonify, redirect, render_template, request, send_file, send_from_directory, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from marshmallow import ValidationError
from werkzeug.exceptions import NotFound as PageNotFound
from werkzeug.security import safe_join

from app.access import BATCH_CREATOR_ROLES as CREATOR_ROLES
from app.auth import Actor, current_actor
from app.batches.journey import build_journey
from app.batches.schemas import stage_name
from app.catalog.products import PRODUCTS
from app.commitments import service as commitments
from app.db import db, utcnow
from app.errors import Forbidden, InvalidInput, NotFound
from app.field import clock, forms, service, sites
from app.field.members import add_member
from app.field.sites import blp  # noqa: F401 - GET/POST /api/v1/sites, registered with this module
from app.orgs.models import Role, Site
from app.units import QUANTITY_UNITS, STORED_NAMES
from app.web.views import _check_csrf, csrf_token

bp = Blueprint("field", __name__, url_prefix="/field", template_folder="templates")
STATIC = Path(__file__).resolve().parent / "static"
# Vendored files carry their version in their path and never change: cached for a year. Our own
# scripts are addressed with a hash of their content (static_url), so they may be cached as long.
STATIC_MAX_AGE = 365 * 24 * 3600
QR_DECODER = "vendor/qr-scanner-1.4.2/qr-scanner.umd.min.js"
bp.before_request(_check_csrf)

# Who works in the field app; inspectors, admins and the lab use the desk.
FIELD_ROLES = frozenset({Role.farmer, Role.cooperative, Role.processor, Role.logistics, Role.retailer})
F = TypeVar("F", bound=Callable[..., Any])


def lang_args() -> dict[str, Any]:
    """Carry an explicit ``?lang=`` from page to page (the switch is per request, not stored)."""
    wanted = request.args.get("lang", "")
    return {"lang": wanted} if wanted in ("zh", "en") else {}


def field_url(endpoint: str, **values: Any) -> str:
    return url_for(endpoint, **values, **lang_args())


@bp.context_processor
def _inject() -> dict[str, Any]:
    return {
        "csrf_token": csrf_token,
        "field_url": field_url,
        "english": _english(),
        "stage_name": _stage_name,
        "org_name": org_name,
        "static_url": static_url,
        "qr_decoder": QR_DECODER,
    }


@cache
def _content_hash(filename: str) -> str:
    return hashlib.sha256((STATIC / filename).read_bytes()).hexdigest()[:10]


def static_url(filename: str) -> str:
    return url_for("field.static_file", filename=filename, v=_content_hash(filename))


@bp.get("/static/<path:filename>")
def static_file(filename: str) -> Any:
    """The field app's scripts, sent gzipped (a stored .gz copy) when the browser accepts it."""
    zipped = safe_join(str(STATIC), filename + ".gz")
    if zipped and "gzip" in request.accept_encodings and Path(zipped).is_file():
        response = send_file(zipped, mimetype=mimetypes.guess_type(filename)[0], max_age=STATIC_MAX_AGE)
        response.headers["Content-Encoding"] = "gzip"
        response.vary.add("Accept-Encoding")
        return response
    response = send_from_directory(STATIC, filename, max_age=STATIC_MAX_AGE)
    response.vary.add("Accept-Encoding")
    return response


def _english() -> bool:
    return str(get_locale()) == "en"


def _stage_name(stage: str) -> str:
    return stage_name(stage, "en" if _english() else "zh")


def org_name(org: Any) -> str:
    return org.name_en if _english() and org.name_en else org.name


def field_actor() -> Actor:
    who = current_actor(optional=True)
    assert who is not None
    return who


def field_required(view: F) -> F:
    """Signed-in farmers, cooperatives and handlers; others are sent to sign in, or refused."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        who = current_actor(optional=True)
        if who is None:
            return redirect(url_for("web.login", next=request.full_path.rstrip("?"), **lang_args()))
        if who.role not in FIELD_ROLES:
            raise Forbidden(_("田间记录仅供农户、合作社和经营主体使用。"))
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _page_batch(batch_id: int) -> Any:
    try:
        return service.get_my_batch(field_actor(), batch_id)
    except NotFound:
        raise PageNotFound() from None


def quantity_text(quantity: Any, unit: str) -> str:
    """A stored figure in the farmer's words: 100.000 kg → 100 公斤 (kg in English)."""
    return f"{_plain(quantity)} {unit if _english() else STORED_NAMES.get(unit, unit)}"


def _plain(figure: Any) -> str:
    """100.000 → 100, 12.500 → 12.5: a figure as people write it."""
    return format(Decimal(str(figure)).normalize(), "f")


def entered_text(entered: Any) -> str:
    unit = QUANTITY_UNITS.get(entered.unit)
    return f"{_plain(entered.quantity)} {_(unit.label) if unit else entered.unit}"


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
        return _create_page({"unit": "斤"}, {})
    values = {k: request.form.get(k, "") for k in ("product", "quantity", "unit", "site", "producer", "lot_code")}
    try:
        batch = service.create_batch_from_form(who, request.form)
    except service.FormRefused as refused:
        # 422 rolls the request back: nothing of a refused form is kept.
        return _create_page(values, refused.errors, 422)
    return redirect(field_url("field.batch_page", batch_id=batch.id, created=1))


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


def _warning_rows(breaches: list[Any]) -> list[dict[str, Any]]:
    """名称, 施药日期 (China time), 还差几天, for each pesticide whose interval the harvest would break."""
    return [
        {
            "name": b.use.name,
            "applied_on": clock.local(b.use.applied_at).strftime("%Y-%m-%d"),
            "phi_days": b.use.phi_days,
            "days_short": b.days_short,
        }
        for b in breaches
    ]


def _stage_labels(batch: Any, stage: str) -> dict[str, str]:
    """Each input's name on the stage form (list rows numbered), to name a field in an error."""
    labels = {"occurred_at": _("发生时间"), "site": _("场所"), "_form": ""}
    for ff in forms.stage_form(batch.product_key, stage, _english()):
        labels[ff.name] = ff.label
        for sub in ff.rows:
            for i in range(forms.MAX_LIST_ROWS):
                labels[f"{ff.name}-{i}-{sub.name}"] = f"{ff.label} {i + 1}：{sub.label}"
    return labels


def _stage_page(
    batch: Any,
    stage: str,
    values: Any,
    errors: dict[str, str],
    status: int = 200,
    warnings: list[dict[str, Any]] | None = None,
) -> tuple[str, int]:
    form_fields = forms.stage_form(batch.product_key, stage, _english())
    labels = _stage_labels(batch, stage)
    sites = [s for s in service.sites_for(field_actor())]
    page = render_template(
        "field/stage.html",
        batch=batch,
        product=PRODUCTS[batch.product_key],
        stage=stage,
        form_fields=form_fields,
        values=values,
        errors=errors,
        labels=labels,
        sites=sites,
        list_rows=forms.LIST_ROWS,
        warnings=warnings or [],
        max_list_rows=forms.MAX_LIST_ROWS,
    )
    return page, status


@bp.route("/batches/<id:batch_id>/stages/<stage>", methods=["GET", "POST"])
@field_required
def record_stage(batch_id: int, stage: str) -> Any:
    """Record a stage: the form generated from the stage definition, times in China time."""
    batch = _page_batch(batch_id)
    if stage not in PRODUCTS[batch.product_key].stages:
        raise PageNotFound()
    who = field_actor()
    if who.org.id != batch.custodian_org_id:
        raise Forbidden(_("只有批次的持有方可以记录环节。"))
    if request.method == "GET":
        values = {
            "occurred_at": clock.now_local_text(utcnow()),
            # A client-made id for this one submission: a double tap or a retry stores it once.
            "idempotency_key": "field-" + secrets.token_urlsafe(18),
        }
        if batch.site_id:
            values["site"] = str(batch.site_id)
        return _stage_page(batch, stage, values, {})
    grow = request.form.get("add_row", "")
    if grow:
        # One more blank row for a list (another pesticide, another step): nothing is saved yet.
        values = request.form.to_dict()
        values[f"{grow}-rows"] = str(forms.row_count(values.get(f"{grow}-rows", "")) + 1)
        return _stage_page(batch, stage, values, {})
    outbox = request.headers.get("X-Field-Outbox") == "1"
    try:
        result = service.record_stage_from_form(who, batch, stage, request.form)
    except service.NeedsConfirmation as warning:
        if outbox:  # a queued harvest inside an interval waits for the farmer to confirm it on the page
            return _outbox_answer("rejected", 409, _("这次采收在农药安全间隔期内，请联网后在记录页面确认。"))
        # Nothing is stored until the farmer confirms with the same form (and the same key).
        return _stage_page(batch, stage, request.form, {}, warnings=_warning_rows(warning.breaches))
    except service.FormRefused as refused:
        if outbox:
            labels = _stage_labels(batch, stage)
            reasons = "；".join(
                f"{labels.get(k) or ''}{'：' if labels.get(k) else ''}{v}" for k, v in refused.errors.items()
            )
            return _outbox_answer("rejected", 422, reasons)
        return _stage_page(batch, stage, request.form, refused.errors, 422)
    if outbox:
        return _outbox_answer("created" if result.created else "duplicate", 201 if result.created else 200)
    return redirect(field_url("field.batch_page", batch_id=batch.id, recorded=1))


def _outbox_answer(status: str, code: int, message: str = "") -> tuple[Any, int]:
    """What the outbox (static/outbox.js) reads: created, duplicate, or rejected with the reason to show."""
    return jsonify({"status": status, "message": message}), code


# --- correcting one field -------------------------------------------------------------------------


def _correctable(batch: Any, seq: int) -> tuple[Any, list[forms.FormField]]:
    """The stage entry to correct and its single-value fields (a list such as planting inputs is not offered)."""
    entry = service.stage_entry(batch, seq)
    if entry is None:
        raise PageNotFound()
    if field_actor().org.id != batch.custodian_org_id:
        raise Forbidden(_("只有批次的持有方可以更正记录。"))
    fields = [f for f in forms.stage_form(batch.product_key, entry.stage, _english()) if f.widget != "list"]
    return entry, fields


def _shown_value(batch: Any, entry: Any, ff: forms.FormField) -> str:
    value = entry.data.get(ff.name)
    if value in (None, ""):
        return "—"
    if ff.widget == "quantity":
        return quantity_text(value, entry.data.get("unit", ""))
    if ff.widget == "datetime":
        return clock.local(dt.datetime.fromisoformat(value)).strftime("%Y-%m-%d %H:%M")
    return forms.choice_label(str(value))


@bp.route(
    "/batches/<id:batch_id>/events/<id:seq>/correct",
    defaults={"field_name": None},
    methods=["GET"],
)
@bp.route(
    "/batches/<id:batch_id>/events/<id:seq>/correct/<field_name>",
    methods=["GET", "POST"],
)
@field_required
def correct(batch_id: int, seq: int, field_name: str | None) -> Any:
    """Correct one field of a recorded stage with a reason; the record keeps the original and the correction."""
    batch = _page_batch(batch_id)
    entry, fields = _correctable(batch, seq)
    chosen = next((f for f in fields if f.name == field_name), None)
    if field_name is not None and chosen is None:
        raise PageNotFound()
    values: Any = {"idempotency_key": "field-" + secrets.token_urlsafe(18)}
    errors: dict[str, str] = {}
    status = 200
    if chosen is not None and request.method == "POST":
        try:
            service.correct_field(field_actor(), batch, entry, chosen, request.form)
        except service.FormRefused as refused:
            values, errors, status = request.form, refused.errors, 422
        else:
            return redirect(field_url("field.batch_page", batch_id=batch.id, corrected=1))
    elif chosen is not None:
        current = entry.data.get(chosen.name)
        if chosen.widget == "datetime" and current:
            current = clock.local(dt.datetime.fromisoformat(current)).strftime(clock.LOCAL_FORMAT)
        values[chosen.name] = "" if current is None else str(current)
    labels = {f.name: f.label for f in fields} | {"reason": _("更正原因"), "_form": ""}
    page = render_template(
        "field/correct.html",
        batch=batch,
        local=clock.local,
        entry=entry,
        fields=fields,
        chosen=chosen,
        shown=lambda ff: _shown_value(batch, entry, ff),
        reasons=service.CORRECTION_REASONS,
        values=values,
        errors=errors,
        labels=labels,
    )
    return page, status


# --- sites -----------------------------------------------------------------------------------------


@bp.get("/sites")
@field_required
def site_list() -> str:
    """The organization's sites (a cooperative's: and its member households')."""
    who = field_actor()
    rows = list(db.session.scalars(sites.sites_query(who).order_by(Site.organization_id, Site.id)))
    return render_template("field/sites.html", who=who, sites=rows, kinds=sites.SITE_KINDS)


SITE_FIELDS = ("name", "kind", "organization", "county", "township", "village", "latitude", "longitude")


@bp.route("/sites/new", methods=["GET", "POST"])
@field_required
def site_create() -> Any:
    """Register a site: name, kind, township and village, and the phone's location if allowed."""
    who = field_actor()
    values: dict[str, str] = {"county": who.org.county or ""}
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        values = {k: request.form.get(k, "").strip() for k in SITE_FIELDS}
        body = {k: v for k, v in values.items() if v}
        try:
            sites.create_site(who, **sites.SiteCreate().load(body))
        except ValidationError as exc:
            errors, status = forms.flatten_errors(exc.normalized_messages()), 422
        except InvalidInput:
            errors, status = {"organization": _("只能为本社的成员农户登记场所")}, 422
        else:
            return redirect(field_url("field.site_list", created=1))
    labels = {
        "name": _("场所名称"),
        "kind": _("类型"),
        "organization": _("属于"),
        "county": _("县（市、区）"),
        "township": _("乡镇"),
        "village": _("村"),
        "latitude": _("纬度"),
        "longitude": _("经度"),
        "_form": "",
    }
    page = render_template(
        "field/site_form.html",
        who=who,
        owners=sites.owners_for(who),
        kinds=sites.SITE_KINDS,
        values=values,
        errors=errors,
        labels=labels,
    )
    return page, status


# --- a cooperative's day ---------------------------------------------------------------------------

# Stages a day sheet offers: the ones a cooperative records for many member lots on one day.
DAY_STAGES = ("harvest", "packing", "storage", "transport", "sale")


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
        "idempotency_key": "field-day-" + secrets.token_urlsafe(18),
    }
    errors: dict[str, str] = {}
    status = 200
    if product_key and request.method == "POST":
        try:
            results = service.record_day_sheet(who, product_key, stage, request.form)
        except service.FormRefused as refused:
            values, errors, status = request.form, refused.errors, 422
        else:
            return redirect(field_url("field.home", day_recorded=len(results)))
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
    values: Any = {}
    errors: dict[str, str] = {}
    status = 200
    created = None
    if request.method == "POST":
        try:
            created = add_member(who, request.form)
        except service.FormRefused as refused:
            values, errors, status = request.form, refused.errors, 422
    labels = {"name": _("农户姓名"), "masked_id": _("身份证号（只留首尾）"), "phone": _("手机号"), "_form": ""}
    members = service.producers_for(who)[1:]
    page = render_template(
        "field/member.html", created=created, members=members, values=values, errors=errors, labels=labels
    )
    return page, status
