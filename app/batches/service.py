"""Batches and their events: creation, the append path (invariants 1-5), reads and verification.

Services receive the actor and the clock, flush, and never commit: the request or CLI command
commits once.

Size: every write to a chain is hashed by ``_chained_row`` here (``_append`` for one record,
``_append_rows`` for a request's stage events, single or bulk, ``chain_records`` for a recall's
records on thousands of lots), and creation (which opens the chain with its created record),
amendments and verification all read the same invariants next to it; the pure parts are already
apart (chain.py, stages.py, integrity.py).

The append paths are set-based: a request's rows are checked against what a fixed number of
queries read (``_Context``), validated and hashed in one pass, and inserted with one multi-row
statement; subscribers hear once per batch and request.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import secrets
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Table,
    and_,
    bindparam,
    func,
    insert,
    or_,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.orm import make_transient_to_detached, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from app import access, clock
from app.auth import Actor
from app.batches import chain, integrity, signals
from app.batches.journey import build_journey
from app.batches.models import Batch, BatchStandard, BatchStatus, Event
from app.batches.stages import check_stage_order, ordered_stages, validate_stage_data
from app.batches.vocabulary import STAGES_WHILE_HELD, SYSTEM_KINDS
from app.catalog.models import ProductLine
from app.catalog.products import PRODUCTS
from app.catalog.service import applicable_mandatory
from app.custody.models import Transfer, TransferStatus
from app.db import db, utcnow
from app.errors import Conflict, DomainError, InvalidInput, NotFound
from app.orgs.models import Organization, OrgKind, Site, User
from app.schemas import MAX_ID, Page
from app.units import BATCH_UNITS


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


def refuse_if_held(batch: Batch, action: str) -> None:
    """A lot on hold (a failed verdict, app/holds) waits for its disposition: refuse ``action``."""
    if batch.status == BatchStatus.on_hold:
        raise Conflict(
            f"Batch {batch.lot_code} is on hold after a failed verdict; it cannot {action} until a "
            f"disposition is recorded (POST /api/v1/batches/{batch.id}/dispositions).",
            {"json": {"batch": ["on hold until a disposition is recorded"]}},
        )


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


def check_forms(product: str, forms: Any, path: list[str]) -> list[str]:
    """A list of the product line's form tags, each once; a 422 naming ``path`` otherwise."""
    allowed = PRODUCTS[product].forms

    def refuse(reason: str) -> InvalidInput:
        errors: Any = [reason]
        for part in reversed(path):
            errors = {part: errors}
        return InvalidInput(f"{'.'.join(path)}: {reason}", {"json": errors})

    if not allowed:
        raise refuse(f"{PRODUCTS[product].name_en} has no product forms to choose from")
    if not isinstance(forms, list) or not forms or not all(isinstance(f, str) for f in forms):
        raise refuse(f"a list of one or more of: {', '.join(allowed)}")
    unknown = [f for f in forms if f not in allowed]
    if unknown:
        raise refuse(
            f"{', '.join(unknown)} is not a form of {PRODUCTS[product].name_en}; choose from {', '.join(allowed)}"
        )
    if len(set(forms)) != len(forms):
        raise refuse("a form is listed twice")
    return list(forms)


def _stage_data(product: str, stage: str, data: dict[str, Any], path: list[str]) -> dict[str, Any]:
    """A stage's data validated; a processing record may also set the batch's ``forms``."""
    if stage == "processing" and "forms" in data:
        rest = {k: v for k, v in data.items() if k != "forms"}
        forms = check_forms(product, data["forms"], [*path, "forms"])
        return {**validate_stage_data(product, stage, rest), "forms": forms}
    return validate_stage_data(product, stage, data)


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
        _append(batch, actor, stage=chain.CREATED, occurred_at=now, data=opened, now=now)
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


def request_digest(payload: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def pending_transfer(batch_id: int) -> Transfer | None:
    return db.session.scalar(
        select(Transfer).where(Transfer.batch_id == batch_id, Transfer.status == TransferStatus.pending)
    )


def chain_fields(event: Event, lot_code: str, org_code: str, username: str | None) -> chain.ChainFields:
    return chain.ChainFields(
        lot_code=lot_code,
        seq=event.seq,
        stage=event.stage,
        occurred_at=event.occurred_at,
        recorded_at=event.recorded_at,
        actor_org=org_code,
        actor_user=username,
        site_id=event.site_id,
        data=event.data,
        amends_seq=event.amends_seq,
        prev_hash=event.prev_hash,
    )


def _chained_row(
    batch: Batch,
    actor: Actor,
    *,
    stage: str,
    occurred_at: dt.datetime,
    data: dict[str, Any],
    now: dt.datetime,
    site_id: int | None = None,
    amends_seq: int | None = None,
    idempotency_key: str | None = None,
    digest: str | None = None,
) -> dict[str, Any]:
    """The next event of a locked batch as its row's values, hashed, with the batch's head moved onto it.

    The data is made canonical first (see chain.canonical_data), so the chain verifies on every
    database exactly as it was written. Nothing in the hash needs a database id, so a caller may
    chain many events (of one batch or many) before anything is inserted.
    """
    try:
        data = chain.canonical_data(data)
    except ValueError as exc:
        field, _, reason = str(exc).partition(": ")
        raise InvalidInput.field(field, reason) from exc
    fields = chain.ChainFields(
        lot_code=batch.lot_code, seq=batch.head_seq + 1, stage=stage, occurred_at=occurred_at, recorded_at=now,
        actor_org=actor.org.code, actor_user=actor.user.username, site_id=site_id, data=data, amends_seq=amends_seq,
        prev_hash=batch.head_hash,
    )  # fmt: skip
    digest_of_chain = fields.digest()
    batch.head_seq = fields.seq
    batch.head_hash = digest_of_chain
    return {
        "batch_id": batch.id, "seq": fields.seq, "stage": stage, "occurred_at": occurred_at, "recorded_at": now,
        "actor_user_id": actor.user.id, "actor_org_id": actor.org.id, "site_id": site_id, "data": data,
        "amends_seq": amends_seq, "idempotency_key": idempotency_key, "request_digest": digest,
        "prev_hash": fields.prev_hash, "hash": digest_of_chain,
    }  # fmt: skip


def _append(
    batch: Batch,
    actor: Actor,
    *,
    stage: str,
    occurred_at: dt.datetime,
    data: dict[str, Any],
    now: dt.datetime,
    flush: bool = True,
) -> Event:
    """Chain one record onto a locked batch and announce it (``_chained_row``, then insert it).

    ``flush=False`` leaves the flush to a caller chaining many batches at once: the inserts then go
    out together.
    """
    event = Event(**_chained_row(batch, actor, stage=stage, occurred_at=occurred_at, data=data, now=now))
    event.batch = batch
    db.session.add(event)
    if flush:
        db.session.flush()
    # Subscribers (compliance) react in this transaction; see app/batches/signals.py.
    signals.event_appended.send(signals.sender(), batch=batch, event=event, actor=actor, now=now)
    return event


def append_system_event(
    batch: Batch, actor: Actor, kind: str, data: dict[str, Any], occurred_at: dt.datetime | None = None,
    now: dt.datetime | None = None, flush: bool = True,
) -> Event:  # fmt: skip
    """Record a cross-cutting fact (transfer, split, recall, inspection...) in the batch's chain.

    The calling service has already checked who may do it; ``batch`` must come from lock_batch.
    ``flush=False`` leaves the flush to a caller chaining many batches at once (a recall).
    """
    if kind not in SYSTEM_KINDS:
        raise ValueError(f"{kind!r} is not a system event kind")
    now = now or utcnow()
    return _append(batch, actor, stage=kind, occurred_at=occurred_at or now, data=data, now=now, flush=flush)


@dataclass(frozen=True)
class Head:
    """A locked batch's chain head, as ``chain_records`` needs it (no ORM object for each lot)."""

    id: int
    lot_code: str
    seq: int
    hash: str


def chain_records(
    actor: Actor, kind: str, records: list[tuple[Head, dict[str, Any]]], *, occurred_at: dt.datetime,
    now: dt.datetime, status: str | None = None,
) -> None:  # fmt: skip
    """Chain one system record onto each of many locked batches: hashed in Python in one pass,
    inserted together by one statement, and every head (and ``status``, when given) moved by another.

    For a recall of thousands of lots, where ``append_system_event`` would build an ORM object
    and a statement per lot. These records announce no signal: nothing reacts to a recall's or
    its closing's records.
    """
    if kind not in SYSTEM_KINDS:
        raise ValueError(f"{kind!r} is not a system event kind")
    rows = []
    for head, data in records:
        fields = chain.ChainFields(
            lot_code=head.lot_code, seq=head.seq + 1, stage=kind, occurred_at=occurred_at, recorded_at=now,
            actor_org=actor.org.code, actor_user=actor.user.username, site_id=None, data=chain.canonical_data(data),
            amends_seq=None, prev_hash=head.hash,
        )  # fmt: skip
        rows.append(
            {"batch_id": head.id, "seq": fields.seq, "stage": kind, "occurred_at": occurred_at, "recorded_at": now,
             "actor_user_id": actor.user.id, "actor_org_id": actor.org.id, "data": fields.data,
             "prev_hash": head.hash, "hash": fields.digest()}
        )  # fmt: skip
    if not rows:
        return
    # Core statements on the tables: no ORM bookkeeping for thousands of rows (forget_batches below).
    events, batches = cast(Table, Event.__table__), cast(Table, Batch.__table__)
    insert_rows(events, rows)
    # Each head becomes the record just chained onto it, in one UPDATE from the same arrays.
    heads = [{"id": r["batch_id"], "head_seq": r["seq"], "head_hash": r["hash"]} for r in rows]
    update_rows(batches, heads, also={"status": status} if status is not None else {})
    forget_batches({head.id for head, _ in records})


def _arrays(table: Table, rows: list[dict[str, Any]]) -> Any:
    """The rows as one PostgreSQL ``unnest`` of an array per column, typed as the columns are."""
    names = list(rows[0])
    arrays = [bindparam(name, [r[name] for r in rows], type_=pg.ARRAY(table.c[name].type)) for name in names]
    return names, func.unnest(*arrays).table_valued(*names).render_derived(name="given")


def insert_rows(table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert many rows by one short statement the driver runs for every row in one pipeline
    (psycopg's executemany). Measured against ``INSERT ... SELECT FROM unnest`` of one array per
    column, and a multi-row VALUES of ten thousand rows (which costs more to build and parse than
    to send), it is the fastest; COPY would pass by the statement events that
    tests/test_reads_write_nothing.py watches."""
    if rows:
        db.session.execute(insert(table), rows)


def update_rows(table: Table, rows: list[dict[str, Any]], also: dict[str, Any] | None = None) -> None:
    """Set each row's values by its ``id``, and ``also`` on every one of them: one UPDATE ... FROM
    unnest (an array per column) on PostgreSQL, executemany elsewhere."""
    if not rows:
        return
    also = also or {}
    if db.session.get_bind().dialect.name != "postgresql":
        names = [n for n in rows[0] if n != "id"]
        db.session.execute(
            update(table).where(table.c.id == bindparam("row_id")).values(**{n: bindparam(n) for n in names}, **also),
            [{"row_id": r["id"], **{n: r[n] for n in names}} for r in rows],
        )
        return
    names, unnested = _arrays(table, rows)
    db.session.execute(
        update(table)
        .where(table.c.id == unnested.c.id)
        .values(**{n: unnested.c[n] for n in names if n != "id"}, **also)
    )


def forget_batches(batch_ids: set[int]) -> None:
    """Expire the session's copies of batches a set-based statement changed, so they are read again."""
    # By identity key: reading an id off an object already expired would load it again.
    for key in list(db.session.identity_map.keys()):
        if key[0] is Batch and key[1][0] in batch_ids:
            obj = db.session.identity_map.get(key)
            if obj is not None:
                db.session.expire(obj)


@dataclass(frozen=True)
class AppendResult:
    event: Event
    created: bool  # False when an Idempotency-Key retry returned the stored event


def append_event(
    batch_id: int,
    actor: Actor,
    *,
    stage: str,
    occurred_at: dt.datetime,
    data: dict[str, Any] | None = None,
    site: int | None = None,
    amends_seq: int | None = None,
    idempotency_key: str | None = None,
    now: dt.datetime | None = None,
) -> AppendResult:
    """Append a stage event (or an amendment) to a batch's journey."""
    now = now or utcnow()
    row = _Row(batch_id, stage, occurred_at, data or {}, site, amends_seq, idempotency_key)
    outcome = _append_rows(actor, [row], now)[0]
    if isinstance(outcome, DomainError):
        raise outcome
    assert outcome is not None  # a lone row that passed is stored
    return outcome


@dataclass(frozen=True)
class _Row:
    """One event of an append request, as given (the bulk endpoint's row, or the single endpoint's body)."""

    batch_id: int
    stage: str
    occurred_at: dt.datetime
    data: dict[str, Any]
    site: int | None
    amends_seq: int | None
    idempotency_key: str | None

    @property
    def digest(self) -> str:
        return request_digest(
            {"stage": self.stage, "occurred_at": self.occurred_at.isoformat(), "data": self.data, "site": self.site,
             "amends_seq": self.amends_seq}
        )  # fmt: skip


class _Context:
    """What the rows of one request are checked against, read in a fixed number of queries however
    many rows and batches: the batches (row-locked, in id order), stored retries, pending transfers,
    sites, and the dated stages that bound a new stage's date. Rows accepted earlier in the request
    count as recorded for the rows after them."""

    def __init__(self, actor: Actor, rows: list[_Row]) -> None:
        ids = sorted({r.batch_id for r in rows if 0 < r.batch_id <= MAX_ID})
        readable = access.readable_batches(actor)
        query = select(Batch).where(Batch.id.in_(ids))
        if readable is not None:
            query = query.where(readable)
        # One lock per batch, all taken by one statement in id order (every writer's order: no deadlock).
        self.batches: dict[int, Batch] = {
            b.id: b
            for b in db.session.scalars(
                query.order_by(Batch.id).with_for_update(of=Batch).execution_options(populate_existing=True)
            )
        } if ids else {}  # fmt: skip
        found = sorted(self.batches)
        # Each row's own (batch, key): one index probe apiece. Keys alone (200 of them, ANY against
        # every row of the batches found) make a small table's planner scan it all.
        keys = sorted(
            {(r.batch_id, r.idempotency_key) for r in rows if r.idempotency_key and r.batch_id in self.batches}
        )
        self.retries: dict[tuple[int, str], Event] = (
            {
                (e.batch_id, e.idempotency_key or ""): e
                for e in db.session.scalars(
                    select(Event).where(tuple_(Event.batch_id, Event.idempotency_key).in_(keys))
                )
            }
            if keys
            else {}
        )
        self.in_transfer: set[int] = (
            set(
                db.session.scalars(
                    select(Transfer.batch_id).where(
                        Transfer.batch_id.in_(found), Transfer.status == TransferStatus.pending
                    )
                )
            )
            if found
            else set()
        )
        site_ids = sorted({r.site for r in rows if r.site is not None and 0 < r.site <= MAX_ID})
        self.sites: dict[int, Site] = (
            {s.id: s for s in db.session.scalars(select(Site).where(Site.id.in_(site_ids)))} if site_ids else {}
        )
        bounding = {
            stage
            for r in rows
            if r.batch_id in self.batches and r.stage not in SYSTEM_KINDS and r.stage != "amendment"
            and r.stage in PRODUCTS[self.batches[r.batch_id].product_key].stages
            for stage in ordered_stages(self.batches[r.batch_id].product_key, r.stage)
        }  # fmt: skip
        self.dated: dict[int, list[tuple[str, dt.datetime]]] = {i: [] for i in found}
        if bounding:
            for batch_id, stage, occurred_at in db.session.execute(
                select(Event.batch_id, Event.stage, Event.occurred_at)
                .where(Event.batch_id.in_(found), Event.stage.in_(sorted(bounding)))
                .order_by(Event.batch_id, Event.seq)
            ):
                self.dated[batch_id].append((stage, occurred_at))
        # The stage of each event accepted in this request, by batch and seq: an amendment may name one.
        self.accepted: dict[tuple[int, int], str] = {}

    def site(self, org_ids: set[int], site_id: int | None) -> Site | None:
        if site_id is None:
            return None
        site = self.sites.get(site_id)
        if site is None or site.organization_id not in org_ids:
            raise InvalidInput.field("site", f"no site {site_id} belongs to this organization")
        return site

    def stage_of(self, batch: Batch, seq: int) -> str | None:
        accepted = self.accepted.get((batch.id, seq))
        if accepted is not None:
            return accepted
        return db.session.scalar(select(Event.stage).where(Event.batch_id == batch.id, Event.seq == seq))


def _check_row(actor: Actor, context: _Context, row: _Row, now: dt.datetime) -> AppendResult | dict[str, Any]:
    """The stored event of a true retry, or the row's new event's values, chained; a DomainError if refused."""
    # A batch the caller may not read is missing to it (404); one it reads but does not hold is 403.
    batch = context.batches.get(row.batch_id)
    if batch is None:
        raise NotFound(f"no batch with id {row.batch_id}")
    digest = row.digest
    stored = context.retries.get((batch.id, row.idempotency_key)) if row.idempotency_key is not None else None
    # A retry is the same organization's: another organization reusing a key never gets that
    # event back (it may not be its to see), it is refused below like any other write.
    if stored is not None and stored.actor_org_id == actor.org.id:
        if stored.request_digest != digest:
            raise Conflict("Idempotency-Key was already used for a different request on this batch.")
        return AppendResult(stored, created=False)
    access.require_custodian(actor, batch, "add events to")
    if stored is not None:
        raise Conflict("Idempotency-Key was already used for a different request on this batch.")
    if batch.status in (BatchStatus.consumed, BatchStatus.recalled, BatchStatus.disposed):
        raise Conflict(f"Batch {batch.lot_code} is {batch.status}; no more stage events can be added.")
    if batch.id in context.in_transfer:
        raise Conflict(f"Batch {batch.lot_code} has a transfer pending; events wait until it is accepted or rejected.")
    clock.refuse_future("occurred_at", row.occurred_at, now)
    site_row = context.site({actor.org.id, batch.producer_org_id}, row.site)

    stage = row.stage
    # A correction stays possible (a mistyped date is the commonest cause of a false breach); the
    # lot stays held until an inspector releases it on the corrected record.
    if batch.status == BatchStatus.on_hold and stage not in STAGES_WHILE_HELD and stage != "amendment":
        refuse_if_held(batch, f"record {stage}")
    if stage == "amendment":
        stored_data = _amendment_data(batch, row.amends_seq, row.data, context.stage_of)
    else:
        if row.amends_seq is not None:
            raise InvalidInput.field("amends_seq", "only an amendment names the event it amends")
        if stage in SYSTEM_KINDS:
            raise InvalidInput.field("stage", f"{stage!r} is recorded by its own endpoint, not as a stage")
        stored_data = _stage_data(batch.product_key, stage, row.data, ["data"])
        bounding = ordered_stages(batch.product_key, stage)
        if bounding:
            # Only the stages that bound this one's date matter; none at all for repeatable stages.
            recorded = [(s, at) for s, at in context.dated[batch.id] if s in bounding]
            check_stage_order(batch.product_key, stage, row.occurred_at, recorded)
    values = _chained_row(
        batch, actor, stage=stage, occurred_at=row.occurred_at, data=stored_data, now=now,
        site_id=site_row.id if site_row else None, amends_seq=row.amends_seq,
        idempotency_key=row.idempotency_key, digest=digest,
    )  # fmt: skip
    _follow_forms(batch, stage, stored_data)
    context.dated[batch.id].append((stage, row.occurred_at))
    context.accepted[(batch.id, values["seq"])] = stage
    return values


def _append_rows(actor: Actor, rows: list[_Row], now: dt.datetime) -> list[AppendResult | DomainError | None]:
    """Check every row, in the order given, and store the events only if none was refused.

    Validation and hashing are one pass in Python over what ``_Context`` read; the events then go
    out in one multi-row INSERT, and each batch's subscribers hear of its new events once. Each
    row's outcome is its result or the error refusing it; when any row is refused, nothing is
    stored, the batches' heads are as they were, and a row that passed is None.
    """
    context = _Context(actor, rows)
    heads = {b.id: (b.head_seq, b.head_hash, list(b.forms or [])) for b in context.batches.values()}
    outcomes: list[AppendResult | DomainError | None] = []  # None: a new event, stored below
    new: list[dict[str, Any]] = []
    # A lookup (an amendment's target) must not flush a half-checked request.
    with db.session.no_autoflush:
        for row in rows:
            try:
                checked = _check_row(actor, context, row, now)
            except DomainError as exc:
                outcomes.append(exc)
                continue
            if isinstance(checked, AppendResult):
                outcomes.append(checked)
            else:
                new.append(checked)
                outcomes.append(None)
    if any(isinstance(o, DomainError) for o in outcomes):
        for batch_id, (seq, head, forms) in heads.items():
            batch = context.batches[batch_id]
            batch.head_seq, batch.head_hash, batch.forms = seq, head, forms
        return outcomes
    db.session.flush()  # the batches' new heads
    stored = _insert_events(new, {batch_id: seq for batch_id, (seq, _, _) in heads.items()})
    by_batch: dict[int, list[Event]] = {}
    for event in stored:
        # Each event keeps its locked batch, as loaded: no lookup (or query) when a caller reads it.
        set_committed_value(event, "batch", context.batches[event.batch_id])
        by_batch.setdefault(event.batch_id, []).append(event)
    # Subscribers (compliance) react in this transaction, once per batch; see app/batches/signals.py.
    for batch_id, events in by_batch.items():
        signals.events_appended.send(
            signals.sender(), batch=context.batches[batch_id], events=events, actor=actor, now=now
        )
    fresh = iter(stored)
    return [o if o is not None else AppendResult(next(fresh), created=True) for o in outcomes]


def _insert_events(new: list[dict[str, Any]], old_heads: dict[int, int]) -> list[Event]:
    """Insert a request's new events and hand them back as the session's (persistent) events.

    One short INSERT the driver runs for every row in one pipeline (psycopg's executemany; no
    multi-row VALUES of thousands of parameters to build and parse, no RETURNING objects), then
    one indexed read of the new rows' ids: every batch's rows past its old head.
    """
    if not new:
        return []
    events = cast(Table, Event.__table__)
    db.session.execute(insert(events), new)
    touched = sorted({values["batch_id"] for values in new})
    ids = {
        (batch_id, seq): event_id
        for event_id, batch_id, seq in db.session.execute(
            select(events.c.id, events.c.batch_id, events.c.seq).where(
                or_(*(and_(events.c.batch_id == b, events.c.seq > old_heads[b]) for b in touched))
            )
        )
    }
    stored = []
    for values in new:
        event = Event(id=ids[(values["batch_id"], values["seq"])], **values)
        # As if loaded: the session knows the row, and nothing is left to flush for it.
        make_transient_to_detached(event)
        db.session.add(event)
        stored.append(event)
    return stored


def _follow_forms(batch: Batch, stage: str, data: dict[str, Any]) -> None:
    """Keep the batch row's copy of its forms with the latest processing record that sets them."""
    if stage == "amendment":
        stage, data = data.get("stage") or "", data.get("data", {})
    if stage == "processing" and isinstance(data.get("forms"), list):
        batch.forms = list(data["forms"])


def _amendment_data(
    batch: Batch, amends_seq: int | None, data: dict[str, Any], stage_of: Callable[[Batch, int], str | None]
) -> dict[str, Any]:
    """An amendment carries the corrected data of the event it amends (``stage_of`` finds its stage), and why."""
    if amends_seq is None:
        raise InvalidInput.field("amends_seq", "an amendment must name the sequence number it corrects")
    target = stage_of(batch, amends_seq)
    if target is None:
        raise InvalidInput.field("amends_seq", f"batch {batch.lot_code} has no event {amends_seq}")
    if target in SYSTEM_KINDS:
        raise InvalidInput.field("amends_seq", f"event {amends_seq} is a {target} record and cannot be amended")
    reason = data.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput(
            "data.reason: an amendment must say why", {"json": {"data": {"reason": ["required: say why"]}}}
        )
    unknown = set(data) - {"reason", "data"}
    if unknown:
        raise InvalidInput("data: unknown fields", {"json": {"data": {k: ["Unknown field."] for k in sorted(unknown)}}})
    corrected = data.get("data")
    if not isinstance(corrected, dict):
        raise InvalidInput(
            "data.data: the corrected stage data is required",
            {"json": {"data": {"data": ["required: the corrected stage data"]}}},
        )
    try:
        normalized = _stage_data(batch.product_key, target, corrected, ["data"])
    except InvalidInput as exc:
        inner = (exc.errors or {}).get("json", {}).get("data", {})
        raise InvalidInput("data.data: the corrected data is not valid", {"json": {"data": {"data": inner}}}) from exc
    return {"reason": reason.strip(), "data": normalized, "stage": target}


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


MAX_BULK_EVENTS = 200


def append_events(
    actor: Actor, items: list[dict[str, Any]], *, idempotency_key: str | None = None, now: dt.datetime | None = None
) -> list[AppendResult]:
    """Append many events at once, all or nothing: a cooperative logging for its member households.

    Every row is checked even after one fails, so the answer names every bad row
    (``errors.json.events.<index>.<field>``) and nothing is stored. Rows are applied in batch-id
    order, keeping their given order within a batch, so two bulk requests lock batches in the same
    order and cannot deadlock. With an Idempotency-Key, row *i* is stored under ``<key>#<i>``: a
    retry of the same request returns what was stored.
    """
    now = now or utcnow()
    if not items:
        raise InvalidInput.field("events", "give at least one event")
    if len(items) > MAX_BULK_EVENTS:
        raise InvalidInput.field("events", f"at most {MAX_BULK_EVENTS} events in one request")
    # A namespace of its own (no clash with a single event's key) that fits the column.
    prefix = f"bulk:{hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]}#" if idempotency_key else None
    order = sorted(range(len(items)), key=lambda i: items[i]["batch"])
    rows = [
        _Row(
            items[i]["batch"], items[i]["stage"], items[i]["occurred_at"], items[i].get("data") or {},
            items[i].get("site"), items[i].get("amends_seq"), f"{prefix}{i}" if prefix else None,
        )
        for i in order
    ]  # fmt: skip
    outcomes = dict(zip(order, _append_rows(actor, rows, now), strict=True))
    errors: dict[int, dict[str, Any]] = {}
    for index, outcome in outcomes.items():
        if isinstance(outcome, DomainError):
            fields = (outcome.errors or {}).get("json")
            errors[index] = fields if isinstance(fields, dict) and fields else {"batch": [outcome.message]}
    if errors:
        raise InvalidInput(
            f"{len(errors)} of {len(items)} events were refused; nothing was stored.",
            {"json": {"events": {i: errors[i] for i in sorted(errors)}}},
        )
    return [outcome for _, outcome in sorted(outcomes.items()) if isinstance(outcome, AppendResult)]
