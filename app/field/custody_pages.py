"""The field app's custody and lineage pages: incoming transfers to accept or reject, send a
transfer, split a lot and transform it, with the mass balance shown before submitting.

Every write goes through the services the API calls (app/custody, app/lineage), so the same rules
hold; their refusals come back as this page's own words in the page's language. The mass balance
(what goes in, what comes out, the loss) is worked out in the page as the farmer types
(static/custody.js) and again here before anything is stored (``split_balance``,
``transform_balance``); the lineage service checks it a third time. A held lot (app/holds) shows
why these are refused instead of the form. The routes join the field blueprint (app/field/views.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask import redirect, render_template, request
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.exceptions import NotFound as PageNotFound

from app import units
from app.batches.models import Batch, BatchStatus, Event
from app.catalog.products import PRODUCTS
from app.custody import service as custody
from app.custody.models import TransferStatus
from app.db import db, utcnow
from app.errors import Conflict, DomainError, Forbidden, NotFound
from app.field import clock
from app.field import views as field_views
from app.field.forms import read_quantity
from app.lineage import service as lineage
from app.orgs.models import Organization
from app.units import QUANTITY_UNITS, FarmUnit, to_stored

_routes = field_views.bp
MAX_PARTS = 10


def _page_batch(batch_id: int) -> Batch:
    return field_views._page_batch(batch_id)


def _plain(figure: Decimal) -> str:
    return format(Decimal(figure).normalize(), "f")


def units_for(stored: str) -> list[FarmUnit]:
    """The farmer's units that convert exactly into a lot's stored unit (斤, 公斤, 吨 for kg)."""
    return [u for u in QUANTITY_UNITS.values() if u.stored == stored]


def in_unit(stored_quantity: Decimal, unit: FarmUnit) -> Decimal:
    """A stored figure said in the farmer's unit (100 kg → 200 斤), to three places."""
    return (Decimal(stored_quantity) / unit.factor).quantize(Decimal("0.001")).normalize()


def hold_reason(batch: Batch) -> str | None:
    """Why a held lot is stopped, in the page's language; None if it is not held."""
    if batch.status != BatchStatus.on_hold:
        return None
    hold = db.session.scalar(
        select(Event).where(Event.batch_id == batch.id, Event.stage == "hold").order_by(Event.seq.desc()).limit(1)
    )
    data = hold.data if hold is not None else {}
    cause = data.get("cause") or batch.lot_code
    english = field_views._english()
    what = []
    for item in data.get("failed") or []:
        if item.get("pesticide"):
            what.append(_("%(name)s 安全间隔期还差 %(n)s 天", name=item["pesticide"], n=item.get("days_short")))
        elif item.get("name"):
            name = (item.get("name_en") if english else None) or item["name"]
            what.append(
                _("%(name)s 检出 %(value)s %(unit)s，限量 %(limit)s", name=name, value=item.get("value"),
                  unit=item.get("unit") or "", limit=item.get("limit"))
            )  # fmt: skip
    reason = _("此批次已暂停：批次 %(cause)s 不合格，等待监管部门处置。暂停期间不能转交、分批或加工。", cause=cause)
    return reason + ("（" + "；".join(what) + "）" if what else "")


def _refusal(exc: DomainError) -> str:
    """A custody or lineage refusal, said in the page's language."""
    if isinstance(exc, Conflict):
        named = (exc.errors or {}).get("json", {})
        if "batch" in named and "hold" in str(named):
            return _("此批次已暂停，不能转交、分批或加工。")
        if "lot_code" in str(named) or "outputs" in str(named):
            return _("这个批次号已被使用")
        return _("该批次现在不能这样做：已有待接收的转交，或已处理过。")
    if isinstance(exc, Forbidden | NotFound):
        return _("您的账号不能做这项操作。")
    message = exc.message
    if "available" in message or "parts" in message:
        return _("超过了本批次剩余的数量")
    if "occurred_at" in message:
        return _("时间不能晚于现在，也不能早于发出的时间")
    if "to_org" in message:
        return _("请选择接收的主体")
    if "reason" in message:
        return _("请写明拒收的原因")
    return _("未能保存，请检查后重试。")


# --- transfers -------------------------------------------------------------------------------------


@_routes.get("/transfers")
@field_views.field_required
def transfers() -> tuple[str, int]:
    """Incoming transfers waiting for my answer, and what I sent."""
    return _transfers_page("")


def _transfers_page(error: str, status: int = 200) -> tuple[str, int]:
    who = field_views.field_actor()
    incoming = custody.list_transfers(who, direction="incoming", status=TransferStatus.pending, per_page=50)
    outgoing = custody.list_transfers(who, direction="outgoing", per_page=20)
    return render_template(
        "field/transfers.html",
        incoming=incoming.items,
        outgoing=outgoing.items,
        local=clock.local,
        quantity_text=field_views.quantity_text,
        done=request.args.get("done", ""),
        error=error,
        status_name=_transfer_status,
    ), status


def _transfer_status(status: str) -> str:
    return {"pending": _("待接收"), "accepted": _("已接收"), "rejected": _("已拒收")}.get(status, status)


@_routes.post("/transfers/<id:transfer_id>/<any(accept, reject):verb>")
@field_views.field_required
def decide_transfer(transfer_id: int, verb: str) -> Any:
    """Accept (custody moves to me) or reject (with a reason) a transfer sent to my organization."""
    who = field_views.field_actor()
    try:
        if verb == "accept":
            custody.accept_transfer(who, transfer_id)
        else:
            reason = request.form.get("reason", "").strip()[:2000]
            if not reason:
                return _transfers_page(_("请写明拒收的原因"), 422)
            custody.reject_transfer(who, transfer_id, reason=reason)
    except DomainError as exc:
        db.session.rollback()
        return _transfers_page(_refusal(exc), 422)
    return redirect(field_views.field_url("field.transfers", done=verb))


def receivers(who_org_id: int) -> list[Organization]:
    """The organizations a lot may be sent to: every other one, by name."""
    return list(
        db.session.scalars(
            select(Organization).where(Organization.id != who_org_id).order_by(Organization.name).limit(500)
        )
    )


@_routes.route("/batches/<id:batch_id>/transfer", methods=["GET", "POST"])
@field_views.field_required
def send_transfer(batch_id: int) -> Any:
    """Send the lot to another organization: it moves when the receiver accepts."""
    batch = _page_batch(batch_id)
    who = field_views.field_actor()
    values = {k: request.form.get(k, "") for k in ("to_org", "occurred_at", "vehicle", "destination")}
    if request.method == "GET":
        values["occurred_at"] = clock.now_local_text(utcnow())
        return _send_page(batch, values, "")
    occurred_at = clock.parse_local(values["occurred_at"])
    if not values["to_org"]:
        return _send_page(batch, values, _("请选择接收的主体"), 422)
    if occurred_at is None:
        return _send_page(batch, values, _("请填写日期和时间"), 422)
    transport = {k: values[k].strip()[:60] for k in ("vehicle", "destination") if values[k].strip()}
    try:
        custody.create_transfer(who, batch.id, to_org=values["to_org"], occurred_at=occurred_at, transport=transport)
    except DomainError as exc:
        db.session.rollback()
        return _send_page(_page_batch(batch_id), values, _refusal(exc), 422)
    return redirect(field_views.field_url("field.batch_page", batch_id=batch.id, sent=1))


def _send_page(batch: Batch, values: dict[str, str], error: str, status: int = 200) -> tuple[str, int]:
    who = field_views.field_actor()
    page = render_template(
        "field/transfer_send.html",
        batch=batch,
        values=values,
        error=error,
        held=hold_reason(batch),
        mine=who.org.id == batch.custodian_org_id,
        receivers=receivers(who.org.id),
    )
    return page, status


# --- split and transform ---------------------------------------------------------------------------


@dataclass
class Balance:
    """A mass balance in the farmer's unit: what goes in, what comes out, the loss, what stays."""

    unit: str  # the farmer's unit the figures are in
    inputs: Decimal
    outputs: Decimal | None  # None when the output is in a unit of another kind (oil in 升 from fruit in 斤)
    loss: Decimal | None
    stays: Decimal  # what the lot still holds after
    over: bool  # more would leave the lot than it holds

    def texts(self) -> dict[str, str]:
        def say(figure: Decimal | None) -> str:
            return "—" if figure is None else f"{_plain(figure)} {self.unit}"

        return {
            "inputs": say(self.inputs),
            "outputs": say(self.outputs),
            "loss": say(self.loss),
            "stays": say(self.stays),
        }


def split_balance(batch: Batch, parts: list[Decimal], unit: FarmUnit) -> Balance:
    """A split: the parts leave the lot whole (no loss); what is not split stays in it."""
    left = in_unit(lineage.remaining(batch), unit)
    total = sum(parts, Decimal(0))
    return Balance(_(unit.label), total, total, Decimal(0), left - total, total > left)


def transform_balance(batch: Batch, taken: Decimal, unit: FarmUnit, made: Decimal, made_unit: FarmUnit) -> Balance:
    """A transformation: ``taken`` of the lot becomes ``made``; the loss when both are of one kind."""
    left = in_unit(lineage.remaining(batch), unit)
    out: Decimal | None = None
    loss: Decimal | None = None
    if units.kind_of(unit.stored) is not None and units.kind_of(unit.stored) == units.kind_of(made_unit.stored):
        made_stored = units.in_base(to_stored(made, made_unit), made_unit.stored)
        out = (made_stored / units.in_base(unit.factor, unit.stored)).quantize(Decimal("0.001")).normalize()
        loss = taken - out
    return Balance(_(unit.label), taken, out, loss, left - taken, taken > left)


def _figures(prefix: str, count: int, unit: FarmUnit, errors: dict[str, str]) -> list[Decimal]:
    figures: list[Decimal] = []
    for i in range(count):
        text = request.form.get(f"{prefix}-{i}", "").strip()
        if not text:
            continue
        try:
            figure, _unit = read_quantity(text, unit.key, {unit.key: unit})
        except ValueError as exc:
            errors[f"{prefix}-{i}"] = str(exc)
            continue
        figures.append(figure)
    return figures


@_routes.route("/batches/<id:batch_id>/split", methods=["GET", "POST"])
@field_views.field_required
def split(batch_id: int) -> Any:
    """Divide the lot into parts, each a lot of its own; the balance shows before it is stored."""
    batch = _page_batch(batch_id)
    offered = units_for(batch.unit)
    if not offered:
        raise PageNotFound()
    unit = QUANTITY_UNITS.get(request.values.get("unit", "")) or offered[0]
    if unit not in offered:
        unit = offered[0]
    if request.method == "GET":
        return _split_page(batch, unit, {}, {}, None)
    values = {k: v for k, v in request.form.items() if k.startswith("part-")}
    errors: dict[str, str] = {}
    parts = _figures("part", MAX_PARTS, unit, errors)
    if not parts and not errors:
        errors["_form"] = _("至少填写一份")
    if errors:
        return _split_page(batch, unit, values, errors, None, 422)
    balance = split_balance(batch, parts, unit)
    if balance.over:
        errors["_form"] = _("分出的总量超过本批次剩余的 %(left)s %(unit)s", left=_plain(balance.stays + balance.inputs),
                            unit=_(unit.label))  # fmt: skip
        return _split_page(batch, unit, values, errors, balance, 422)
    try:
        result = lineage.split_batch(field_views.field_actor(), batch.id, parts=[to_stored(p, unit) for p in parts])
    except DomainError as exc:
        db.session.rollback()
        return _split_page(_page_batch(batch_id), unit, values, {"_form": _refusal(exc)}, balance, 422)
    codes = ",".join(b.lot_code for b in result.outputs)
    return redirect(field_views.field_url("field.batch_page", batch_id=batch.id, split=codes))


def _split_page(
    batch: Batch, unit: FarmUnit, values: dict[str, str], errors: dict[str, str], balance: Balance | None,
    status: int = 200,
) -> tuple[str, int]:  # fmt: skip
    page = render_template(
        "field/split.html",
        batch=batch,
        unit=unit,
        offered=units_for(batch.unit),
        remaining=lineage.remaining(batch),
        values=values,
        errors=errors,
        balance=balance.texts() if balance else None,
        held=hold_reason(batch),
        mine=field_views.field_actor().org.id == batch.custodian_org_id,
        parts=MAX_PARTS,
        plain=_plain,
        in_unit=in_unit,
    )
    return page, status


@_routes.route("/batches/<id:batch_id>/transform", methods=["GET", "POST"])
@field_views.field_required
def transform(batch_id: int) -> Any:
    """Turn part or all of the lot into a new product (fresh leaf into bricks, fruit into oil)."""
    batch = _page_batch(batch_id)
    offered = units_for(batch.unit)
    if not offered:
        raise PageNotFound()
    values = {k: request.form.get(k, "") for k in ("taken", "unit", "product", "made", "made_unit", "lot_code")}
    if request.method == "GET":
        values.update(unit=offered[0].key, product=batch.product_key, made_unit=offered[0].key)
        return _transform_page(batch, values, {}, None)
    errors: dict[str, str] = {}
    unit = QUANTITY_UNITS.get(values["unit"])
    if unit is None or unit not in offered:
        unit = offered[0]
    taken = made = None
    try:
        taken, unit = read_quantity(values["taken"], unit.key, {u.key: u for u in offered})
    except ValueError as exc:
        errors["taken"] = str(exc)
    try:
        made, made_unit = read_quantity(values["made"], values["made_unit"], QUANTITY_UNITS)
    except ValueError as exc:
        errors["made"] = str(exc)
    if values["product"] not in PRODUCTS:
        errors["product"] = _("请选择产品")
    if errors or taken is None or made is None:
        return _transform_page(batch, values, errors, None, 422)
    balance = transform_balance(batch, taken, unit, made, made_unit)
    if balance.over:
        errors["taken"] = _("超过了本批次剩余的数量")
        return _transform_page(batch, values, errors, balance, 422)
    output = lineage.Output(
        product=values["product"], quantity=to_stored(made, made_unit), unit=made_unit.stored,
        lot_code=values["lot_code"].strip()[:40] or None,
    )  # fmt: skip
    now = utcnow()
    try:
        result = lineage.transform(
            field_views.field_actor(), inputs=[lineage.Take(batch.id, to_stored(taken, unit))], outputs=[output],
            occurred_at=now, now=now,
        )  # fmt: skip
    except DomainError as exc:
        db.session.rollback()
        return _transform_page(_page_batch(batch_id), values, {"_form": _refusal(exc)}, balance, 422)
    made_batch = result.outputs[0]
    return redirect(field_views.field_url("field.batch_page", batch_id=made_batch.id, created=1))


def _transform_page(
    batch: Batch, values: dict[str, str], errors: dict[str, str], balance: Balance | None, status: int = 200
) -> tuple[str, int]:
    page = render_template(
        "field/transform.html",
        batch=batch,
        offered=units_for(batch.unit),
        all_units=list(QUANTITY_UNITS.values()),
        products=PRODUCTS,
        remaining=lineage.remaining(batch),
        values=values,
        errors=errors,
        balance=balance.texts() if balance else None,
        held=hold_reason(batch),
        mine=field_views.field_actor().org.id == batch.custodian_org_id,
        plain=_plain,
        in_unit=in_unit,
        kind_of=units.kind_of,
        base_factor=lambda u: units.in_base(u.factor, u.stored),
    )
    return page, status
