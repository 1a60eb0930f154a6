"""Test reports: recorded all or nothing, entered in the batch's chain, judged, and followed by findings."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sqlalchemy import select

from app import access, clock
from app.auth import Actor
from app.batches import service as batches
from app.batches.integrity import chained_result
from app.batches.models import Batch
from app.catalog.models import Requirement
from app.compliance import report_types, retests, rules, verdicts
from app.compliance.evaluation import Evaluation, bound_limits
from app.compliance.models import Finding, Inspection, InspectionResult, report_chain_extras
from app.compliance.standards import catalog_parameter_keys, is_known_parameter, nested_error
from app.db import db, utcnow
from app.errors import Conflict, InvalidInput


def _expected_units(batch: Batch, parameter: str, on: dt.date, limits: list[rules.Limit]) -> tuple[list[str], str]:
    """Units a result for ``parameter`` may come in, and where they were found."""
    units = [lim.unit for lim in limits if lim.parameter == parameter and lim.unit]
    if units:
        return units, f"the standards bound to {batch.lot_code}"
    catalog = list(
        db.session.scalars(
            select(Requirement.unit).where(Requirement.parameter_key == parameter, Requirement.unit.is_not(None))
        )
    )
    return cast(list[str], catalog), "the catalog"  # the WHERE leaves out NULL units


def record_inspection(
    actor: Actor,
    batch_id: int,
    *,
    report_no: str,
    sampled_at: dt.datetime,
    tested_at: dt.datetime,
    results: list[dict[str, Any]],
    lab: str | None = None,
    type: str | None = None,
    lab_org_id: int | None = None,
    retest_of: int | None = None,
    sampling: dict[str, Any] | None = None,
    notified_at: dt.datetime | None = None,
    requested_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> tuple[Inspection, Evaluation, list[Finding]]:
    """Store a test report, chain it into the batch's journey, judge the batch (stored) and open findings.

    All or nothing: every result is checked before anything is written. A request without a
    ``type`` is a 委托检验 as before; one with a type gives each result's method standard. A 监督抽检
    carries its sampling record; a 复检 (``retest_of``) is checked by ``retests.check_retest``.
    """
    now = now or utcnow()
    access.require_inspector(actor)
    batch = access.get_readable_batch(actor, batch_id)
    typed = type is not None
    report_type = type or report_types.COMMISSIONED
    if report_type not in report_types.REPORT_TYPES:
        raise InvalidInput.field("type", f"must be one of {', '.join(report_types.REPORT_TYPES)}")
    lab_org = retests.lab_org_of(lab_org_id)
    report_no, lab = report_no.strip(), (lab_org.name if lab_org else (lab or "").strip())
    if not report_no:
        raise InvalidInput.field("report_no", "must not be blank")
    if not lab:
        raise InvalidInput.field("lab", "must not be blank (or give lab_org_id)")
    clock.refuse_future("sampled_at", sampled_at, now)
    clock.refuse_future("tested_at", tested_at, now)
    if notified_at is not None:
        clock.refuse_future("notified_at", notified_at, now)
    if requested_at is not None:
        clock.refuse_future("requested_at", requested_at, now)
    if tested_at < sampled_at:
        raise InvalidInput.field("tested_at", "cannot be before sampled_at")
    if not results:
        raise InvalidInput.field("results", "a report holds at least one result")
    if report_type == report_types.SUPERVISION and sampling is None:
        raise InvalidInput.field("sampling", "required for a supervision (监督抽检) report")
    if typed:
        for n, result in enumerate(results):
            if not (result.get("method") or "").strip():
                raise nested_error(["results", n, "method"], "the method standard is required for a typed report")
    record = retests.sampling_record(batch, sampling, now) if sampling is not None else None
    catalog_keys = catalog_parameter_keys()
    limits, _ = bound_limits(batch, clock.china_date(sampled_at))
    seen: set[str] = set()
    rows = []
    for n, result in enumerate(results):
        parameter = result["parameter"].strip()
        if not is_known_parameter(parameter, catalog_keys):
            raise nested_error(
                ["results", n, "parameter"],
                f"{parameter!r} is not a known parameter key (e.g. 'lead', 'fluoride' or 'pesticide.<name>')",
            )
        if parameter in seen:
            raise nested_error(["results", n, "parameter"], f"{parameter} appears twice in one report")
        seen.add(parameter)
        not_detected = bool(result.get("not_detected"))
        below_loq = bool(result.get("below_loq"))
        value, lod, loq = result.get("value"), result.get("lod"), result.get("loq")
        if below_loq:
            if not_detected:
                raise nested_error(
                    ["results", n, "below_loq"],
                    "below the LOQ is detected, not quantified; not_detected means below the LOD: give one",
                )
            if value is not None:
                raise nested_error(["results", n, "value"], "a result below the LOQ carries its loq, not a value")
            if loq is None:
                raise nested_error(["results", n, "loq"], "required when below_loq is true")
        elif not_detected and value is not None:
            raise nested_error(["results", n, "value"], "a result not detected carries its lod, not a value")
        if not_detected and lod is None:
            raise nested_error(["results", n, "lod"], "required when not_detected is true")
        if not not_detected and not below_loq and value is None:
            raise nested_error(["results", n, "value"], "required unless not_detected is true")
        unit = rules.canonical_unit(result["unit"])
        if not unit:
            raise nested_error(["results", n, "unit"], "must not be blank")
        expected, where = _expected_units(batch, parameter, clock.china_date(sampled_at), limits)
        if expected and not any(rules.units_compatible(unit, u, parameter) for u in expected):
            raise nested_error(
                ["results", n, "unit"],
                f"{parameter} in {unit!r} cannot be converted to {' / '.join(sorted(set(expected)))} "
                f"(its unit in {where}); only units of one kind convert",
            )
        rows.append(
            {
                "parameter": parameter,
                "value": value,
                "unit": unit,
                "not_detected": not_detected,
                "lod": lod,
                "method": (result.get("method") or "").strip() or None,
                "basis": result.get("basis") or "as_is",
                "below_loq": below_loq,
                "loq": loq,
            }
        )

    locked = batches.lock_batch(batch.id)
    warnings: list[str] = []
    first, notified, deadline = None, notified_at, None
    if retest_of is not None:
        requested_at = requested_at or now
        first, notified, deadline, warnings = retests.check_retest(
            locked, retest_of, report_type=report_type, lab=lab_org, parameters=[r["parameter"] for r in rows],
            sampled_at=sampled_at, tested_at=tested_at, notified_at=notified_at, requested_at=requested_at,
        )  # fmt: skip
    same_lab = (
        Inspection.lab_org_id == lab_org.id if lab_org else (Inspection.lab_org_id.is_(None) & (Inspection.lab == lab))
    )
    if db.session.scalar(select(Inspection.id).where(same_lab, Inspection.report_no == report_no)):
        raise Conflict(
            f"report_no: {report_no!r} is already recorded for {lab}",
            {"json": {"report_no": ["already recorded for this lab"]}},
        )
    chained: dict[str, Any] = {
        "report_no": report_no,
        "lab": lab,
        "sampled_at": sampled_at.astimezone(dt.UTC).isoformat(),
        "tested_at": tested_at.astimezone(dt.UTC).isoformat(),
        "results": [chained_result(r) for r in rows],
    }
    # Its chain record alone does not re-judge the batch (verdicts.VERDICT_STAGES): the report's
    # rows are not stored yet. The verdict is stored below, with both.
    inspection = Inspection(
        batch_id=locked.id,
        report_no=report_no,
        lab=lab,
        type=report_type,
        lab_org_id=lab_org.id if lab_org else None,
        retest_of_id=first.id if first else None,
        notified_at=notified,
        requested_at=requested_at if first is not None else None,
        retest_deadline=deadline,
        warnings=warnings,
        sampling=record,
        sampled_at=sampled_at,
        tested_at=tested_at,
        recorded_by_id=actor.user.id,
        recorded_org_id=actor.org.id,
        created_at=now,
        results=[
            InspectionResult(
                parameter_key=r["parameter"],
                value=r["value"],
                unit=r["unit"],
                not_detected=r["not_detected"],
                lod=r["lod"],
                method=r["method"],
                basis=r["basis"],
                below_loq=r["below_loq"],
                loq=r["loq"],
            )
            for r in rows
        ],
    )
    # What a typed report, a lab organization, a 抽样单 or a 复检 adds; nothing for an old-style request.
    chained.update(report_chain_extras(inspection))
    batches.append_system_event(locked, actor, "inspection", chained, occurred_at=tested_at, now=now)
    db.session.add(inspection)
    db.session.flush()
    evaluation, opened = verdicts.refresh(locked, actor, now)
    return inspection, evaluation, opened
