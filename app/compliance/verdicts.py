"""The stored verdict of each batch: judged, with its findings, by the writes that change it, and
read by every page without being written by the read.

The writes that change a verdict, each re-judging in its own transaction:

- a batch created (the standards it is bound to): ``batches.signals.batch_created``;
- a planting, harvest or amendment appended (pre-harvest intervals, the batch's own date):
  ``batches.signals.events_appended``, once per batch and request;
- an inspection recorded: ``inspections.record_inspection`` calls ``refresh`` itself, once the
  report's rows are stored (its chain record alone is not yet the whole report);
- a standard declared: ``batches.signals.standards_bound``;
- the catalog changed: ``catalog.signals.standards_changed`` (a catalog load re-judges every
  batch, an enterprise standard registered the batches bound to its base code).

Each stored verdict names the catalog version (app/catalog/versions.py) it was judged against.
Before judging, the standards the batch is bound to are checked against that version: a limit
changed in the database outside the catalog's service is never judged by. ``refresh`` then keeps
the stored verdict as it is, and a page shows the stored verdict (judged against its version) with
the change named first among its reasons.

A page asks ``current``/``current_many``. The stored verdict is used while its fingerprint still
matches the inputs as they are now; otherwise (no verdict stored yet, in a database older than the
table, or the inputs changed some other way) the verdict is computed in memory for display and
nothing is written: ``flask compliance refresh`` stores it.

Nothing in a verdict depends on the day it is read: pre-harvest intervals are judged against the
recorded harvest, editions and certifications on the batch's own dates, all of them inputs to the
fingerprint. A rule that ever reads today's date must add it to ``fingerprints`` (as the day, or
the date the verdict stops holding), so a stored verdict cannot outlive it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask import Flask
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from app.auth import Actor
from app.batches import signals as batch_signals
from app.batches.chain import CREATED
from app.batches.models import Batch, BatchStandard, Event
from app.batches.vocabulary import EXECUTIVE_STANDARD, REVIEW
from app.catalog import signals as catalog_signals
from app.catalog import versions as catalog_versions
from app.catalog.models import Standard
from app.compliance import presenters, rules
from app.compliance import signals as compliance_signals
from app.compliance.evaluation import Evaluation, evaluate_batch, is_floor_of
from app.compliance.findings import sync_findings
from app.compliance.models import BatchVerdict, Finding, Inspection, InspectionResult
from app.db import db, utcnow
from app.orgs.models import Organization

log = logging.getLogger(__name__)

# Bump when the rules or the shape of ``BatchVerdict.result`` change: every stored verdict is
# then stale, shown as computed until ``flask compliance refresh`` stores it again.
VERDICT_VERSION = 3
# Records that can change a verdict: a spraying and a harvest (pre-harvest intervals, the
# batch's own date), a processing record (it may change the batch's forms), a correction of any,
# and an inspector's review. Inspections are re-judged by record_inspection, a 执行标准 by the
# standards_bound signal.
VERDICT_STAGES = frozenset({"planting", "harvest", "processing", "amendment", REVIEW})
# The chain records a verdict reads: those, the created record (its forms), the 执行标准
# declared (its 备案号) and the inspection reports it judges.
_FINGERPRINTED_KINDS = VERDICT_STAGES | {"inspection", CREATED, EXECUTIVE_STANDARD}
# Ids per IN (...) list: well inside every database's limit on bound parameters.
_CHUNK = 500


@dataclass(frozen=True)
class Verdict:
    """A batch's verdict as a page shows it (``presenters.verdict_result``'s shape)."""

    batch: Batch
    result: dict[str, Any]
    fingerprint: str
    # False when computed in memory for display: none stored yet, or the stored one is stale.
    stored: bool
    # How the catalog differs from its latest version, among the standards the batch is bound to.
    catalog_problems: tuple[str, ...] = ()

    @property
    def verdict(self) -> str:
        return str(self.result["verdict"])

    @property
    def reference(self) -> tuple[dt.date, str]:
        """The batch's own date (harvest, production or creation), on which certifications are judged."""
        return dt.date.fromisoformat(self.result["reference_date"]), str(self.result["reference_basis"])


def _chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def _iso(moment: dt.datetime | dt.date | None) -> str | None:
    # A moment in UTC: one spelling whether it was just given (+08:00) or read back (UTC).
    if isinstance(moment, dt.datetime):
        with contextlib.suppress(OverflowError, ValueError):  # at the very ends of the calendar: as it is
            moment = moment.astimezone(dt.UTC)
    return moment.isoformat() if moment is not None else None


def _number(value: Decimal | None) -> str | None:
    # One spelling however the value was last seen: as set in Python (150) or read back (150.000000).
    return rules.format_decimal(value)


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()


def _standard_digests(
    base_codes: set[str], products: set[str]
) -> tuple[dict[str, list[tuple[int, str]]], dict[str, set[str]]]:
    """Per base code, each edition's id and a digest of everything a verdict reads of it; and per
    product, the base codes of its mandatory floor (evaluation.is_floor_of)."""
    # One query with the requirements joined, the mandatory standards with the bound ones: a page
    # reads this on every view.
    standards = list(
        db.session.scalars(
            select(Standard)
            .where(or_(Standard.base_code.in_(base_codes), Standard.mandatory.is_(True)))
            .options(joinedload(Standard.requirements))
        ).unique()
    )
    floors = {p: {s.base_code for s in standards if is_floor_of(s, p)} for p in products}
    wanted = base_codes.union(*floors.values())
    standards = [s for s in standards if s.base_code in wanted]
    successors = {s.superseded_by for s in standards if s.superseded_by}
    successor_effective = (
        {code: _iso(on) for code, on in db.session.execute(
            select(Standard.code, Standard.effective).where(Standard.code.in_(successors))
        )}
        if successors
        else {}
    )  # fmt: skip
    by_base: dict[str, list[tuple[int, str]]] = {}
    for s in standards:
        content = {
            "standard": [s.id, s.code, s.edition, _iso(s.effective), s.superseded_by, s.mandatory, s.status,
                         s.title_zh, s.applies_to, s.owner_org_id, successor_effective.get(s.superseded_by or "")],
            # Every column that says what a limit binds and how it is judged, whether or not the
            # rules read it yet: a catalog correction to any of them re-judges the batch.
            "requirements": [
                [r.id, r.position, r.parameter_key, r.parameter_zh, r.parameter_en, r.unit, r.comparator,
                 _number(r.limit_value), r.limit_text, r.scope, r.product_key, r.forms, r.basis, r.grading,
                 r.temporary_mrl, _number(r.not_detected_below), r.clause, r.verified]
                for r in s.requirements
            ],
        }  # fmt: skip
        by_base.setdefault(s.base_code, []).append((s.id, _digest(content)))
    return by_base, floors


def bound_codes(batch_ids: Sequence[int]) -> dict[int, set[str]]:
    """Per batch, every edition's code of the standards it is bound to (what its verdict reads)."""
    edition = db.aliased(Standard)
    found: dict[int, set[str]] = {i: set() for i in batch_ids}
    for chunk in _chunks(sorted(found)):
        for batch_id, code in db.session.execute(
            select(BatchStandard.batch_id, edition.code)
            .join(Standard, Standard.id == BatchStandard.standard_id)
            .join(edition, edition.base_code == Standard.base_code)
            .where(BatchStandard.batch_id.in_(chunk))
        ):
            found[batch_id].add(code)
    return found


def _with_catalog_problems(result: dict[str, Any], problems: Sequence[str], version: int | None) -> dict[str, Any]:
    """The verdict as shown while the catalog differs from its version: the change named first."""
    judged = f"the verdict shown was judged against catalog version {version}" if version else "no verdict is stored"
    notes = [f"catalog changed outside a catalog load: {p}" for p in problems]
    return {**result, "reasons": [*notes, judged, *result["reasons"]]}


def fingerprints(batches: Sequence[Batch]) -> dict[int, str]:
    """The fingerprint of each batch's verdict inputs as they are stored now (a few queries for all).

    The inputs: the batch's product and dates; the chain records the verdict reads (plantings,
    harvests, amendments and inspection reports, as stored); the inspections' result rows (a
    verdict notes where they differ from the chain); the standards bound and how; and every
    edition of those standards in the catalog, with its requirements. A change to any of them
    gives a new fingerprint.
    """
    inputs: dict[int, dict[str, Any]] = {
        b.id: {
            "version": VERDICT_VERSION,
            "product": b.product_key,
            "produced_at": _iso(b.produced_at),
            "created_at": _iso(b.created_at),
            "events": [],
            "inspections": [],
            "bound": [],
        }
        for b in batches
    }
    ids = sorted(inputs)
    bound_bases: dict[int, set[str]] = {i: set() for i in ids}
    for chunk in _chunks(ids):
        for row in db.session.execute(
            select(Event.batch_id, Event.seq, Event.stage, Event.occurred_at, Event.amends_seq, Event.data, Event.hash)
            .where(Event.batch_id.in_(chunk), Event.stage.in_(_FINGERPRINTED_KINDS))
            .order_by(Event.batch_id, Event.seq)
        ):
            inputs[row.batch_id]["events"].append(
                [row.seq, row.stage, _iso(row.occurred_at), row.amends_seq, row.data, row.hash]
            )
        for row in db.session.execute(
            select(
                Inspection.batch_id,
                Inspection.id,
                Inspection.report_no,
                Inspection.lab,
                Inspection.sampled_at,
                Inspection.tested_at,
                Inspection.type,
                Inspection.lab_org_id,
                Inspection.retest_of_id,
                Inspection.notified_at,
                Inspection.retest_deadline,
                Inspection.warnings,
                Organization.name.label("lab_name"),
                Organization.cma_no,
                Organization.cma_valid_from,
                Organization.cma_valid_to,
                Organization.cma_parameters,
                InspectionResult.id.label("result_id"),
                InspectionResult.parameter_key,
                InspectionResult.value,
                InspectionResult.unit,
                InspectionResult.not_detected,
                InspectionResult.lod,
                InspectionResult.basis,
                InspectionResult.below_loq,
                InspectionResult.loq,
            )
            .outerjoin(InspectionResult, InspectionResult.inspection_id == Inspection.id)
            .outerjoin(Organization, Organization.id == Inspection.lab_org_id)
            .where(Inspection.batch_id.in_(chunk))
            .order_by(Inspection.batch_id, Inspection.id, InspectionResult.id)
        ):
            inputs[row.batch_id]["inspections"].append(
                [row.id, row.report_no, row.lab, _iso(row.sampled_at), _iso(row.tested_at), row.result_id,
                 row.parameter_key, _number(row.value), row.unit, row.not_detected, _number(row.lod),
                 row.basis, row.below_loq, _number(row.loq),
                 # The report's type and 复检 links, and its lab's CMA as it is now (the flags).
                 row.type, row.lab_org_id, row.retest_of_id, _iso(row.notified_at), _iso(row.retest_deadline),
                 row.warnings, row.lab_name, row.cma_no, _iso(row.cma_valid_from), _iso(row.cma_valid_to),
                 row.cma_parameters]
            )  # fmt: skip
        for row in db.session.execute(
            select(BatchStandard.batch_id, BatchStandard.standard_id, BatchStandard.source, Standard.base_code)
            .join(Standard, Standard.id == BatchStandard.standard_id)
            .where(BatchStandard.batch_id.in_(chunk))
            .order_by(BatchStandard.batch_id, BatchStandard.standard_id)
        ):
            inputs[row.batch_id]["bound"].append([row.standard_id, row.source])
            bound_bases[row.batch_id].add(row.base_code)
    catalog, floors = _standard_digests(
        set().union(*bound_bases.values()) if bound_bases else set(), {b.product_key for b in batches}
    )
    for b in batches:
        # The mandatory floor binds from the catalog as it is now, bound at creation or not.
        bases = bound_bases[b.id] | floors.get(b.product_key, set())
        inputs[b.id]["catalog"] = sorted(entry for base in bases for entry in catalog.get(base, []))
    return {batch_id: _digest(value) for batch_id, value in inputs.items()}


def _store(
    batch: Batch, result: dict[str, Any], fingerprint: str, now: dt.datetime, catalog_version: int | None
) -> BatchVerdict:
    values = {
        "verdict": result["verdict"],
        "result": result,
        "fingerprint": fingerprint,
        "computed_at": now,
        "catalog_version": catalog_version,
    }
    row = db.session.get(BatchVerdict, batch.id)
    if row is None:
        try:
            # Writers of one batch mostly hold its row lock; one that does not (a standard declared
            # while a report is recorded) may insert the first verdict concurrently: the key settles it.
            with db.session.begin_nested():
                row = BatchVerdict(batch_id=batch.id, **values)
                db.session.add(row)
                db.session.flush()
            return row
        except IntegrityError:
            row = db.session.get(BatchVerdict, batch.id, populate_existing=True)
            assert row is not None
    for name, value in values.items():
        setattr(row, name, value)
    db.session.flush()
    return row


def refresh(
    batch: Batch,
    actor: Actor | None = None,
    now: dt.datetime | None = None,
    checker: catalog_versions.Checker | None = None,
) -> tuple[Evaluation, list[Finding]]:
    """Judge the batch, open the findings the verdict calls for and store it; in the caller's transaction.

    Against a catalog that differs from its latest version (for the batch's standards) nothing is
    stored or opened: the verdict judged against the version stays, and pages say why.
    """
    now = now or utcnow()
    db.session.flush()  # the fingerprint below reads the inputs as this transaction holds them
    checker = checker or catalog_versions.Checker()
    evaluation = evaluate_batch(batch)
    problems = checker.problems(bound_codes([batch.id])[batch.id])
    if problems:
        log.warning("verdict of %s not stored: %s", batch.lot_code, "; ".join(problems))
        return evaluation, []
    opened = sync_findings(evaluation, actor, now)
    version = checker.version.number if checker.version is not None else None
    result = presenters.verdict_result(evaluation)
    _store(batch, result, fingerprints([batch])[batch.id], now, version)
    compliance_signals.verdict_stored.send(
        batch_signals.sender(),
        batch=batch,
        verdict=result["verdict"],
        result=result,
        actor=actor,
        now=now,
    )
    return evaluation, opened


def current_many(batches: Sequence[Batch]) -> dict[int, Verdict]:
    """Each batch's verdict for display: the stored one while it holds, else one computed now (not stored)."""
    prints = fingerprints(batches)
    ids = sorted(prints)
    stored: dict[int, BatchVerdict] = {}
    for chunk in _chunks(ids):
        query = select(BatchVerdict).where(BatchVerdict.batch_id.in_(chunk))
        stored.update((v.batch_id, v) for v in db.session.scalars(query))
    out: dict[int, Verdict] = {}
    stale = [b.id for b in batches if (row := stored.get(b.id)) is None or row.fingerprint != prints[b.id]]
    # Only a verdict whose inputs changed can have met a changed catalog: check those alone.
    codes = bound_codes(stale) if stale else {}
    checker = catalog_versions.Checker() if stale else None
    for batch in batches:
        row = stored.get(batch.id)
        if row is not None and row.fingerprint == prints[batch.id]:
            out[batch.id] = Verdict(batch, row.result, row.fingerprint, stored=True)
            continue
        assert checker is not None
        problems = tuple(checker.problems(codes[batch.id]))
        if problems and row is not None:
            # Never judged afresh by a limit changed in place: the verdict of the version stands.
            shown = _with_catalog_problems(row.result, problems, row.catalog_version)
            out[batch.id] = Verdict(batch, shown, row.fingerprint, stored=True, catalog_problems=problems)
            continue
        result = presenters.verdict_result(evaluate_batch(batch))
        if problems:
            result = _with_catalog_problems(result, problems, None)
        out[batch.id] = Verdict(batch, result, prints[batch.id], stored=False, catalog_problems=problems)
    return out


def current(batch: Batch) -> Verdict:
    """The batch's verdict for display (see ``current_many``); never writes."""
    return current_many([batch])[batch.id]


@dataclass(frozen=True)
class RefreshReport:
    checked: int
    stored: int


def refresh_batches(
    batch_ids: Iterable[int] | None = None, *, stale_only: bool = False, now: dt.datetime | None = None
) -> RefreshReport:
    """Re-judge and store the verdicts of the given batches (all when None); findings follow.

    ``stale_only`` leaves a stored verdict whose fingerprint still matches as it is.
    """
    now = now or utcnow()
    checker = catalog_versions.Checker()  # the latest version, read once for every batch
    everyone = batch_ids is None
    ids = list(db.session.scalars(select(Batch.id).order_by(Batch.id))) if everyone else sorted(set(batch_ids or ()))
    stored = 0
    for chunk in _chunks(ids):
        batches = list(db.session.scalars(select(Batch).where(Batch.id.in_(chunk)).order_by(Batch.id)))
        if stale_only:
            prints = fingerprints(batches)
            held = {
                row.batch_id: row.fingerprint
                for row in db.session.execute(
                    select(BatchVerdict.batch_id, BatchVerdict.fingerprint).where(BatchVerdict.batch_id.in_(chunk))
                )
            }
            batches = [b for b in batches if held.get(b.id) != prints[b.id]]
        for batch in batches:
            refresh(batch, None, now, checker)
            stored += 1
    return RefreshReport(checked=len(ids), stored=stored)


def bound_to(base_codes: set[str]) -> list[int]:
    """The batches bound to any edition of these standards."""
    if not base_codes:
        return []
    return list(
        db.session.scalars(
            select(BatchStandard.batch_id)
            .join(Standard, Standard.id == BatchStandard.standard_id)
            .where(Standard.base_code.in_(base_codes))
            .distinct()
        )
    )


# --- the subscriptions -----------------------------------------------------------------------------


def _on_batch_created(_app: Flask, *, batch: Batch, actor: Actor, now: dt.datetime) -> None:
    refresh(batch, actor, now)


def _on_event_appended(_app: Flask, *, batch: Batch, event: Event, actor: Actor, now: dt.datetime) -> None:
    # A harvest inside a pesticide's pre-harvest interval is a finding the moment it is recorded,
    # not when someone next reads the batch.
    if event.stage in VERDICT_STAGES:
        refresh(batch, actor, now)


def _on_events_appended(_app: Flask, *, batch: Batch, events: Sequence[Event], actor: Actor, now: dt.datetime) -> None:
    # A request's events for one batch are judged once, with all of them in place.
    if any(event.stage in VERDICT_STAGES for event in events):
        refresh(batch, actor, now)


def _on_standards_bound(_app: Flask, *, batch: Batch, actor: Actor, now: dt.datetime) -> None:
    refresh(batch, actor, now)


def _on_standards_changed(_app: Flask, *, base_codes: set[str] | None) -> None:
    # A catalog load may change any edition, and the parameter names shown beside a clause:
    # every batch is re-judged. An enterprise standard registered re-judges the batches its base
    # code binds (a new edition competes with the one they were judged by).
    refresh_batches(None if base_codes is None else bound_to(base_codes))


def connect_signals(app: Flask) -> None:
    """Subscribe this app's compliance to the records that change a verdict."""
    batch_signals.batch_created.connect(_on_batch_created, sender=app)
    batch_signals.event_appended.connect(_on_event_appended, sender=app)
    batch_signals.events_appended.connect(_on_events_appended, sender=app)
    batch_signals.standards_bound.connect(_on_standards_bound, sender=app)
    catalog_signals.standards_changed.connect(_on_standards_changed, sender=app)
