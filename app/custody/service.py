"""Custody: a batch moves from one organization to another only by an explicit, accepted transfer.

The custodian ships (``create_transfer``: a ``transfer`` record in the batch's chain); the
receiving organization accepts (a ``receipt`` record, and custody moves) or rejects (a
``transfer_rejected`` record, and custody stays). While a transfer is pending neither side adds
stage events: the batch is on the road, and its next record is the receipt or the rejection
(``service.append_event`` refuses with 409). One pending transfer per batch at a time.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from app import access, clock
from app.auth import Actor
from app.batches import service
from app.batches.models import Batch, BatchStatus
from app.custody.models import Transfer, TransferStatus
from app.db import db, utcnow
from app.errors import Conflict, InvalidInput
from app.orgs.models import Organization
from app.schemas import Page

DIRECTIONS = ("incoming", "outgoing")


def _transfer_record(transfer: Transfer) -> dict[str, Any]:
    """What every custody record in the chain says about the transfer."""
    return {
        "transfer": transfer.id,
        "from_org": transfer.from_org.code,
        "to_org": transfer.to_org.code,
    }


def create_transfer(
    actor: Actor,
    batch_id: int,
    *,
    to_org: str,
    occurred_at: dt.datetime,
    transport: dict[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> Transfer:
    """Ship a batch to another organization; custody moves when the receiver accepts."""
    now = now or utcnow()
    # A batch the caller may not read does not exist for it (404); one it reads but does not hold is 403.
    batch = service.lock_batch(access.get_readable_batch(actor, batch_id).id)
    access.require_custodian(actor, batch, "transfer")
    receiver = db.session.scalar(select(Organization).where(Organization.code == to_org))
    if receiver is None:
        raise InvalidInput.field("to_org", f"no organization with code {to_org!r}")
    if receiver.id == actor.org.id:
        raise InvalidInput.field("to_org", "the batch is already held by this organization")
    clock.refuse_future("occurred_at", occurred_at, now)
    if batch.status == BatchStatus.consumed:
        raise Conflict(f"Batch {batch.lot_code} is consumed; nothing of it is left to ship.")
    service.refuse_if_held(batch, "be transferred")
    pending = service.pending_transfer(batch.id)
    if pending is not None:
        raise Conflict(
            f"Batch {batch.lot_code} already has transfer {pending.id} pending to {pending.to_org.code}.",
            {"json": {"batch": [f"transfer {pending.id} is pending"]}},
        )
    transfer = Transfer(
        batch=batch,
        from_org=actor.org,
        to_org=receiver,
        status=TransferStatus.pending,
        occurred_at=occurred_at,
        # A temperature arrives as an exact Decimal; the record keeps it as its string.
        transport={k: str(v) if isinstance(v, Decimal) else v for k, v in (transport or {}).items()},
        created_by_id=actor.user.id,
        created_at=now,
    )
    db.session.add(transfer)
    db.session.flush()
    service.append_system_event(
        batch,
        actor,
        "transfer",
        {**_transfer_record(transfer), "transport": transfer.transport},
        occurred_at=occurred_at,
        now=now,
    )
    return transfer


def get_transfer(actor: Actor, transfer_id: int) -> Transfer:
    """One transfer, for whoever may read its batch."""
    return access.get_readable_transfer(actor, transfer_id)


def _decide(actor: Actor, transfer_id: int, verb: str) -> tuple[Transfer, Batch]:
    transfer = access.get_readable_transfer(actor, transfer_id)
    access.require_receiver(actor, transfer, verb)
    # Lock the batch first, then re-read the transfer: two clicks on "accept" must not both pass.
    batch = service.lock_batch(transfer.batch_id)
    db.session.refresh(transfer)
    if transfer.status != TransferStatus.pending:
        raise Conflict(f"Transfer {transfer.id} was already {transfer.status}.")
    return transfer, batch


def accept_transfer(
    actor: Actor, transfer_id: int, *, occurred_at: dt.datetime | None = None, now: dt.datetime | None = None
) -> Transfer:
    """The receiver takes the batch: a receipt in its chain, and custody moves to the receiver."""
    now = now or utcnow()
    occurred_at = occurred_at or now
    transfer, batch = _decide(actor, transfer_id, "accept")
    clock.refuse_future("occurred_at", occurred_at, now)
    if occurred_at < transfer.occurred_at:
        raise InvalidInput.field("occurred_at", "a batch cannot be received before it was shipped")
    transfer.status = TransferStatus.accepted
    transfer.decided_at = now
    transfer.decided_by_id = actor.user.id
    # Recorded by the receiver, who is not yet the custodian; the rule was checked above.
    service.append_system_event(batch, actor, "receipt", _transfer_record(transfer), occurred_at=occurred_at, now=now)
    batch.custodian_org_id = transfer.to_org_id
    db.session.flush()
    return transfer


def reject_transfer(
    actor: Actor,
    transfer_id: int,
    *,
    reason: str,
    occurred_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> Transfer:
    """The receiver refuses the batch, saying why; custody stays with the sender."""
    now = now or utcnow()
    occurred_at = occurred_at or now
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput.field("reason", "say why the batch is refused")
    transfer, batch = _decide(actor, transfer_id, "reject")
    clock.refuse_future("occurred_at", occurred_at, now)
    transfer.status = TransferStatus.rejected
    transfer.decided_at = now
    transfer.decided_by_id = actor.user.id
    transfer.reason = reason
    service.append_system_event(
        batch,
        actor,
        "transfer_rejected",
        {**_transfer_record(transfer), "reason": reason},
        occurred_at=occurred_at,
        now=now,
    )
    return transfer


def list_transfers(
    actor: Actor, *, direction: str, status: str | None = None, page: int = 1, per_page: int = 50
) -> Page:
    """The caller's organization's incoming or outgoing transfers, newest first."""
    if direction not in DIRECTIONS:
        raise InvalidInput.field("direction", f"must be one of {', '.join(DIRECTIONS)}", location="query")
    column = Transfer.to_org_id if direction == "incoming" else Transfer.from_org_id
    query = select(Transfer).where(column == actor.org.id)
    if status is not None:
        query = query.where(Transfer.status == status)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = db.session.scalars(
        query.order_by(Transfer.created_at.desc(), Transfer.id.desc()).offset((page - 1) * per_page).limit(per_page)
    ).all()
    return Page(list(items), total, page, per_page)
