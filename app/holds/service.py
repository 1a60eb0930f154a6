"""Held lots and what is done with them (不合格处置).

- **A failed verdict holds the lot.** When compliance stores a ``fail`` for a batch (an
  inspection recorded, a harvest inside a pre-harvest interval, a declared standard), the batch
  and every active lot made from it, however far downstream, go ``on_hold``; each gets a chained
  ``hold`` record naming the failed lot and what failed (each item's value and limit, each
  pre-harvest breach). A held lot records storage
  only: other stages, amendments, transfers, splits, merges, transformations and sales are
  refused with 409 and the reason (app/batches/service.py ``refuse_if_held``).
- A verdict stored with nobody acting (a catalog load, ``flask compliance refresh``) holds
  nothing by itself: a hold is a chained act, and the chain names who acted. Those commands say
  how many failed lots are not on hold, and ``flask holds sweep --as INSPECTOR`` holds them
  (``unheld_failures``, ``sweep``).
- **Dispositions** are recorded by an inspector or administrator, on the failed lot, and apply to
  it and to every lot held because of it: destroyed or made harmless (with evidence), returned,
  relabelled (each closes the lot: ``disposed``), recalled (opens the recall, linked; the lots
  become ``recalled``), or released, which is refused while the lot's verdict is still ``fail``
  (a re-test that passes must come first). Every step enters each lot's chain, with who and when.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from sqlalchemy import select

from app import access
from app.auth import Actor
from app.batches import service as batches
from app.batches.models import Batch, BatchStatus, Event
from app.db import db, utcnow
from app.errors import Conflict, InvalidInput
from app.i18n import N_
from app.lineage import trace as tracing
from app.recalls import service as recalls
from app.recalls.models import Recall

FAIL = "fail"

# Each disposition and its name (a Chinese source string).
DISPOSITIONS: dict[str, str] = {
    "destroyed": N_("销毁"),
    "made_harmless": N_("无害化处理"),
    "returned": N_("退回"),
    "relabelled": N_("改换标签（改作他用）"),
    "recalled": N_("召回"),
    "released": N_("复检合格，解除暂停"),
}
# These must say what proves it was done (a destruction record, a photograph's reference...).
NEEDS_EVIDENCE = frozenset({"destroyed", "made_harmless"})
# What each disposition leaves the lots as (a recall sets ``recalled`` itself).
STATUS_AFTER: dict[str, str] = {
    "destroyed": BatchStatus.disposed,
    "made_harmless": BatchStatus.disposed,
    "returned": BatchStatus.disposed,
    "relabelled": BatchStatus.disposed,
    "released": BatchStatus.active,
}
# The lots a failed verdict may still stop: not one already held, recalled or closed.
_HOLDABLE = (BatchStatus.active,)


def _lock(ids: list[int]) -> list[Batch]:
    """Row-lock the lots in id order (the order every writer uses)."""
    if not ids:
        return []
    return list(
        db.session.scalars(
            select(Batch)
            .where(Batch.id.in_(sorted(set(ids))))
            .order_by(Batch.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )


def failures(result: dict[str, Any]) -> list[dict[str, Any]]:
    """What failed, as a hold record keeps it: each failed item with its value and limit, each breach."""
    out: list[dict[str, Any]] = []
    for row in result.get("rows") or []:
        if row.get("verdict") != FAIL:
            continue
        out.append(
            {
                "parameter": row.get("parameter"),
                "name": row.get("parameter_zh") or row.get("parameter"),
                "name_en": row.get("parameter_en"),
                "value": row.get("value"),
                "unit": row.get("value_unit"),
                "comparator": row.get("comparator"),
                "limit": row.get("limit"),
                "limit_unit": row.get("unit"),
                "standard": row.get("standard"),
            }
        )
    for check in result.get("pre_harvest") or []:
        if check.get("breached"):
            out.append({"pesticide": check.get("pesticide"), "days_short": check.get("days_short")})
    return out[:20]


def place_hold(root: Batch, failed: list[dict[str, Any]], actor: Actor, now: dt.datetime) -> list[Batch]:
    """Hold ``root`` (locked by the caller) and every active lot downstream of it; return those held."""
    graph = tracing.trace(root.id, "downstream", tracing.MAX_TRACE_DEPTH)
    depths = {n.id: n.depth for n in graph.nodes}
    others = [i for i in depths if i != root.id]
    lots = ([root] if root.status in _HOLDABLE else []) + [b for b in _lock(others) if b.status in _HOLDABLE]
    for lot in lots:
        lot.status = BatchStatus.on_hold
        batches.append_system_event(
            lot,
            actor,
            "hold",
            {"cause": root.lot_code, "depth": depths.get(lot.id, 0), "failed": failed},
            occurred_at=now,
            now=now,
            flush=False,
        )
    db.session.flush()
    return lots


def on_verdict_stored(
    _app: Flask, *, batch: Batch, verdict: str, result: dict[str, Any], actor: Actor | None, now: dt.datetime
) -> None:
    """Compliance stored a verdict: a ``fail`` with someone acting holds the lot and its descendants."""
    if verdict != FAIL or actor is None:
        return
    # A lot wholly split into others (consumed) is not held itself, but what was made from it is.
    if batch.status not in (BatchStatus.active, BatchStatus.consumed):
        return
    place_hold(batch, failures(result), actor, now)


def unheld_failures() -> list[Batch]:
    """Active lots whose stored verdict is ``fail``: what a verdict stored with nobody acting left."""
    from app.compliance.models import BatchVerdict  # the stored verdict is compliance's table

    return list(
        db.session.scalars(
            select(Batch)
            .join(BatchVerdict, BatchVerdict.batch_id == Batch.id)
            .where(BatchVerdict.verdict == FAIL, Batch.status.in_([BatchStatus.active, BatchStatus.consumed]))
            .order_by(Batch.id)
        )
    )


def sweep(actor: Actor, now: dt.datetime | None = None) -> list[Batch]:
    """Hold every failed lot not yet on hold (and its descendants), as ``actor``; return those held."""
    from app.compliance import verdicts

    now = now or utcnow()
    held: list[Batch] = []
    for candidate in unheld_failures():
        lot = batches.lock_batch(candidate.id)
        verdict = verdicts.current(lot)
        if verdict.verdict == FAIL and lot.status in (BatchStatus.active, BatchStatus.consumed):
            held += place_hold(lot, failures(verdict.result), actor, now)
    return held


def _held_because_of(root: Batch) -> list[Batch]:
    """The lots on hold whose latest hold record names ``root`` as its cause, root first, locked."""
    graph = tracing.trace(root.id, "downstream", tracing.MAX_TRACE_DEPTH)
    ids = [n.id for n in graph.nodes if n.id != root.id]
    held = [b for b in _lock(ids) if b.status == BatchStatus.on_hold]
    latest: dict[int, Event] = {}
    if held:
        for event in db.session.scalars(
            select(Event).where(Event.batch_id.in_([b.id for b in held]), Event.stage == "hold").order_by(Event.seq)
        ):
            latest[event.batch_id] = event
    return [root] + [b for b in held if b.id in latest and latest[b.id].data.get("cause") == root.lot_code]


@dataclass
class DispositionResult:
    batch: Batch
    kind: str
    note: str
    evidence: str | None
    recorded_at: dt.datetime
    lots: list[Batch] = field(default_factory=list)
    recall: Recall | None = None


def record_disposition(
    actor: Actor,
    batch_id: int,
    *,
    kind: str,
    note: str,
    evidence: str | None = None,
    severity: str | None = None,
    now: dt.datetime | None = None,
) -> DispositionResult:
    """Record what was done with a held lot; it applies to every lot held because of it."""
    from app.compliance import verdicts  # compliance stores the verdict a release depends on

    now = now or utcnow()
    readable = access.get_readable_batch(actor, batch_id)
    access.require_disposer(actor, readable)
    note = (note or "").strip()
    evidence = (evidence or "").strip() or None
    if kind not in DISPOSITIONS:
        raise InvalidInput.field("kind", f"must be one of {', '.join(DISPOSITIONS)}")
    if not note:
        raise InvalidInput.field("note", "say what was done, by whom and where")
    if kind in NEEDS_EVIDENCE and evidence is None:
        raise InvalidInput.field("evidence", f"a {kind} disposition names its evidence (a record number, a document)")
    if kind == "recalled" and severity not in recalls.SEVERITIES:
        raise InvalidInput.field("severity", f"a recall needs its level: one of {', '.join(recalls.SEVERITIES)}")
    root = batches.lock_batch(readable.id)
    if root.status != BatchStatus.on_hold:
        raise Conflict(
            f"Batch {root.lot_code} is {root.status}, not on hold; only a held lot takes a disposition.",
            {"json": {"batch": [f"is {root.status}, not on hold"]}},
        )
    if kind == "released" and verdicts.current(root).verdict == FAIL:
        raise Conflict(
            f"Batch {root.lot_code} still fails; a re-test (复检) that passes must be recorded before it is released.",
            {"json": {"kind": ["the lot's verdict is still fail"]}},
        )
    lots = _held_because_of(root)
    recall = None
    if kind == "recalled":
        recall = recalls.open_recall(actor, batch_id=root.id, reason=note, severity=severity or "", now=now)
    data: dict[str, Any] = {"kind": kind, "note": note, "root": root.lot_code}
    if evidence is not None:
        data["evidence"] = evidence
    if recall is not None:
        data["recall"] = recall.id
    for lot in lots:
        if kind in STATUS_AFTER:
            lot.status = STATUS_AFTER[kind]
        batches.append_system_event(lot, actor, "disposition", data, occurred_at=now, now=now, flush=False)
    db.session.flush()
    return DispositionResult(root, kind, note, evidence, now, lots, recall)
