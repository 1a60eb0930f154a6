"""Judging a batch: gather the verdict's inputs from the database and hand them to the pure rules.

The inputs are the standards bound to the batch in the edition in force, the inspection results,
and the journey with corrections applied (for pre-harvest intervals). ``rules`` does the judging.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from app import clock
from app.batches import service as batches
from app.batches.journey import build_journey
from app.batches.models import Batch, BatchStandard
from app.catalog.models import Standard
from app.compliance import rules, timing
from app.compliance.models import Inspection
from app.compliance.standards import as_limit, editions_of
from app.db import db

_BINDING_RANK = {"mandatory": 0, "declared": 1, "default": 2}


_LAST_MOMENT = dt.datetime.max.replace(tzinfo=dt.UTC)


@dataclass
class Evaluation:
    batch: Batch
    evaluated_on: dt.date
    # What evaluated_on is: the latest sampling date, else the harvest, production or creation date.
    basis: str
    rows: list[rules.Row]
    overall: rules.Overall
    standards: list[dict[str, Any]]
    pre_harvest: list[timing.IntervalCheck]
    inspections: list[Inspection]
    # The stage journey (corrections applied) the verdict read, for callers that need it too.
    journey: list[Any]


def _local_date(moment: dt.datetime) -> dt.date:
    """The China date of a stored moment; one at the very end of the calendar keeps its own date."""
    try:
        return clock.china_date(moment)
    except OverflowError:
        return moment.date()


def reference_date(batch: Batch, journey: list[Any] | None = None) -> tuple[dt.date, str]:
    """The batch's own date: its harvest (as corrected), else when it was produced, else created."""
    journey = journey if journey is not None else build_journey(batches.events_of(batch), include_system=False)
    harvests = [e for e in journey if e.stage == "harvest"]
    if harvests:
        return _local_date(max(e.occurred_at for e in harvests)), "harvest"
    if batch.produced_at is not None:
        return _local_date(batch.produced_at), "production"
    return _local_date(batch.created_at), "creation"


def bound_limits(batch: Batch, on: dt.date) -> tuple[list[rules.Limit], list[dict[str, Any]]]:
    """The limits binding the batch on ``on``: each bound standard in the edition then in force."""
    bound = list(
        db.session.scalars(
            select(BatchStandard).where(BatchStandard.batch_id == batch.id).options(joinedload(BatchStandard.standard))
        )
    )
    binding_of: dict[str, str] = {}
    owners: dict[str, int | None] = {}
    for bs in bound:
        base = bs.standard.base_code
        owners[base] = bs.standard.owner_org_id
        if base not in binding_of or _BINDING_RANK[bs.source] < _BINDING_RANK[binding_of[base]]:
            binding_of[base] = bs.source
    # Every edition of a bound standard competes, so a batch bound before a new edition was
    # loaded is still judged by the edition in force on its date. (An enterprise standard's
    # editions are its owner's only.)
    candidates = [
        s
        for s in db.session.scalars(
            select(Standard).where(Standard.base_code.in_(binding_of)).options(selectinload(Standard.requirements))
        )
        if s.owner_org_id == owners[s.base_code] and s.applies_to_product(batch.product_key)
    ]
    by_id = {s.id: s for s in candidates}
    choices = timing.choose_editions(editions_of(candidates), on)
    limits: list[rules.Limit] = []
    standards: list[dict[str, Any]] = []
    chosen_standards = []
    for choice in choices:
        std = by_id[choice.chosen.id] if choice.chosen else None
        binding = binding_of[choice.base_code]
        standards.append(
            {
                "base_code": choice.base_code,
                "standard": std.code if std else None,
                "standard_id": std.id if std else None,
                "edition": std.edition if std else None,
                "title_zh": std.title_zh if std else None,
                "mandatory": std.mandatory if std else None,
                "binding": binding,
                "applied": std is not None,
                "note": choice.note,
                "editions": list(choice.considered),
            }
        )
        if std is not None:
            chosen_standards.append((std, binding))
    # Mandatory floor first, then the product's defaults and declared standards, by code.
    chosen_standards.sort(key=lambda sb: (not sb[0].mandatory, sb[0].code))
    for std, binding in chosen_standards:
        for req in std.requirements:
            if timing.requirement_applies(req.scoped_product, std.applies_to, batch.product_key):
                limits.append(as_limit(std, req, binding))
    standards.sort(key=lambda s: (s["mandatory"] is not True, s["base_code"]))
    return limits, standards


def inspections_of(batch: Batch) -> list[Inspection]:
    return list(
        db.session.scalars(
            select(Inspection)
            .where(Inspection.batch_id == batch.id)
            .options(selectinload(Inspection.results))
            .order_by(Inspection.sampled_at, Inspection.id)
        )
    )


def _decimal(text: Any) -> Decimal | None:
    return None if text is None else Decimal(str(text))


def measurements_of(
    inspections: list[Inspection], chained: dict[str | None, dict[str, Any]]
) -> tuple[list[rules.Measurement], list[str]]:
    """The results a verdict may rest on: each report's results as its hash chain holds them.

    The ``inspection_results`` rows are a convenience copy; an UPDATE to them cannot change a
    verdict, because the chained record (which ``verify`` protects) is what is judged. Where the
    copy differs, or a report has no chained record at all, the returned notes say so.
    """
    measurements: list[rules.Measurement] = []
    notes: list[str] = []
    for inspection in inspections:
        record = chained.get(inspection.report_no)
        if record is None:
            notes.append(f"report {inspection.report_no} has no record in the batch's chain; its results are not used")
            continue
        results = record.get("results") or []
        copy = [
            (r.parameter_key, r.unit, rules.format_decimal(r.value), r.not_detected, rules.format_decimal(r.lod))
            for r in inspection.results
        ]
        held = [(c["parameter"], c["unit"], c.get("value"), bool(c.get("not_detected")), c.get("lod")) for c in results]
        if copy != held:
            notes.append(
                f"report {inspection.report_no}: the stored results differ from its chained record; "
                "the chained record is judged"
            )
        for index, c in enumerate(results):
            measurements.append(
                rules.Measurement(
                    parameter=c["parameter"],
                    unit=c["unit"],
                    value=_decimal(c.get("value")),
                    not_detected=bool(c.get("not_detected")),
                    lod=_decimal(c.get("lod")),
                    report_no=inspection.report_no,
                    lab=inspection.lab,
                    sampled_at=inspection.sampled_at,
                    tested_at=inspection.tested_at,
                    result_id=inspection.results[index].id if index < len(inspection.results) else 0,
                )
            )
    return measurements, notes


def pesticide_uses(journey: list[Any]) -> list[timing.PesticideUse]:
    """The pesticides recorded in a journey's planting events, as corrected, with their intervals."""
    uses = []
    for entry in journey:
        if entry.stage != "planting":
            continue
        for item in entry.data.get("inputs") or []:
            if item.get("kind") != "pesticide" or item.get("phi_days") is None:
                continue
            uses.append(
                timing.PesticideUse(
                    name=item["name"],
                    applied_at=dt.datetime.fromisoformat(item["applied_at"]),
                    phi_days=int(item["phi_days"]),
                    planting_seq=entry.seq,
                    registration_no=item.get("registration_no"),
                )
            )
    return uses


def pre_harvest_checks(batch: Batch, journey: list[Any] | None = None) -> list[timing.IntervalCheck]:
    """Pesticides recorded in planting events (as corrected) against the harvest they preceded."""
    journey = journey if journey is not None else build_journey(batches.events_of(batch), include_system=False)
    uses = pesticide_uses(journey)
    harvests = [(e.seq, e.occurred_at) for e in journey if e.stage == "harvest"]
    checks: list[timing.IntervalCheck] = []
    for harvest in harvests:
        for use in uses:
            try:
                checks += timing.check_intervals([use], [harvest])
            except OverflowError:
                # The interval ends past the last representable moment (a date stored before dates
                # were range-checked): a harvest after the application came before it ended.
                if use.applied_at <= harvest[1]:
                    checks.append(timing.IntervalCheck(use, harvest[1], harvest[0], _LAST_MOMENT, True))
    return checks


def evaluate_batch(batch: Batch) -> Evaluation:
    """The batch's clause table and verdict, judged by the editions in force on the sampling date."""
    events = batches.events_of(batch)
    journey = build_journey(events, include_system=False)
    chained = {e.data.get("report_no"): e.data for e in events if e.stage == "inspection"}
    inspections = inspections_of(batch)
    if inspections:
        on, basis = max(_local_date(i.sampled_at) for i in inspections), "sampling"
    else:
        on, basis = reference_date(batch, journey)
    limits, standards = bound_limits(batch, on)
    measurements, discrepancies = measurements_of(inspections, chained)
    rows = rules.evaluate(limits, measurements)
    checks = pre_harvest_checks(batch, journey)
    verdict = rules.overall(rows, sum(1 for c in checks if c.breached))
    verdict.reasons[:0] = discrepancies  # first: an inspector must see these before anything else
    return Evaluation(batch, on, basis, rows, verdict, standards, checks, inspections, journey)
