"""Batches: creation (the chain opened by its created record), reads, listing and verification.

Services receive the actor and the clock, flush, and never commit: the request or CLI command
commits once. The writes into a chain are records.py's (one record, or one onto each of many
lots) and capture.py's (stage events, single or bulk); their public names are importable from
here too, as callers always have.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import zlib
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    func,
    select,
    text,
)
from sqlalchemy.orm import selectinload

from app import access, clock
from app.auth import Actor
from app.batches import chain, integrity, signals
from app.batches.capture import (
    MAX_BULK_EVENTS,
    AppendResult,
    append_event,
    append_events,
    check_forms,
    refuse_if_held,
    request_digest,
)
from app.batches.journey import build_journey
from app.batches.models import Batch, BatchStandard, BatchStatus, Event
from app.batches.records import (
    Head,
    append_record,
    append_system_event,
    chain_fields,
    chain_records,
    forget_batches,
    insert_rows,
    update_rows,
)
from app.batches.vocabulary import SYSTEM_KINDS
from app.catalog.models import ProductLine
from app.catalog.service import applicable_mandatory
from app.custody.models import Transfer, TransferStatus
from app.db import db, utcnow
from app.errors import Conflict, InvalidInput, NotFound
from app.orgs.models import Organization, OrgKind, Site, User
from app.schemas import MAX_ID, Page
from app.units import BATCH_UNITS

__all__ = [
    "MAX_BULK_EVENTS",
    "SYSTEM_KINDS",
    "AppendResult",
    "Head",
    "append_event",
    "append_events",
    "append_system_event",
    "bind_standards",
    "chain_fields",
    "chain_records",
    "check_forms",
    "create_batch",
    "events_of",
    "facts_of",
    "forget_batches",
    "get_batch",
    "get_batch_by_public_code",
    "insert_rows",
    "journey",
    "list_batches",
    "lock_batch",
    "lock_named",
    "new_public_code",
    "pending_transfer",
    "public_url",
    "refuse_if_held",
    "request_digest",
    "update_rows",
    "verify_batch",
]  # fmt: skip


def lock_named(name: str) -> None:
    """Serialize a critical section across processes (PostgreSQL advisory lock, per transaction).

    On SQLite every write transaction already holds the database's write lock (BEGIN IMMEDIATE),
    so there is nothing more to take.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": zlib.crc32(name.encode())})


def lock_batch(batch_id: int) -> Batch:
    """Load a batch for writing: a row lock on PostgreSQL so appends to it queue up."""
    batch = db.session.scalar(
        select(Batch).where(Batch.id == batch_id).with_for_update().execution_options(populate_existing=True)
    )
    if batch is None:
        raise NotFound(f"no batch with id {batch_id}")
    return batch


def new_public_code() -> str:
    return secrets.token_urlsafe(16)  # 128 random bits; never derived from the id


def public_url(base_url: str, batch: Batch) -> str:
    return f"{base_url.rstrip('/')}/t/{batch.public_code}"


# Lot codes of the automatic form (BT-2026-000123) are the numbering's own: nobody may choose one,
# so the highest stored code of a prefix and year is always a number we issued.
_AUTOMATIC_LOT_CODE = re.compile(r"^[A-Za-z]{2}-\d{4}-\d+$")


def _next_lot_code(product: ProductLine, year: int) -> str:
    prefix = f"{product.lot_prefix}-{year}-"
    lock_named(f"lot-code:{prefix}")
    # Longest first, then highest: past 999999 the number simply grows a digit.
    last = db.session.scalar(
        select(Batch.lot_code)
        # regexp_match is "~" on PostgreSQL and a Python REGEXP SQLAlchemy registers on SQLite.
        .where(Batch.lot_code.like(f"{prefix}%"), Batch.lot_code.regexp_match(f"^{re.escape(prefix)}[0-9]{{6,}}$"))
        .order_by(func.length(Batch.lot_code).desc(), Batch.lot_code.desc())
        .limit(1)
    )
    number = int(last[len(prefix) :]) + 1 if last else 1
    return f"{prefix}{number:06d}"


def _check_quantity(quantity: Decimal, unit: str, field: str = "quantity") -> None:
    if quantity <= 0:
        raise InvalidInput.field(field, "must be greater than zero")
    if unit not in BATCH_UNITS:
        raise InvalidInput.field("unit", f"must be one of {', '.join(BATCH_UNITS)}")


def _site_of(org_ids: set[int], site_id: int | None) -> Site | None:
    if site_id is None:
        return None
    site = db.session.get(Site, site_id)
    if site is None or site.organization_id not in org_ids:
        raise InvalidInput.field("site", f"no site {site_id} belongs to this organization")
    return site


def bind_standards(batch: Batch) -> None:
    """The mandatory national standards for the product are the floor, recorded at creation.

    The product's default standards are offered with it (``source="default"``): suggestions,
    not binding (compliance/evaluation.py reads no ``default`` row). The batch is held to one
    once it declares it, as its 执行标准 or otherwise.
    """
    bound = {bs.standard_id for bs in batch.standards}
    for std in applicable_mandatory(batch.product_key):
        if std.id not in bound:
            db.session.add(BatchStandard(batch=batch, standard=std, source="mandatory"))
            bound.add(std.id)
    for std in batch.product.default_standards:
        if std.id not in bound:
            db.session.add(BatchStandard(batch=batch, standard=std, source="default"))
            bound.add(std.id)


def create_batch(
    actor: Actor,
    *,
    product: str,
    quantity: Decimal,
    unit: str,
    lot_code: str | None = None,
    site: int | None = None,
    gtin: str | None = None,
    produced_at: dt.datetime | None = None,
    producer: str | None = None,
    forms: list[str] | None = None,
    now: dt.datetime | None = None,
    check_role: bool = True,
    open_chain: bool = True,
) -> Batch:
    """Create a batch held by the actor's organization, its chain opened by a ``created`` record.

    A cooperative may name one of its member households as ``producer``: the household grew it,
    the cooperative holds it. The ``created`` record commits to the batch's own facts (lot code,
    product, producer, quantity, unit, creation time, site, GTIN), so a fact changed in its row
    breaks verification. A lot made by a split or transformation (``open_chain=False``) opens
    with that record instead, which commits to the same facts.
    """
    now = now or utcnow()
    if check_role:
        access.require_batch_creator(actor)
    line = db.session.get(ProductLine, product)
    if line is None:
        raise InvalidInput.field("product", f"unknown product {product!r}")
    _check_quantity(quantity, unit)
    if forms is not None:
        forms = check_forms(product, forms, ["forms"])
    clock.refuse_future("produced_at", produced_at, now)
    if gtin is not None and not _gtin_ok(gtin):
        raise InvalidInput.field("gtin", "must be 8, 12, 13 or 14 digits with a valid check digit")
    # Declared apart from its first value so mypy narrows each assignment: the lookup may find none.
    producer_org: Organization | None
    producer_org = actor.org
    if producer is not None and producer != actor.org.code:
        producer_org = db.session.scalar(select(Organization).where(Organization.code == producer))
        if producer_org is None:
            raise InvalidInput.field("producer", f"no organization with code {producer!r}")
        if actor.org.kind != OrgKind.cooperative or producer_org.cooperative_id != actor.org.id:
            raise InvalidInput.field(
                "producer", "only a cooperative may create a batch for one of its member households"
            )
    site_row = _site_of({actor.org.id, producer_org.id}, site)
    if lot_code is not None:
        lot_code = lot_code.strip()
        if _AUTOMATIC_LOT_CODE.match(lot_code):
            raise InvalidInput.field(
                "lot_code",
                "codes like BT-2026-000123 are numbered automatically; leave lot_code out, or choose another",
            )
        if db.session.scalar(select(Batch.id).where(Batch.lot_code == lot_code)):
            raise Conflict(f"lot_code: {lot_code!r} is taken", {"json": {"lot_code": ["already exists"]}})
    else:
        lot_code = _next_lot_code(line, (produced_at or now).astimezone(dt.UTC).year)
    batch = Batch(
        lot_code=lot_code,
        product=line,
        quantity=quantity,
        unit=unit,
        status=BatchStatus.active,
        public_code=new_public_code(),
        gtin=gtin,
        custodian=actor.org,
        producer=producer_org,
        site=site_row,
        produced_at=produced_at,
        created_by_id=actor.user.id,
        created_at=now,
        head_seq=0,
        head_hash=chain.GENESIS,
        forms=forms or [],
    )
    db.session.add(batch)
    db.session.flush()
    bind_standards(batch)
    if open_chain:
        # The forms are chained beside the facts (the verdict reads them from here), only when given.
        opened: dict[str, Any] = {"batch": facts_of(batch), **({"forms": forms} if forms else {})}
        append_record(batch, actor, stage=chain.CREATED, occurred_at=now, data=opened, now=now)
    db.session.flush()
    signals.batch_created.send(signals.sender(), batch=batch, actor=actor, now=now)
    return batch


def facts_of(batch: Batch) -> dict[str, Any]:
    """The batch's own facts as its first record commits to them."""
    return integrity.facts_of(batch, batch.producer.code)


def _gtin_ok(gtin: str) -> bool:
    if not gtin.isdigit() or len(gtin) not in (8, 12, 13, 14):
        return False
    digits = [int(c) for c in gtin]
    body, check = digits[:-1], digits[-1]
    total = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


def pending_transfer(batch_id: int) -> Transfer | None:
    return db.session.scalar(
        select(Transfer).where(Transfer.batch_id == batch_id, Transfer.status == TransferStatus.pending)
    )


def get_batch(batch_id: int) -> Batch:
    batch = db.session.get(Batch, batch_id) if 0 < batch_id <= MAX_ID else None
    if batch is None:
        raise NotFound(f"no batch with id {batch_id}")
    return batch


def get_batch_by_public_code(public_code: str) -> Batch:
    batch = db.session.scalar(select(Batch).where(Batch.public_code == public_code))
    if batch is None:
        raise NotFound("no batch with this code")
    return batch


def events_of(batch: Batch) -> list[Event]:
    return list(db.session.scalars(select(Event).where(Event.batch_id == batch.id).order_by(Event.seq)))


def verify_batch(batch: Batch) -> chain.ChainReport:
    """Recompute the batch's chain from the rows as they are stored now, and check every row that
    restates one of its records (its facts, lineage edges, recalls, test reports) against it."""
    rows = db.session.execute(
        select(Event, Organization.code, User.username)
        .join(Organization, Organization.id == Event.actor_org_id)
        .outerjoin(User, User.id == Event.actor_user_id)
        .where(Event.batch_id == batch.id)
        .order_by(Event.seq)
        .execution_options(populate_existing=True)
    ).all()
    links = ((chain_fields(ev, batch.lot_code, org_code, username), ev.hash) for ev, org_code, username in rows)
    return chain.verify_restated(links, batch.head_hash, integrity.restated(batch.id))


def _batch_loads() -> list[Any]:
    # Everything BatchOut reads, in a fixed number of queries however long the page.
    return [
        selectinload(Batch.product),
        selectinload(Batch.custodian),
        selectinload(Batch.producer),
        selectinload(Batch.site),
        selectinload(Batch.standards).selectinload(BatchStandard.standard),
    ]


def list_batches(
    actor: Actor,
    *,
    product: str | None = None,
    status: str | None = None,
    custodian: str | None = None,
    created_from: dt.datetime | None = None,
    created_before: dt.datetime | None = None,
    page: int = 1,
    per_page: int = 50,
) -> Page:
    """The batches ``actor`` may read, newest first; ``custodian`` is an organization code."""
    conditions: list[ColumnElement[bool]] = []
    clause = access.readable_batches(actor)
    if clause is not None:
        conditions.append(clause)
    if product is not None:
        conditions.append(Batch.product_key == product)
    if status is not None:
        conditions.append(Batch.status == status)
    if custodian is not None:
        conditions.append(Batch.custodian_org_id.in_(select(Organization.id).where(Organization.code == custodian)))
    if created_from is not None:
        conditions.append(Batch.created_at >= created_from)
    if created_before is not None:
        conditions.append(Batch.created_at < created_before)
    total = db.session.scalar(select(func.count(Batch.id)).where(*conditions)) or 0
    rows = db.session.scalars(
        select(Batch)
        .where(*conditions)
        .options(*_batch_loads())
        .order_by(Batch.created_at.desc(), Batch.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return Page(list(rows), total, page, per_page)


def journey(actor: Actor, batch_id: int, *, raw: bool = False) -> dict[str, Any]:
    """A readable batch's journey in order, corrections applied; ``raw`` adds every stored event."""
    batch = access.get_readable_batch(actor, batch_id)
    events = events_of(batch)
    entries = build_journey(events)
    out: dict[str, Any] = {
        "batch_id": batch.id,
        "lot_code": batch.lot_code,
        "items": entries,
        "meta": {"total": len(entries)},
    }
    if raw:
        out["events"] = events
    return out
