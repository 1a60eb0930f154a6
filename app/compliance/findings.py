"""Findings: what a verdict or a pre-harvest check opens, the custodian's corrective action, the
inspector's closing. Every step keeps who, which organization and when.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app import access
from app.auth import Actor
from app.batches.models import Batch
from app.compliance import rules
from app.compliance.evaluation import Evaluation
from app.compliance.models import Finding, FindingStep
from app.compliance.presenters import finding_views, interval_view
from app.db import db, utcnow
from app.errors import Conflict
from app.schemas import Page

FINDING_KINDS = ("failed_verdict", "pre_harvest_interval", "lab_test_needed")
FINDING_STATUSES = ("open", "action_recorded", "closed")


def _step(finding: Finding, action: str, actor: Actor | None, note: str | None, now: dt.datetime) -> FindingStep:
    step = FindingStep(
        finding=finding,
        action=action,
        note=note,
        user_id=actor.user.id if actor else None,
        org_id=actor.org.id if actor else None,
        at=now,
    )
    db.session.add(step)
    return step


def _open_finding(
    batch: Batch, kind: str, subject: str, detail: dict[str, Any], evidence: str, actor: Actor | None,
    now: dt.datetime,
) -> Finding | None:  # fmt: skip
    """Open a finding once per (batch, kind, subject); reopen a closed one only on new evidence."""
    subject = subject[:200]
    found = db.session.scalar(
        select(Finding).where(Finding.batch_id == batch.id, Finding.kind == kind, Finding.subject == subject)
    )
    if found is None:
        finding = Finding(
            batch_id=batch.id,
            kind=kind,
            subject=subject,
            detail={**detail, "evidence": [evidence]},
            status="open",
            opened_at=now,
        )
        try:
            # A concurrent reader may open the same finding first; the unique key settles it.
            with db.session.begin_nested():
                db.session.add(finding)
                db.session.flush()
                _step(finding, "opened", actor, None, now)
                db.session.flush()
        except IntegrityError:
            return None
        return finding
    if found.status == "closed" and evidence not in found.detail.get("evidence", []):
        found.detail = {**detail, "evidence": [*found.detail.get("evidence", []), evidence]}
        found.status = "open"
        _step(found, "reopened", actor, f"new evidence: {evidence}", now)
        db.session.flush()
        return found
    return None


def row_detail(row: rules.Row) -> dict[str, Any]:
    limit = row.limit
    m = row.measurement
    return {
        "parameter": row.parameter,
        "parameter_zh": limit.parameter_zh if limit else None,
        "parameter_en": limit.parameter_en if limit else None,
        "standard": limit.standard if limit else None,
        "clause": limit.clause if limit else None,
        "comparator": limit.comparator if limit else None,
        "limit": rules.format_decimal(limit.limit_value) if limit else None,
        "unit": limit.unit if limit else None,
        "provisional": row.provisional,
        "value": rules.format_decimal(row.value),
        "value_unit": row.value_unit,
        "report_no": m.report_no if m else None,
    }


def sync_findings(evaluation: Evaluation, actor: Actor | None = None, now: dt.datetime | None = None) -> list[Finding]:
    """Open (idempotently) a finding for each failed parameter and each pre-harvest breach."""
    now = now or utcnow()
    batch = evaluation.batch
    opened = []
    failed: dict[str, rules.Row] = {}
    for row in evaluation.rows:
        if row.verdict == rules.FAIL and (row.parameter not in failed or row.governing):
            failed[row.parameter] = row
    for parameter, row in failed.items():
        evidence = row.measurement.report_no if row.measurement and row.measurement.report_no else parameter
        f = _open_finding(batch, "failed_verdict", parameter, row_detail(row), evidence, actor, now)
        if f is not None:
            opened.append(f)
    for report_no, parameter in evaluation.rapid_positives:
        # A positive 快检 is screening, not a result: it asks for a laboratory test of the parameter.
        detail = {"parameter": parameter, "report_no": report_no}
        f = _open_finding(batch, "lab_test_needed", parameter, detail, report_no, actor, now)
        if f is not None:
            opened.append(f)
    for check in evaluation.pre_harvest:
        if not check.breached:
            continue
        subject = f"planting#{check.use.planting_seq}:{check.use.name}:harvest#{check.harvest_seq}"
        f = _open_finding(batch, "pre_harvest_interval", subject, interval_view(check), subject, actor, now)
        if f is not None:
            opened.append(f)
    return opened


def record_action(actor: Actor, finding_id: int, note: str, now: dt.datetime | None = None) -> Finding:
    """The batch's custodian records what it did about a finding."""
    now = now or utcnow()
    # A finding on a batch the caller may not read is missing to it, exactly as a missing one is.
    finding = access.get_readable_finding(actor, finding_id)
    access.require_finding_actor(actor, db.session.get_one(Batch, finding.batch_id))
    if finding.status == "closed":
        raise Conflict(f"Finding {finding.id} is closed.")
    _step(finding, "action", actor, note.strip(), now)
    finding.status = "action_recorded"
    db.session.flush()
    return finding


def close_finding(actor: Actor, finding_id: int, note: str, now: dt.datetime | None = None) -> Finding:
    """An inspector verifies the corrective action and closes the finding."""
    now = now or utcnow()
    access.require_finding_closer(actor)
    finding = access.get_readable_finding(actor, finding_id)
    if finding.status == "closed":
        raise Conflict(f"Finding {finding.id} is already closed.")
    if finding.status != "action_recorded":
        raise Conflict(f"Finding {finding.id} has no corrective action recorded since it was opened; it cannot close.")
    _step(finding, "closed", actor, note.strip(), now)
    finding.status = "closed"
    db.session.flush()
    return finding


def list_findings(actor: Actor, status: str | None = None, batch_id: int | None = None) -> Page:
    """The findings of the batches ``actor`` may read, newest first, with every step: a fixed number
    of queries however many findings (the findings, their steps, and the names the steps show)."""
    query = select(Finding).options(selectinload(Finding.steps)).order_by(Finding.opened_at.desc(), Finding.id.desc())
    if status:
        query = query.where(Finding.status == status)
    if batch_id is not None:
        query = query.where(Finding.batch_id == batch_id)
    clause = access.readable_findings(actor)
    if clause is not None:
        query = query.where(clause)
    return Page.whole(finding_views(db.session.scalars(query).all()))


def findings_of(batch: Batch) -> list[Finding]:
    return list(
        db.session.scalars(
            select(Finding)
            .where(Finding.batch_id == batch.id)
            .options(selectinload(Finding.steps))
            .order_by(Finding.opened_at, Finding.id)
        )
    )
