"""Issuing, reading and receiving the 承诺达标合格证 (农业农村部令2025年第4号, in force 2026-02-01).

- **One per batch**, issued by the organization holding it (a producer, or a buyer who
  collected it): product, quantity, origin, time of issue, the committing organization and its
  contact, the commitments, and the basis: 质量安全控制, 自行检测, or 委托检测 with its report,
  which must be a report recorded for this batch. The whole certificate enters the batch's chain.
- A lot **on hold**, recalled, consumed or disposed of gets none: nobody may commit that a failed
  lot meets the standard.
- A lot **split or made from** others names the certificates of the lots it came from.
- A buyer **taking custody** records the certificate it received (a ``certificate_receipt``
  record in the batch's chain), once per organization.
- Fruit, vegetables and fresh tea leaf must carry one (loquat, lotus root, and tea as fresh
  leaf); ``required_for`` says so, for the desk and the consumer page.
"""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from app import access, clock
from app.auth import Actor
from app.batches import service as batches
from app.batches.models import Batch, BatchStatus, Event
from app.commitments.models import CommitmentCertificate
from app.compliance.models import Inspection
from app.db import db, utcnow
from app.errors import Conflict, InvalidInput, NotFound
from app.i18n import N_
from app.lineage.models import LineageEdge

# What the issuer commits to; every certificate carries all of them (the 办法's own promise:
# no banned inputs, residues within limits), each a Chinese source string.
COMMITMENTS: dict[str, str] = {
    "no_banned_inputs": N_("不使用禁用农药兽药、停用兽药和非法添加物"),
    "residues_within_limits": N_("常规农药兽药残留不超标"),
    "intervals_observed": N_("遵守农药安全间隔期和兽药休药期"),
}
BASES: dict[str, str] = {
    "quality_control": N_("质量安全控制"),
    "self_tested": N_("自行检测"),
    "commissioned": N_("委托检测"),
}
# Products the 办法 covers (蔬菜、水果、茶鲜叶): a lot of these should carry a certificate.
REQUIRED_PRODUCTS = frozenset({"loquat", "lotus_root"})
FRESH_TEA_FORMS = frozenset({"fresh_leaf"})
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U to misread


def required_for(batch: Batch) -> bool:
    """Whether the 办法 asks this lot to carry a certificate: fruit, vegetables, fresh tea leaf."""
    if batch.product_key in REQUIRED_PRODUCTS:
        return True
    forms = set(getattr(batch, "forms", None) or [])
    return batch.product_key == "brick_tea" and bool(forms & FRESH_TEA_FORMS)


def _new_number(now: dt.datetime) -> str:
    return "HG" + clock.china_date(now).strftime("%Y%m%d") + "".join(secrets.choice(_ALPHABET) for _ in range(6))


def certificate_of(batch_id: int) -> CommitmentCertificate | None:
    return db.session.scalar(select(CommitmentCertificate).where(CommitmentCertificate.batch_id == batch_id))


def get_certificate(actor: Actor, certificate_id: int) -> CommitmentCertificate:
    """The certificate, if ``actor`` may read its batch; otherwise missing (404), as a missing one."""
    certificate = db.session.get(CommitmentCertificate, certificate_id)
    if certificate is None or not access.can_read_batch(actor, certificate.batch):
        raise NotFound(f"no commitment certificate with id {certificate_id}")
    return certificate


def _origin_of(batch: Batch) -> str:
    site = batch.site
    if site is not None:
        # 通山县 大畈镇 + 大畈镇枇杷示范园: a part the site's own name already says is not repeated.
        place = "".join(p for p in (site.county, site.township, site.village) if p and p not in site.name)
        return f"{place} {site.name}".strip() if place else site.name
    return batch.producer.county or batch.producer.name


def _sources(batch: Batch) -> list[str]:
    """The certificate numbers of the lots this lot was split or made from (those that have one)."""
    parents = select(LineageEdge.input_batch_id).where(LineageEdge.output_batch_id == batch.id)
    return sorted(
        db.session.scalars(select(CommitmentCertificate.number).where(CommitmentCertificate.batch_id.in_(parents)))
    )


def issue_certificate(
    actor: Actor,
    batch_id: int,
    *,
    contact: str,
    basis: str,
    report_no: str | None = None,
    quantity: Decimal | None = None,
    origin: str | None = None,
    issued_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> CommitmentCertificate:
    """Issue the batch's certificate (its custodian) and chain it in the batch's record.

    ``issued_at`` is when it was made out (default now); it is recorded ``now``, which may be later.
    """
    now = now or utcnow()
    issued_at = issued_at or now
    clock.refuse_future("issued_at", issued_at, now)
    readable = access.get_readable_batch(actor, batch_id)
    access.require_custodian(actor, readable, "issue a commitment certificate for")
    contact = (contact or "").strip()
    report_no = (report_no or "").strip() or None
    if not contact:
        raise InvalidInput.field("contact", "a telephone number or other contact the buyer can reach")
    if basis not in BASES:
        raise InvalidInput.field("basis", f"must be one of {', '.join(BASES)}")
    if basis == "commissioned" and report_no is None:
        raise InvalidInput.field("report_no", "a commissioned test (委托检测) names its report")
    batch = batches.lock_batch(readable.id)
    if batch.status != BatchStatus.active:
        why = "on hold after a failed verdict" if batch.status == BatchStatus.on_hold else batch.status
        raise Conflict(
            f"Batch {batch.lot_code} is {why}; no commitment certificate can be issued for it.",
            {"json": {"batch": [f"is {batch.status}"]}},
        )
    if certificate_of(batch.id) is not None:
        raise Conflict(
            f"Batch {batch.lot_code} already has its commitment certificate.",
            {"json": {"batch": ["already has a commitment certificate"]}},
        )
    if report_no is not None:
        recorded = db.session.scalar(
            select(Inspection.id).where(Inspection.batch_id == batch.id, Inspection.report_no == report_no)
        )
        if recorded is None:
            raise InvalidInput.field("report_no", f"no report {report_no} is recorded for batch {batch.lot_code}")
    quantity = batch.quantity if quantity is None else quantity
    if quantity <= 0 or quantity > batch.quantity:
        raise InvalidInput.field("quantity", f"must be more than 0 and at most the lot's {batch.quantity} {batch.unit}")
    certificate = CommitmentCertificate(
        number=_new_number(issued_at),
        batch=batch,
        issuer_org_id=actor.org.id,
        issued_by_id=actor.user.id,
        issued_at=issued_at,
        product_key=batch.product_key,
        quantity=quantity,
        unit=batch.unit,
        origin=(origin or "").strip() or _origin_of(batch),
        contact=contact,
        commitments=list(COMMITMENTS),
        basis=basis,
        report_no=report_no,
        came_from=_sources(batch),
    )
    db.session.add(certificate)
    batches.append_system_event(
        batch, actor, "certificate_issued", chained_view(certificate), occurred_at=issued_at, now=now
    )
    return certificate


def chained_view(certificate: CommitmentCertificate) -> dict[str, Any]:
    """What the batch's chain holds of the certificate (every fact printed on it)."""
    return {
        "number": certificate.number,
        "issuer": certificate.issuer.code if certificate.issuer else None,
        "product": certificate.product_key,
        "quantity": str(certificate.quantity),
        "unit": certificate.unit,
        "origin": certificate.origin,
        "contact": certificate.contact,
        "commitments": list(certificate.commitments),
        "basis": certificate.basis,
        "report_no": certificate.report_no,
        "came_from": list(certificate.came_from),
    }


def receipts_of(batch_id: int) -> list[Event]:
    return list(
        db.session.scalars(
            select(Event).where(Event.batch_id == batch_id, Event.stage == "certificate_receipt").order_by(Event.seq)
        )
    )


def record_receipt(actor: Actor, certificate_id: int, now: dt.datetime | None = None) -> Event:
    """The organization that took custody records the certificate that came with the lot."""
    now = now or utcnow()
    certificate = get_certificate(actor, certificate_id)
    batch = batches.lock_batch(certificate.batch_id)
    access.require_custodian(actor, batch, "record the commitment certificate received with")
    if actor.org.id == certificate.issuer_org_id:
        raise Conflict("The issuer does not receive its own certificate; the next holder records it.")
    if any(e.actor_org_id == actor.org.id for e in receipts_of(batch.id)):
        raise Conflict(f"{actor.org.code} has already recorded certificate {certificate.number}.")
    return batches.append_system_event(
        batch, actor, "certificate_receipt", {"number": certificate.number, "issuer": certificate.issuer.code}, now=now
    )
