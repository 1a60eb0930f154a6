"""Each kind of write the field app makes, as one function: (actor, target, form body) → result.

The field pages and POST /api/v1/sync both come here (through app/sync/service.run_once), so a
write typed on a page, queued in the outbox or sent by another client meets the same rules and the
same words. ``body`` is the page form's fields as text; ``target`` names what the write is about
(the batch, the stage, the entry and field to correct, the certificate, the day sheet's product).
Refusals are the field service's: FormRefused (field → reason, in the caller's language),
NeedsConfirmation (a harvest inside a pesticide interval), or a DomainError (403, 404, 409).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext as _
from marshmallow import ValidationError

from app.access import BATCH_CREATOR_ROLES
from app.auth import Actor
from app.catalog.products import PRODUCTS
from app.commitments import service as commitments
from app.errors import Conflict, Forbidden, InvalidInput
from app.field import forms, service, sites
from app.field.members import add_member
from app.orgs.models import OrgKind

# Stages a cooperative's day sheet offers: the ones it records for many member lots on one day.
DAY_STAGES = ("harvest", "packing", "storage", "transport", "sale")


@dataclass
class Done:
    """A stored write: ``result`` is kept and returned to a retry; ``message`` is said once."""

    result: dict[str, Any]
    message: str = ""
    extra: dict[str, Any] = field(default_factory=dict)  # returned once, never stored (a first password)


Handler = Callable[[Actor, dict[str, Any], dict[str, str]], Done]


def holder_batch(who: Actor, batch_id: Any, doing: str) -> Any:
    """The actor's readable batch (404 otherwise), refused unless the actor holds it."""
    batch = service.get_my_batch(who, int(batch_id or 0))
    if who.org.id != batch.custodian_org_id:
        raise Forbidden(doing)
    return batch


def create_batch(who: Actor, target: dict[str, Any], body: dict[str, str]) -> Done:
    if who.role not in BATCH_CREATOR_ROLES:
        raise Forbidden(_("您的账号不能新建批次。"))
    batch = service.create_batch_from_form(who, body)
    return Done({"batch": batch.id, "lot_code": batch.lot_code})


def record_stage(who: Actor, target: dict[str, Any], body: dict[str, str]) -> Done:
    batch = holder_batch(who, target.get("batch"), _("只有批次的持有方可以记录环节。"))
    stage = str(target.get("stage") or "")
    if stage not in PRODUCTS[batch.product_key].stages:
        raise service.FormRefused({"stage": _("这个产品没有这个环节")})
    result = service.record_stage_from_form(who, batch, stage, body)
    return Done({"batch": batch.id, "seq": result.event.seq, "stage": stage})


def correctable_fields(batch: Any, entry: Any, english: bool = False) -> list[forms.FormField]:
    """A recorded stage's single-value fields (a list such as planting inputs is not offered)."""
    return [f for f in forms.stage_form(batch.product_key, entry.stage, english) if f.widget != "list"]


def correct(who: Actor, target: dict[str, Any], body: dict[str, str]) -> Done:
    batch = holder_batch(who, target.get("batch"), _("只有批次的持有方可以更正记录。"))
    entry = service.stage_entry(batch, int(target.get("seq") or 0))
    chosen = None
    if entry is not None:
        chosen = next((f for f in correctable_fields(batch, entry) if f.name == target.get("field")), None)
    if entry is None or chosen is None:
        raise service.FormRefused({"field": _("没有这条记录或这一项，不能更正")})
    result = service.correct_field(who, batch, entry, chosen, body)
    return Done({"batch": batch.id, "seq": result.event.seq, "amends": entry.seq})


SITE_FIELDS = ("name", "kind", "organization", "county", "township", "village", "latitude", "longitude")


def create_site(who: Actor, target: dict[str, Any], body: dict[str, str]) -> Done:
    values = {k: body.get(k, "").strip() for k in SITE_FIELDS}
    try:
        loaded = sites.SiteCreate().load({k: v for k, v in values.items() if v})
    except ValidationError as exc:
        raise service.FormRefused(forms.flatten_errors(exc.normalized_messages())) from exc
    try:
        site = sites.create_site(who, **loaded)
    except InvalidInput as exc:
        raise service.FormRefused({"organization": _("只能为本社的成员农户登记场所")}) from exc
    return Done({"site": site.id, "name": site.name})


def create_member(who: Actor, target: dict[str, Any], body: dict[str, str]) -> Done:
    if who.org.kind != OrgKind.cooperative:
        raise Forbidden(_("只有合作社可以添加成员农户。"))
    created = add_member(who, body)
    message = _("已添加：%(name)s", name=created.household.name)
    extra: dict[str, Any] = {}
    if created.username:
        message += " " + _("登录账号：") + created.username + " " + _("初始密码：") + str(created.password)
        extra = {"password": created.password}
    return Done({"household": created.household.code, "username": created.username}, message, extra)


def day_sheet(who: Actor, target: dict[str, Any], body: dict[str, str]) -> Done:
    product_key, stage = str(target.get("product") or ""), str(target.get("stage") or "")
    if product_key not in PRODUCTS or stage not in DAY_STAGES or stage not in PRODUCTS[product_key].stages:
        raise service.FormRefused({"stage": _("这个产品没有这个环节")})
    results = service.record_day_sheet(who, product_key, stage, body)
    return Done({"events": [{"batch": r.event.batch_id, "seq": r.event.seq} for r in results]})


CERTIFICATE_FIELDS = ("contact", "basis", "report_no", "quantity")


def certificate_reason(name: str) -> str:
    """The certificate form's own words for what the service refused in field ``name``."""
    return {
        "contact": _("请填写买方能联系到您的电话"),
        "basis": _("请选择承诺依据"),
        "report_no": _("委托检测须选择本批次已登记的检测报告"),
        "quantity": _("数量须大于0，且不超过本批次的数量"),
    }.get(name, _("请检查此项"))


def issue_certificate(who: Actor, target: dict[str, Any], body: dict[str, str]) -> Done:
    batch = holder_batch(who, target.get("batch"), _("只有批次的持有方可以开具合格证。"))
    values = {k: body.get(k, "").strip() for k in CERTIFICATE_FIELDS}
    quantity: Decimal | None = None
    if values["quantity"]:
        try:
            quantity = Decimal(values["quantity"])
        except InvalidOperation:
            raise service.FormRefused({"quantity": certificate_reason("quantity")}) from None
    try:
        certificate = commitments.issue_certificate(
            who, batch.id, contact=values["contact"], basis=values["basis"],
            report_no=values["report_no"] or None, quantity=quantity,
        )  # fmt: skip
    except InvalidInput as exc:
        fields = (exc.errors or {}).get("json") or {}
        errors = {name: certificate_reason(name) for name in fields} or {"_form": _("未能开具，请检查填写的内容。")}
        raise service.FormRefused(errors) from exc
    except Conflict as exc:
        raise service.FormRefused(
            {"_form": _("此批次现在不能开具合格证：可能已开具过，或因检测不合格已暂停。")}
        ) from exc
    return Done({"batch": batch.id, "certificate": certificate.id, "number": certificate.number})


def record_receipt(who: Actor, target: dict[str, Any], body: dict[str, str]) -> Done:
    certificate = commitments.get_certificate(who, int(target.get("certificate") or 0))
    try:
        commitments.record_receipt(who, certificate.id)
    except (Conflict, Forbidden):
        raise Forbidden(_("只有现在持有批次、且不是开具方的单位可以确认收到合格证（每个单位一次）。")) from None
    return Done({"batch": certificate.batch_id, "certificate": certificate.id})


# Every kind of write, by the name a queued item gives (at most 20 characters, as stored).
HANDLERS: dict[str, Handler] = {
    "batch": create_batch,
    "stage": record_stage,
    "correction": correct,
    "site": create_site,
    "member": create_member,
    "day_sheet": day_sheet,
    "certificate": issue_certificate,
    "certificate_receipt": record_receipt,
}


def register(kind: str, handler: Handler) -> None:
    """Another page group's write (custody accept/reject, say) joins the outbox and /api/v1/sync."""
    assert len(kind) <= 20 and kind not in HANDLERS, kind
    HANDLERS[kind] = handler
