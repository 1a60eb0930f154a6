"""The append path for stage events and amendments (invariants 1-5), one or two hundred at a time.

Set-based: a request's rows are checked against what a fixed number of queries read
(``_Context``), validated and hashed in one pass, inserted by one pipelined statement, and each
batch's subscribers hear once per request. ``append_event`` is the single endpoint's,
``append_events`` the bulk one's (all or nothing).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import (
    Table,
    and_,
    insert,
    or_,
    select,
    tuple_,
)
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from app import access, clock
from app.auth import Actor
from app.batches import signals
from app.batches.models import Batch, BatchStatus, Event
from app.batches.records import chained_row
from app.batches.stages import check_stage_order, ordered_stages, validate_stage_data
from app.batches.vocabulary import STAGES_WHILE_HELD, SYSTEM_KINDS
from app.catalog.products import PRODUCTS
from app.custody.models import Transfer, TransferStatus
from app.db import db, utcnow
from app.errors import Conflict, DomainError, InvalidInput, NotFound
from app.orgs.models import Site
from app.schemas import MAX_ID


def refuse_if_held(batch: Batch, action: str) -> None:
    """A lot on hold (a failed verdict, app/holds) waits for its disposition: refuse ``action``."""
    if batch.status == BatchStatus.on_hold:
        raise Conflict(
            f"Batch {batch.lot_code} is on hold after a failed verdict; it cannot {action} until a "
            f"disposition is recorded (POST /api/v1/batches/{batch.id}/dispositions).",
            {"json": {"batch": ["on hold until a disposition is recorded"]}},
        )


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


def request_digest(payload: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


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
    values = chained_row(
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
    manager = Event.__mapper__.class_manager
    for values in new:
        # As a query loads a row: the values straight into the instance's dict (no attribute
        # events for each of 15 columns), then persistent in the session with nothing to flush.
        event = manager.new_instance()
        event.__dict__.update(values, id=ids[(values["batch_id"], values["seq"])])
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
