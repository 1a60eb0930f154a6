"""Writing records into batches' chains: every write is hashed here, by ``chained_row``.

``append_record`` chains one record (a system fact, or a batch's created record), ``chain_records``
one record onto each of thousands of locked batches at once (a recall and its closing), and the
bulk helpers (``insert_rows``, ``update_rows``) move many rows in one statement. The pure parts
are apart (chain.py); the append path for stage events is capture.py.

Services receive the actor and the clock, flush, and never commit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import (
    Table,
    bindparam,
    func,
    insert,
    update,
)
from sqlalchemy.dialects import postgresql as pg

from app.auth import Actor
from app.batches import chain, signals
from app.batches.models import Batch, Event
from app.batches.vocabulary import SYSTEM_KINDS
from app.db import db, utcnow
from app.errors import InvalidInput


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


def chained_row(
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


def append_record(
    batch: Batch,
    actor: Actor,
    *,
    stage: str,
    occurred_at: dt.datetime,
    data: dict[str, Any],
    now: dt.datetime,
    flush: bool = True,
) -> Event:
    """Chain one record onto a locked batch and announce it (``chained_row``, then insert it).

    ``flush=False`` leaves the flush to a caller chaining many batches at once: the inserts then go
    out together.
    """
    event = Event(**chained_row(batch, actor, stage=stage, occurred_at=occurred_at, data=data, now=now))
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
    return append_record(batch, actor, stage=kind, occurred_at=occurred_at or now, data=data, now=now, flush=flush)


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
