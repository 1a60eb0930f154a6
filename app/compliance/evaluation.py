"""Judging a batch: gather the verdict's inputs from the database and hand them to the pure rules.

The inputs are the standards bound to the batch in the edition in force, the inspection results,
and the journey with corrections applied (for pre-harvest intervals). ``rules`` does the judging.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from app import clock
from app.batches import chain
from app.batches import service as batches
from app.batches.journey import build_journey
from app.batches.models import Batch, BatchStandard, Event
from app.batches.vocabulary import EXECUTIVE_STANDARD, REVIEW
from app.catalog.models import Requirement, Standard
from app.catalog.products import PRODUCTS
from app.compliance import labs, report_types, rules, timing
from app.compliance.models import Inspection
from app.compliance.standards import as_limit, editions_of
from app.db import db

# What binds a batch (判定依据), strongest first: the law's floor, the 执行标准 on its label, and
# standards it declares. A product's default standards are suggestions, never binding.
_BINDING_RANK = {"mandatory": 0, "executive": 1, "declared": 2}
BINDING_SOURCES = tuple(_BINDING_RANK)


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
    # The product forms the batch's chain gives it ([] when not known) and the reviews it holds.
    forms: list[str] = field(default_factory=list)
    reviews: list[rules.Review] = field(default_factory=list)
    executive: dict[str, Any] | None = None
    suggested: list[dict[str, Any]] = field(default_factory=list)
    # Per report id: its flags (labs.flags_for); the 快检 results that were positive; the reports
    # a 复检 replaced (superseded).
    flags: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    rapid_positives: list[tuple[str, str]] = field(default_factory=list)
    superseded: set[int] = field(default_factory=set)


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


def forms_of(events: list[Event], journey: list[Any]) -> list[str]:
    """The batch's product forms as its chain gives them: the latest processing record's
    ``forms`` (as corrected), else the forms its created record named; [] when not known."""
    forms: list[str] = []
    for event in events:
        if event.stage == chain.CREATED and isinstance(event.data.get("forms"), list):
            forms = list(event.data["forms"])
    for entry in sorted((e for e in journey if e.stage == "processing"), key=lambda e: (e.occurred_at, e.seq)):
        if isinstance(entry.data.get("forms"), list) and entry.data["forms"]:
            forms = list(entry.data["forms"])
    return forms


def _bindings(batch: Batch) -> tuple[dict[str, str], dict[str, int | None]]:
    """Base code -> why it binds (mandatory, executive, declared), and each base code's owner."""
    binding_of: dict[str, str] = {}
    owners: dict[str, int | None] = {}
    for std in applicable_mandatory_all(batch.product_key):
        binding_of[std.base_code] = "mandatory"
        owners[std.base_code] = std.owner_org_id
    bound = db.session.scalars(
        select(BatchStandard).where(BatchStandard.batch_id == batch.id).options(joinedload(BatchStandard.standard))
    )
    for bs in bound:
        if bs.source not in _BINDING_RANK:
            continue  # a product default bound by an older release: a suggestion now
        base = bs.standard.base_code
        owners.setdefault(base, bs.standard.owner_org_id)
        if base not in binding_of or _BINDING_RANK[bs.source] < _BINDING_RANK[binding_of[base]]:
            binding_of[base] = bs.source
    return binding_of, owners


def is_floor_of(std: Standard, product_key: str) -> bool:
    """Whether a standard is of the product's mandatory floor (whatever its status, which decides
    whether it binds; the compliance view shows an uncertain one)."""
    spec = PRODUCTS.get(product_key)
    return std.mandatory and std.applies_to_product(product_key) and std.code not in (spec.not_bound if spec else {})


def applicable_mandatory_all(product_key: str) -> list[Standard]:
    """Every edition of the mandatory standards for the product, whatever its status."""
    return [
        s
        for s in db.session.scalars(select(Standard).where(Standard.mandatory.is_(True)).order_by(Standard.code))
        if is_floor_of(s, product_key)
    ]


@dataclass
class Binding:
    """What binds a batch: per day asked, the limits in force; the edition choices of the last day."""

    limits_on: dict[dt.date, list[rules.Limit]]
    standards: list[dict[str, Any]]


def binding_limits(batch: Batch, days: list[dt.date], forms: list[str] | None = None) -> Binding:
    """The limits binding the batch on each of ``days``: each binding standard in the edition in
    force that day, its requirements filtered by the batch's product and forms.

    Only an edition whose status is in force binds: a withdrawn one never, an uncertain one is
    listed (``applied: false``, saying why) and binds nothing until confirmed.
    """
    binding_of, owners = _bindings(batch)
    every = [
        s
        for s in db.session.scalars(
            select(Standard).where(Standard.base_code.in_(binding_of)).options(selectinload(Standard.requirements))
        )
        if s.owner_org_id == owners[s.base_code] and s.applies_to_product(batch.product_key)
    ]
    candidates = [s for s in every if s.binds]
    by_id = {s.id: s for s in candidates}
    limits_on: dict[dt.date, list[rules.Limit]] = {}
    standards: list[dict[str, Any]] = []
    for n, day in enumerate(sorted(set(days))):
        last = n == len(set(days)) - 1
        chosen_standards = []
        for choice in timing.choose_editions(editions_of(candidates), day):
            std = by_id[choice.chosen.id] if choice.chosen else None
            if std is not None:
                chosen_standards.append((std, binding_of[choice.base_code]))
            if last:
                standards.append(_choice_view(choice, std, binding_of[choice.base_code]))
        # Mandatory floor first, then the 执行标准 and declared standards, by code.
        chosen_standards.sort(key=lambda sb: (not sb[0].mandatory, sb[0].code))
        limits_on[day] = [
            as_limit(std, req, binding)
            for std, binding in chosen_standards
            for req in std.requirements
            if timing.requirement_applies(req.scoped_product, std.applies_to, batch.product_key, req.forms, forms)
        ]
    listed = {s["base_code"] for s in standards}
    for std in sorted((s for s in every if not s.binds and s.base_code not in listed), key=lambda s: s.code):
        why = "status uncertain: shown, not binding until an administrator confirms it"
        if std.status == "withdrawn":
            why = "withdrawn: binds no batch"
        standards.append(
            {
                "base_code": std.base_code, "standard": std.code, "standard_id": std.id, "edition": std.edition,
                "title_zh": std.title_zh, "mandatory": std.mandatory, "binding": binding_of[std.base_code],
                "applied": False, "note": why, "editions": [std.code], "status": std.status,
            }
        )  # fmt: skip
    standards.sort(key=lambda s: (s["mandatory"] is not True, s["base_code"]))
    return Binding(limits_on, standards)


def _choice_view(choice: timing.EditionChoice, std: Standard | None, binding: str) -> dict[str, Any]:
    return {
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
        "status": std.status if std else "in_force",
    }


def bound_limits(
    batch: Batch, on: dt.date, forms: list[str] | None = None
) -> tuple[list[rules.Limit], list[dict[str, Any]]]:
    """The limits binding the batch on ``on``, and the edition chosen for each standard."""
    if forms is None:
        events = batches.events_of(batch)
        forms = forms_of(events, build_journey(events, include_system=False))
    found = binding_limits(batch, [on], forms)
    return found.limits_on[on], found.standards


def grading_parameters() -> frozenset[str]:
    """Parameters the catalog grades (a figure for one is a grade, never a residue awaiting review)."""
    return frozenset(db.session.scalars(select(Requirement.parameter_key).where(Requirement.grading.is_(True))))


def reviews_of(events: list[Event]) -> list[rules.Review]:
    """The inspectors' decisions the batch's chain holds."""
    return [
        rules.Review(
            parameter=e.data["parameter"],
            report_no=e.data.get("report_no"),
            decision=e.data["decision"],
            basis=e.data["basis"],
            seq=e.seq,
            reviewer=e.data.get("reviewer"),
        )
        for e in events
        if e.stage == REVIEW
    ]


def executive_of(batch: Batch, events: list[Event]) -> dict[str, Any] | None:
    """The 执行标准 the batch declared (its chained record gives the 备案号 of a Q/ standard)."""
    bound = db.session.scalar(
        select(BatchStandard)
        .where(BatchStandard.batch_id == batch.id, BatchStandard.source == "executive")
        .options(joinedload(BatchStandard.standard))
    )
    if bound is None:
        return None
    record = next((e for e in reversed(events) if e.stage == EXECUTIVE_STANDARD), None)
    std = bound.standard
    return {
        "standard": std.code,
        "standard_id": std.id,
        "title_zh": std.title_zh,
        "title_en": std.title_en,
        "level": std.level,
        "filing_no": (record.data.get("filing_no") if record else None) or (std.extra or {}).get("filing_no"),
        "status": std.status,
        "binds": std.binds,
    }


def suggestions_of(batch: Batch) -> list[dict[str, Any]]:
    """The product's default standards the batch has not declared: offered, not binding."""
    declared = set(
        db.session.scalars(
            select(BatchStandard.standard_id).where(
                BatchStandard.batch_id == batch.id, BatchStandard.source.in_(("executive", "declared"))
            )
        )
    )
    return [
        {"standard": s.code, "standard_id": s.id, "title_zh": s.title_zh, "mandatory": s.mandatory}
        for s in batch.product.default_standards
        if s.id not in declared
    ]


def inspections_of(batch: Batch) -> list[Inspection]:
    return list(
        db.session.scalars(
            select(Inspection)
            .where(Inspection.batch_id == batch.id)
            .options(
                selectinload(Inspection.results),
                selectinload(Inspection.sampling),
                selectinload(Inspection.lab_org),
            )
            .order_by(Inspection.sampled_at, Inspection.id)
        )
    )


def _decimal(text: Any) -> Decimal | None:
    return None if text is None else Decimal(str(text))


ChainKey = tuple[Any, Any, Any]


def chain_key(record: dict[str, Any] | Inspection) -> ChainKey:
    """What identifies a report's chained record: its lab (organization, name) and its number."""
    if isinstance(record, Inspection):
        return chain.report_key(record.lab_org_id, record.lab, record.report_no)
    return chain.report_key(record.get("lab_org_id"), record.get("lab"), record.get("report_no"))


def retested(inspections: list[Inspection], chained: dict[ChainKey, dict[str, Any]]) -> dict[int, set[str]]:
    """Per report a 复检 replaced, the parameters the 复检 re-tested (as its chained record gives them)."""
    replaced: dict[int, set[str]] = {}
    for inspection in inspections:
        record = chained.get(chain_key(inspection))
        if record is not None and record.get("retest_of") is not None:
            params = {r["parameter"] for r in record.get("results") or []}
            replaced.setdefault(int(record["retest_of"]), set()).update(params)
    return replaced


def measurements_of(
    inspections: list[Inspection], chained: dict[ChainKey, dict[str, Any]]
) -> tuple[list[rules.Measurement], list[str]]:
    """The results a verdict may rest on: each laboratory report's results as its hash chain holds them.

    The ``inspection_results`` rows are a convenience copy; an UPDATE to them cannot change a
    verdict, because the chained record (which ``verify`` protects) is what is judged. Where the
    copy differs, or a report has no chained record at all, the returned notes say so. A 快检 is
    no laboratory evidence and gives none; a result a 复检 re-tested is replaced by the 复检's.
    """
    measurements: list[rules.Measurement] = []
    notes: list[str] = []
    replaced = retested(inspections, chained)
    for inspection in inspections:
        record = chained.get(chain_key(inspection))
        if record is None:
            notes.append(f"report {inspection.report_no} has no record in the batch's chain; its results are not used")
            continue
        if record.get("type") == report_types.RAPID:
            continue
        results = record.get("results") or []
        copy = [
            (r.parameter_key, r.unit, rules.format_decimal(r.value), r.not_detected, rules.format_decimal(r.lod),
             r.basis, r.below_loq, rules.format_decimal(r.loq))
            for r in inspection.results
        ]  # fmt: skip
        held = [
            (c["parameter"], c["unit"], c.get("value"), bool(c.get("not_detected")), c.get("lod"),
             c.get("basis", "as_is"), bool(c.get("below_loq")), c.get("loq"))
            for c in results
        ]  # fmt: skip
        if copy != held:
            notes.append(
                f"report {inspection.report_no}: the stored results differ from its chained record; "
                "the chained record is judged"
            )
        for index, c in enumerate(results):
            if c["parameter"] in replaced.get(inspection.id, ()):
                continue
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
                    basis=c.get("basis", "as_is"),
                    below_loq=bool(c.get("below_loq")),
                    loq=_decimal(c.get("loq")),
                    sampled_on=_local_date(
                        dt.datetime.fromisoformat(record["sampled_at"])
                        if record.get("sampled_at")
                        else inspection.sampled_at
                    ),
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
    """The batch's clause table and verdict: each result by the editions in force on its own sampling date."""
    events = batches.events_of(batch)
    journey = build_journey(events, include_system=False)
    chained = {chain_key(e.data): e.data for e in events if e.stage == "inspection"}
    inspections = inspections_of(batch)
    if inspections:
        on, basis = max(_local_date(i.sampled_at) for i in inspections), "sampling"
    else:
        on, basis = reference_date(batch, journey)
    forms = forms_of(events, journey)
    sampling_days = sorted({_local_date(i.sampled_at) for i in inspections})
    binding = binding_limits(batch, [*sampling_days, on], forms)
    measurements, discrepancies = measurements_of(inspections, chained)
    reviews = reviews_of(events)
    rows = rules.evaluate(
        binding.limits_on[on],
        measurements,
        limits_on={day: binding.limits_on[day] for day in sampling_days},
        grading_parameters=grading_parameters(),
        reviews=reviews,
    )
    checks = pre_harvest_checks(batch, journey)
    verdict = rules.overall(rows, sum(1 for c in checks if c.breached))
    verdict.reasons[:0] = discrepancies  # first: an inspector must see these before anything else
    flags, rapid_positives = report_flags(inspections, chained)
    for inspection in inspections:
        for flag in flags.get(inspection.id, []):
            verdict.reasons.append(f"report {inspection.report_no}: {flag['parameter']} flagged {flag['code']}")
    for report_no, parameter in rapid_positives:
        verdict.reasons.append(f"rapid test {report_no} positive for {parameter}: a laboratory test is needed")
    return Evaluation(
        batch, on, basis, rows, verdict, binding.standards, checks, inspections, journey,
        forms=forms, reviews=reviews, executive=executive_of(batch, events), suggested=suggestions_of(batch),
        flags=flags, rapid_positives=rapid_positives, superseded=set(retested(inspections, chained)),
    )  # fmt: skip


def report_flags(
    inspections: list[Inspection], chained: dict[ChainKey, dict[str, Any]]
) -> tuple[dict[int, list[dict[str, Any]]], list[tuple[str, str]]]:
    """Each report's lab flags (CMA scope and validity), and the positive results of 快检 reports."""
    flags: dict[int, list[dict[str, Any]]] = {}
    positives: list[tuple[str, str]] = []
    for inspection in inspections:
        record = chained.get(chain_key(inspection)) or {}
        results = record.get("results") or []
        parameters = [r["parameter"] for r in results]
        flags[inspection.id] = labs.flags_for(
            inspection.lab_org, parameters, inspection.sampled_at, inspection.tested_at
        )
        if record.get("type") == report_types.RAPID:
            positives += [(inspection.report_no, r["parameter"]) for r in results if not r.get("not_detected")]
    return flags, positives
