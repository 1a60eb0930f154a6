"""Inspectors' decisions on results awaiting review (待判定): a residue or contaminant detected with
no limit on record.

A decision names the parameter (or the clause-table row it sits on), pass or fail, and its basis
(the official text relied on). It is a ``review`` record in the batch's chain, so it survives an
audit like any other record, and the batch is judged again in the same transaction. It decides
the row of that parameter from that test report: a later report that detects it again awaits a
decision of its own.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from app import access
from app.auth import Actor
from app.batches import service as batches
from app.batches.vocabulary import REVIEW
from app.compliance import rules, verdicts
from app.compliance.evaluation import evaluate_batch
from app.db import utcnow
from app.errors import InvalidInput


def record_review(
    actor: Actor,
    batch_id: int,
    *,
    decision: str,
    basis: str,
    parameter: str | None = None,
    row: int | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Record an inspector's decision on a ``needs_review`` row; the verdict is stored again."""
    now = now or utcnow()
    access.require_reviewer(actor)
    batch = access.get_readable_batch(actor, batch_id)
    basis = basis.strip()
    if not basis:
        raise InvalidInput.field("basis", "say what the decision rests on (e.g. the official text relied on)")
    if decision not in rules.REVIEW_DECISIONS:
        raise InvalidInput.field("decision", f"must be one of {', '.join(rules.REVIEW_DECISIONS)}")
    if (parameter is None) == (row is None):
        raise InvalidInput.field("parameter", "name the parameter, or the row of the clause table (not both)")
    locked = batches.lock_batch(batch.id)
    rows = evaluate_batch(locked).rows
    waiting = [(i, r) for i, r in enumerate(rows) if r.verdict == rules.NEEDS_REVIEW]
    if row is not None:
        if not 0 <= row < len(rows):
            raise InvalidInput.field("row", f"the clause table has rows 0 to {len(rows) - 1}")
        if rows[row].verdict != rules.NEEDS_REVIEW:
            raise InvalidInput.field(
                "row", f"row {row} ({rows[row].parameter}) is {rows[row].verdict}, not awaiting review"
            )
        target = rows[row]
    else:
        found = [r for _, r in waiting if r.parameter == (parameter or "").strip()]
        if not found:
            names = ", ".join(r.parameter for _, r in waiting) or "none"
            raise InvalidInput.field("parameter", f"no result of {parameter!r} awaits review (awaiting: {names})")
        target = found[0]
    assert target.measurement is not None  # a row awaits review only for a result it holds
    data = {
        "parameter": target.parameter,
        "report_no": target.measurement.report_no,
        "decision": decision,
        "basis": basis,
        "reviewer": actor.user.username,
    }
    # The record re-judges the batch in this transaction (verdicts.VERDICT_STAGES holds it).
    event = batches.append_system_event(locked, actor, REVIEW, data, now=now)
    return {
        "batch_id": locked.id,
        "seq": event.seq,
        **data,
        "recorded_at": event.recorded_at,
        "verdict": verdicts.current(locked).verdict,
    }
