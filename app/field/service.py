"""The field app's reads and writes: a household's or cooperative's batches, creating one, recording a stage.

Every write goes through the batch service the API calls (create_batch, append_event), so the
same rules hold whichever door a record comes in by. Refusals come back as a dict of form field
→ reason in the page's language; the caller answers 422, which rolls the request back.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from marshmallow import ValidationError
from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import selectinload

from app import access
from app.auth import Actor
from app.batches import service as batches
from app.batches.journey import build_journey
from app.batches.models import Batch, Event
from app.batches.schemas import LOT_CODE
from app.catalog.products import PRODUCTS
from app.compliance import evaluation, timing
from app.db import db, utcnow
from app.errors import Conflict, DomainError, Forbidden, InvalidInput
from app.field import clock, forms
from app.field.models import EnteredQuantity
from app.i18n import N_
from app.orgs.models import Organization, OrgKind, Site
from app.schemas import MAX_ID
from app.units import QUANTITY_UNITS, to_stored

PER_PAGE = 20


class NeedsConfirmation(Exception):
    """A harvest inside a pesticide's pre-harvest interval: shown to the farmer before anything is stored."""

    def __init__(self, breaches: list[timing.IntervalCheck]) -> None:
        super().__init__(breaches)
        self.breaches = breaches


class FormRefused(Exception):
    """A form the service would not store; ``errors`` maps form field names to reasons."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


# --- my batches ------------------------------------------------------------------------------------


def my_batches_clause(who: Actor) -> ColumnElement[bool]:
    """Held, produced, and for a cooperative its member households' batches."""
    org_id = who.org.id
    members = select(Organization.id).where(Organization.cooperative_id == org_id)
    return or_(
        Batch.custodian_org_id == org_id,
        Batch.producer_org_id == org_id,
        Batch.producer_org_id.in_(members),
    )


@dataclass
class BatchPage:
    items: list[Batch]
    entered: dict[int, EnteredQuantity]
    total: int
    page: int
    pages: int


def my_batches(who: Actor, lot_code: str = "", page: int = 1) -> BatchPage:
    """One page of the actor's batches, newest first, optionally those whose lot code contains ``lot_code``."""
    conditions = [my_batches_clause(who)]
    wanted = lot_code.strip()
    if wanted:
        # A lot code is letters, digits and . _ / -; escape LIKE's own wildcards so they match literally.
        escaped = wanted.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conditions.append(func.upper(Batch.lot_code).like(f"%{escaped.upper()}%", escape="\\"))
    total = db.session.scalar(select(func.count(Batch.id)).where(*conditions)) or 0
    pages = max(1, -(-total // PER_PAGE))
    page = max(1, min(page, pages))
    items = list(
        db.session.scalars(
            select(Batch)
            .where(*conditions)
            .options(selectinload(Batch.product), selectinload(Batch.producer), selectinload(Batch.custodian))
            .order_by(Batch.created_at.desc(), Batch.id.desc())
            .limit(PER_PAGE)
            .offset((page - 1) * PER_PAGE)
        )
    )
    return BatchPage(items, entered_for_batches([b.id for b in items]), total, page, pages)


def entered_for_batches(batch_ids: list[int]) -> dict[int, EnteredQuantity]:
    """The batch quantity as typed, per batch, for those created in the field app."""
    if not batch_ids:
        return {}
    rows = db.session.scalars(
        select(EnteredQuantity).where(EnteredQuantity.batch_id.in_(batch_ids), EnteredQuantity.event_id.is_(None))
    )
    return {row.batch_id: row for row in rows}


def entered_for_events(batch_id: int) -> dict[tuple[int, str], EnteredQuantity]:
    rows = db.session.scalars(
        select(EnteredQuantity).where(EnteredQuantity.batch_id == batch_id, EnteredQuantity.event_id.is_not(None))
    )
    return {(row.event_id, row.field): row for row in rows if row.event_id is not None}


def find_my_batch(who: Actor, code: str) -> Batch | None:
    """The actor's batch a scanned label names: its public URL (…/t/{public_code}), the bare code, or a lot code."""
    if not code:
        return None
    public_code = code.rstrip("/").rsplit("/t/", 1)[-1].split("?", 1)[0].split("#", 1)[0]
    found = db.session.scalar(
        select(Batch).where(
            my_batches_clause(who), or_(Batch.public_code == public_code, func.upper(Batch.lot_code) == code.upper())
        )
    )
    return found


def get_my_batch(who: Actor, batch_id: int) -> Batch:
    """A batch the actor may read (the API's rule); NotFound otherwise."""
    return access.get_readable_batch(who, batch_id)


# --- choices for the create form -------------------------------------------------------------------


def producers_for(who: Actor) -> list[Organization]:
    """Who a batch may be logged for: the actor's organization, and a cooperative's member households."""
    if who.org.kind != OrgKind.cooperative:
        return [who.org]
    members = db.session.scalars(
        select(Organization)
        .where(Organization.cooperative_id == who.org.id, Organization.kind == OrgKind.farm_household)
        .order_by(Organization.name)
    )
    return [who.org, *members]


def sites_for(who: Actor) -> list[Site]:
    org_ids = [o.id for o in producers_for(who)]
    return list(
        db.session.scalars(
            select(Site).where(Site.organization_id.in_(org_ids)).order_by(Site.organization_id, Site.id)
        )
    )


# --- creating a batch ------------------------------------------------------------------------------


def create_batch_from_form(who: Actor, posted: Any, now: dt.datetime | None = None) -> Batch:
    """Create a batch from the field form: product by name, quantity in the farmer's unit."""
    errors: dict[str, str] = {}
    product = posted.get("product", "").strip()
    if product not in PRODUCTS:
        errors["product"] = _("请选择产品")
    figure: Decimal | None = None
    unit = None
    try:
        figure, unit = forms.read_quantity(posted.get("quantity", ""), posted.get("unit", ""), QUANTITY_UNITS)
    except ValueError as exc:
        errors["quantity"] = str(exc)
    site = _optional_id(posted.get("site", ""), "site", errors)
    producer = posted.get("producer", "").strip() or None
    lot_code = posted.get("lot_code", "").strip() or None
    if lot_code is not None:
        try:
            LOT_CODE(lot_code)
        except ValidationError:
            errors["lot_code"] = _("批次号只能用字母、数字和 . _ / -，最多 40 个字符")
    if errors:
        raise FormRefused(errors)
    assert figure is not None and unit is not None
    try:
        batch = batches.create_batch(
            who,
            product=product,
            quantity=to_stored(figure, unit),
            unit=unit.stored,
            site=site,
            producer=producer,
            lot_code=lot_code,
            now=now,
        )
    except DomainError as exc:
        raise FormRefused(_refusal(exc, CREATE_REFUSALS)) from exc
    db.session.add(EnteredQuantity(batch_id=batch.id, field="quantity", quantity=figure, unit=unit.key))
    db.session.flush()
    return batch


def _optional_id(text: str, name: str, errors: dict[str, str]) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not text.isdigit() or not 0 < int(text) <= MAX_ID:
        errors[name] = _("请从列表中选择")
        return None
    return int(text)


# What the batch service's refusals mean on the create form, by the field it names.
CREATE_REFUSALS: dict[str, Any] = {
    "site": lambda: _("请选择本社或成员农户的场所"),
    "producer": lambda: _("只能为本社的成员农户建批次"),
    "lot_code": lambda: _("这种格式的批次号由系统自动编号，请留空或换一个"),
    "produced_at": lambda: _("不能晚于现在"),
}


def _refusal(exc: DomainError, by_field: dict[str, Any]) -> dict[str, str]:
    """A service refusal as form errors in the page's language, each under the field it names."""
    if isinstance(exc, Forbidden):
        return {"_form": _("您的账号不能做这项操作。")}
    if isinstance(exc, Conflict):
        named = (exc.errors or {}).get("json", {})
        if "lot_code" in named:
            return {"lot_code": _("这个批次号已被使用")}
        return {"_form": _("该批次现在不能记录：已转交待接收、已召回或已用完。")}
    fields = (exc.errors or {}).get("json", {}) if isinstance(exc, InvalidInput) else {}
    errors: dict[str, str] = {}
    for name, reasons in fields.items():
        if name in by_field:
            errors[name] = by_field[name]()
        elif name == "data":
            errors.update(forms.flatten_errors(reasons))
        else:
            errors.update(forms.flatten_errors(reasons, name))
    return errors or {"_form": _("未能保存，请检查后重试。")}


# --- recording a stage ------------------------------------------------------------------------------


def stages_open(batch: Batch) -> list[str]:
    """The product's stages, in order (the service decides at submission whether one may still come)."""
    return list(PRODUCTS[batch.product_key].stages)


def record_stage_from_form(
    who: Actor, batch: Batch, stage: str, posted: Any, now: dt.datetime | None = None
) -> batches.AppendResult:
    """Record one stage from its generated form through the API's own append path."""
    form_fields = forms.stage_form(batch.product_key, stage)
    data, entered, errors = forms.read_stage_form(form_fields, posted)
    occurred_at = clock.parse_local(posted.get("occurred_at", ""))
    if occurred_at is None:
        errors["occurred_at"] = _("请填写日期和时间")
    site = _optional_id(posted.get("site", ""), "site", errors)
    key = posted.get("idempotency_key", "").strip()[:100] or None
    if errors:
        raise FormRefused(errors)
    assert occurred_at is not None
    if stage == "harvest" and posted.get("confirm_interval") != "1":
        breaches = interval_breaches(batch, occurred_at)
        if breaches:
            raise NeedsConfirmation(breaches)
    try:
        result = batches.append_event(
            batch.id, who, stage=stage, occurred_at=occurred_at, data=data, site=site, idempotency_key=key, now=now
        )
    except DomainError as exc:
        raise FormRefused(_refusal(exc, STAGE_REFUSALS)) from exc
    if result.created:
        for typed in entered:
            db.session.add(
                EnteredQuantity(
                    batch_id=batch.id, event_id=result.event.id, field=typed.field, quantity=typed.quantity,
                    unit=typed.unit,
                )
            )  # fmt: skip
        db.session.flush()
    return result


def interval_breaches(batch: Batch, harvested_at: dt.datetime) -> list[timing.IntervalCheck]:
    """The pesticides whose 安全间隔期 a harvest at ``harvested_at`` would break (the verdict's own rule)."""
    journey = build_journey(batches.events_of(batch), include_system=False)
    uses = evaluation.pesticide_uses(journey)
    try:
        checks = timing.check_intervals(uses, [(0, harvested_at)])
    except OverflowError:  # an interval past the calendar's end: the harvest is certainly inside it
        return [timing.IntervalCheck(u, harvested_at, 0, harvested_at, True) for u in uses]
    return [c for c in checks if c.breached]


STAGE_REFUSALS: dict[str, Any] = {
    "occurred_at": lambda: _("不能晚于现在"),
    "stage": lambda: _("按发生时间，这个环节应在已记录的后面环节之前、前面环节之后；漏记的环节可按实际时间补录"),
    "site": lambda: _("请选择本主体的场所"),
}


# Why a value is corrected: a fixed list, so the reason can be shown to anyone without carrying a
# phone number or a name the way free text could.
CORRECTION_REASONS = (N_("录入错误"), N_("单位填错"), N_("日期或时间填错"), N_("数量有误"), N_("其他"))


def stage_entry(batch: Batch, seq: int) -> Any:
    """The journey entry (the stage as corrected so far) for the event ``seq``; None if it is no stage."""
    for entry in build_journey(batches.events_of(batch), include_system=False):
        if entry.seq == seq and entry.stage in PRODUCTS[batch.product_key].stages:
            return entry
    return None


def correct_field(
    who: Actor, batch: Batch, entry: Any, field: forms.FormField, posted: Any, now: dt.datetime | None = None
) -> batches.AppendResult:
    """Change one field of a recorded stage, with a reason.

    The amendment carries the stage's data as it stands with that one value replaced, so the farmer
    sends one value and the API's amendment rule (the whole corrected stage, validated) still holds.
    """
    errors: dict[str, str] = {}
    reason = posted.get("reason", "").strip()
    if reason not in CORRECTION_REASONS:
        errors["reason"] = _("请选择更正原因")
    partial, entered, field_errors = forms.read_stage_form([field], posted)
    errors.update(field_errors)
    if errors:
        raise FormRefused(errors)
    corrected = dict(entry.data)
    corrected.pop(field.name, None)
    if field.widget == "quantity":
        corrected.pop("unit", None)
    corrected.update(partial)
    key = posted.get("idempotency_key", "").strip()[:100] or None
    try:
        result = batches.append_event(
            batch.id, who, stage="amendment", occurred_at=now or utcnow(), amends_seq=entry.seq,
            data={"reason": reason, "data": corrected}, idempotency_key=key, now=now,
        )  # fmt: skip
    except DomainError as exc:
        # The amendment's errors sit under data.data: the same field names as the stage's own.
        inner = ((exc.errors or {}).get("json", {}).get("data") or {}) if isinstance(exc, InvalidInput) else {}
        if isinstance(inner, dict) and isinstance(inner.get("data"), dict):
            raise FormRefused(forms.flatten_errors(inner["data"])) from exc
        raise FormRefused(_refusal(exc, STAGE_REFUSALS)) from exc
    if result.created:
        for typed in entered:
            db.session.add(
                EnteredQuantity(
                    batch_id=batch.id, event_id=result.event.id, field=typed.field, quantity=typed.quantity,
                    unit=typed.unit,
                )
            )  # fmt: skip
        db.session.flush()
    return result


def journey_rows(batch: Batch) -> list[Event]:
    """The batch's stored events, in recording order."""
    return batches.events_of(batch)


# --- a cooperative's day: one stage for many lots ---------------------------------------------------


def day_sheet_lots(who: Actor, product_key: str) -> list[Batch]:
    """The active lots of one product the actor holds, member households' first by name, for one sheet."""
    return list(
        db.session.scalars(
            select(Batch)
            .join(Organization, Organization.id == Batch.producer_org_id)
            .where(Batch.custodian_org_id == who.org.id, Batch.product_key == product_key, Batch.status == "active")
            .options(selectinload(Batch.producer))
            .order_by(Organization.name, Batch.lot_code)
        )
    )


def sheet_fields(product_key: str, stage: str) -> tuple[list[forms.FormField], list[forms.FormField]]:
    """(per-lot fields, shared fields): what must differ per lot (the required ones) and what the sheet sets once."""
    each: list[forms.FormField] = []
    shared: list[forms.FormField] = []
    for ff in forms.stage_form(product_key, stage):
        if ff.widget == "list":
            continue  # pesticide rows and processing steps are recorded lot by lot
        (each if ff.required else shared).append(ff)
    return each, shared


def record_day_sheet(
    who: Actor, product_key: str, stage: str, posted: Any, now: dt.datetime | None = None
) -> list[batches.AppendResult]:
    """Record one stage for every filled row at once, all or nothing, through the API's bulk append."""
    errors: dict[str, str] = {}
    occurred_at = clock.parse_local(posted.get("occurred_at", ""))
    if occurred_at is None:
        errors["occurred_at"] = _("请填写日期和时间")
    each, shared_fields = sheet_fields(product_key, stage)
    shared, shared_entered, shared_errors = forms.read_stage_form(shared_fields, posted)
    errors.update(shared_errors)
    lots = day_sheet_lots(who, product_key)
    items: list[dict[str, Any]] = []
    typed: list[tuple[int, list[forms.Entered]]] = []
    for lot in lots:
        prefix = f"lot-{lot.id}-"
        if not any(posted.get(prefix + ff.name, "").strip() for ff in each):
            continue  # a row left empty is a lot not worked today
        # The row's inputs are named lot-<id>-<field>: read them as one stage form of their own.
        row = {k[len(prefix) :]: v for k, v in posted.items() if k.startswith(prefix)}
        own, entered, row_errors = forms.read_stage_form(each, row)
        errors.update({prefix + k: v for k, v in row_errors.items()})
        items.append({"batch": lot.id, "stage": stage, "occurred_at": occurred_at, "data": {**shared, **own}})
        typed.append((lot.id, entered + shared_entered))
    if not items and not errors:
        errors["_form"] = _("至少填写一行。")
    if errors:
        raise FormRefused(errors)
    key = posted.get("idempotency_key", "").strip()[:100] or None
    try:
        results = batches.append_events(who, items, idempotency_key=key, now=now)
    except InvalidInput as exc:
        by_row = ((exc.errors or {}).get("json", {}) or {}).get("events", {})
        flat: dict[str, str] = {}
        for index, row_errors in by_row.items():
            prefix = f"lot-{items[int(index)]['batch']}-"
            if not isinstance(row_errors, dict):
                flat[prefix + "stage"] = _("未能保存，请检查后重试。")
                continue
            for name, reasons in row_errors.items():
                if name in STAGE_REFUSALS:  # the row's stage order, date or site: said as on the stage form
                    flat[prefix + name] = STAGE_REFUSALS[name]()
                else:
                    inner = reasons if name == "data" else {name: reasons}
                    flat.update({prefix + k: v for k, v in forms.flatten_errors(inner).items()})
        raise FormRefused(flat or {"_form": _("未能保存，请检查后重试。")}) from exc
    except DomainError as exc:
        raise FormRefused(_refusal(exc, STAGE_REFUSALS)) from exc
    for result, (batch_id, entered_list) in zip(results, typed, strict=True):
        if result.created:
            for t in entered_list:
                db.session.add(
                    EnteredQuantity(
                        batch_id=batch_id, event_id=result.event.id, field=t.field, quantity=t.quantity, unit=t.unit
                    )
                )
    db.session.flush()
    return results
