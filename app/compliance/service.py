"""Compliance: declared and enterprise standards, inspections, verdicts, findings and certifications.

The verdict logic itself is pure (``app.compliance.rules``); this module gathers its inputs from
the database (the standards bound to a batch, in the edition in force; the inspection results;
the journey with corrections applied) and stores what follows from it (findings and their steps).
Services receive the actor and the clock, flush, and never commit.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from app.auth import Actor
from app.batches import service as batches
from app.batches.journey import build_journey
from app.batches.models import Batch, BatchStandard
from app.catalog.models import Requirement, Standard
from app.catalog.parameters import KEYS_BY_ZH, known_keys
from app.catalog.products import PRODUCTS
from app.catalog.service import split_code
from app.compliance import rules
from app.compliance.models import Certification, Finding, FindingStep, Inspection, InspectionResult
from app.db import db, utcnow
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.orgs.models import Organization, Role, Site, User

MAX_CLOCK_SKEW = dt.timedelta(minutes=5)
INSPECTING_ROLES = frozenset({Role.inspector, Role.lab})
CLOSING_ROLES = frozenset({Role.inspector, Role.admin})
CERTIFYING_ROLES = frozenset({Role.inspector, Role.admin})

CERTIFICATION_KINDS: dict[str, tuple[str, str]] = {
    "green_food": ("绿色食品", "Green Food"),
    "organic": ("有机产品", "Organic product"),
    "geographical_indication": ("农产品地理标志", "Geographical indication"),
    "compliance_certificate": ("承诺达标合格证", "Compliance certificate"),
}
FINDING_KINDS = ("failed_verdict", "pre_harvest_interval")
FINDING_STATUSES = ("open", "action_recorded", "closed")
# Which reason binds a standard, strongest first (a base code bound twice keeps the strongest).
_BINDING_RANK = {"mandatory": 0, "declared": 1, "default": 2}
_PESTICIDE_KEY = re.compile(r"^pesticide\.[a-z][a-z0-9_]{0,48}$")
_LAST_MOMENT = dt.datetime.max.replace(tzinfo=dt.UTC)


def _nested_error(path: list[str | int], reason: str) -> InvalidInput:
    """A 422 naming a nested field the way marshmallow does: {"results": {"1": {"unit": [...]}}}."""
    errors: Any = [reason]
    for part in reversed(path):
        errors = {str(part): errors}
    dotted = ".".join(str(p) for p in path)
    return InvalidInput(f"{dotted}: {reason}", {"json": errors})


# ---------------------------------------------------------------------------------------------
# Who may read a batch's compliance
# ---------------------------------------------------------------------------------------------


def readable_batch(actor: Actor, batch_id: int) -> Batch:
    """The batch under the one read rule every batch endpoint shares (404 when not readable)."""
    return batches.get_readable_batch(batch_id, actor)


# ---------------------------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------------------------


def catalog_parameter_keys() -> set[str]:
    return set(db.session.scalars(select(Requirement.parameter_key).distinct()))


def is_known_parameter(key: str, catalog_keys: set[str] | None = None) -> bool:
    if key in known_keys() or _PESTICIDE_KEY.match(key):
        return True
    return key in (catalog_keys if catalog_keys is not None else catalog_parameter_keys())


def parameter_names(key: str) -> tuple[str, str | None]:
    """Chinese and English names of a parameter key, from the catalog where it has them."""
    row = db.session.execute(
        select(Requirement.parameter_zh, Requirement.parameter_en)
        .where(Requirement.parameter_key == key)
        .order_by(Requirement.id)
        .limit(1)
    ).first()
    if row is not None:
        return row[0], row[1]
    zh = min((name for name, k in KEYS_BY_ZH.items() if k == key), key=len, default=None)
    if zh:
        return zh, None
    bare = key.removeprefix("pesticide.")
    return bare, bare.replace("_", " ")


# ---------------------------------------------------------------------------------------------
# Declared standards and organizations' own (enterprise) standards
# ---------------------------------------------------------------------------------------------


def declare_standard(actor: Actor, batch_id: int, standard_id: int, now: dt.datetime | None = None) -> BatchStandard:
    """The custodian or producer declares a further standard its batch is held to."""
    now = now or utcnow()
    # A batch the caller may not read is missing to it (404); one it reads but neither holds nor
    # produced is refused (403), and may then be named.
    batch = batches.get_readable_batch(batch_id, actor)
    if actor.org.id not in (batch.custodian_org_id, batch.producer_org_id):
        raise Forbidden(f"Only the custodian or the producer of batch {batch.lot_code} may declare its standards.")
    std = db.session.get(Standard, standard_id)
    if std is None:
        raise InvalidInput.field("standard", f"no standard with id {standard_id}")
    if not std.applies_to_product(batch.product_key):
        raise InvalidInput.field(
            "standard", f"{std.code} does not apply to {PRODUCTS[batch.product_key].name_en} ({batch.product_key})"
        )
    if std.owner_org_id is not None and std.owner_org_id != actor.org.id:
        raise InvalidInput.field("standard", f"{std.code} is another organization's enterprise standard")
    if db.session.get(BatchStandard, (batch.id, std.id)) is not None:
        raise Conflict(
            f"standard: batch {batch.lot_code} is already bound to {std.code}",
            {"json": {"standard": ["already bound to this batch"]}},
        )
    bound = BatchStandard(batch=batch, standard=std, source="declared", bound_at=now)
    db.session.add(bound)
    db.session.flush()
    return bound


def editions_of(standards: list[Standard]) -> list[rules.Edition]:
    """The standards as editions to choose from, each with when its named successor took over."""
    successors = {s.superseded_by for s in standards if s.superseded_by}
    effective = dict(
        db.session.execute(select(Standard.code, Standard.effective).where(Standard.code.in_(successors))).all()
    ) if successors else {}  # fmt: skip
    return [
        rules.Edition(
            s.id,
            s.code,
            s.base_code,
            s.edition,
            s.effective,
            superseded_by=s.superseded_by,
            superseded_on=effective.get(s.superseded_by) if s.superseded_by else None,
        )
        for s in standards
    ]


def _mandatory_floor(product: str, parameter: str, on: dt.date) -> list[tuple[Standard, Requirement]]:
    """The mandatory limits on ``parameter`` for ``product``, in the editions in force on ``on``."""
    standards = [
        s
        for s in db.session.scalars(
            select(Standard).where(Standard.mandatory.is_(True)).options(selectinload(Standard.requirements))
        )
        if s.applies_to_product(product) and s.code not in PRODUCTS[product].not_bound
    ]
    by_id = {s.id: s for s in standards}
    chosen = rules.choose_editions(editions_of(standards), on)
    floor = []
    for choice in chosen:
        if choice.chosen is None:
            continue
        std = by_id[choice.chosen.id]
        for req in std.requirements:
            if req.parameter_key == parameter and rules.requirement_applies(
                req.scoped_product, std.applies_to, product
            ):
                floor.append((std, req))
    return floor


def _as_limit(std: Standard, req: Requirement, binding: str | None = None) -> rules.Limit:
    return rules.Limit(
        requirement_id=req.id,
        standard=std.code,
        edition=std.edition,
        clause=req.clause,
        parameter=req.parameter_key,
        comparator=req.comparator,
        limit_value=req.limit_value,
        limit_text=req.limit_text,
        unit=req.unit,
        provisional=req.provisional,
        mandatory=std.mandatory,
        binding=binding,
        parameter_zh=req.parameter_zh,
        parameter_en=req.parameter_en,
    )


def register_standard(
    actor: Actor,
    *,
    code: str,
    title_zh: str,
    products: list[str],
    requirements: list[dict[str, Any]],
    owner_org_id: int,
    level: str = "enterprise",
    title_en: str | None = None,
    effective: dt.date | None = None,
    now: dt.datetime | None = None,
) -> Standard:
    """An organization registers its own enterprise standard (Q/...).

    Refused when any limit is looser than a mandatory limit on the same parameter and product
    (Standardization Law: a recommended or enterprise standard may not fall below a mandatory one).
    """
    now = now or utcnow()
    code = code.strip()
    if level != "enterprise":
        raise InvalidInput.field("level", "an organization registers enterprise standards only")
    if not code.startswith("Q/") or len(code) < 4:
        raise InvalidInput.field("code", "an enterprise standard's code starts with 'Q/' (e.g. Q/XNYP 0001 S-2026)")
    owner = db.session.get(Organization, owner_org_id)
    if owner is None:
        raise InvalidInput.field("owner_org_id", f"no organization with id {owner_org_id}")
    if actor.role != Role.admin and actor.org.id != owner.id:
        raise Forbidden("An organization registers its own standards only (admins may register for any).")
    if len(set(products)) != len(products):
        raise InvalidInput.field("products", "a product is listed twice")
    catalog_keys = catalog_parameter_keys()
    today = rules.local_date(now)
    prepared = []
    for n, req in enumerate(requirements):
        parameter = req["parameter"].strip()
        if not is_known_parameter(parameter, catalog_keys):
            raise _nested_error(
                ["requirements", n, "parameter"],
                f"{parameter!r} is not a known parameter key (see the catalog, e.g. 'lead', 'fluoride', "
                "or 'pesticide.<name>')",
            )
        comparator = req["comparator"]
        limit = req.get("limit")
        if comparator != "not_detected" and limit is None:
            raise _nested_error(["requirements", n, "limit"], f"a {comparator} requirement needs a numeric limit")
        unit = rules.canonical_unit(req["unit"])
        for product in products:
            for std, floor_req in _mandatory_floor(product, parameter, today):
                floor = _as_limit(std, floor_req)
                try:
                    looser = rules.looser_than(comparator, limit, unit, floor)
                except rules.UnitError:
                    raise _nested_error(
                        ["requirements", n, "unit"],
                        f"{unit!r} cannot be compared with {floor_req.unit!r}, the unit of {parameter} in "
                        f"{std.code} clause {floor_req.clause or '-'}",
                    ) from None
                if looser:
                    raise _nested_error(
                        ["requirements", n, "limit"],
                        f"{parameter} {comparator} {rules.format_decimal(limit)} {unit} is looser than the mandatory "
                        f"{std.code} clause {floor_req.clause or '-'} ({floor_req.comparator} "
                        f"{rules.format_decimal(floor_req.limit_value)} {floor_req.unit} for {product})",
                    )
        zh, en = parameter_names(parameter)
        prepared.append(
            Requirement(
                position=n + 1,
                parameter_key=parameter,
                parameter_zh=zh,
                parameter_en=en,
                parameter_raw=f"{zh} {en}" if en else zh,
                unit=unit,
                comparator=comparator,
                limit_value=limit,
                limit_text=None,
                scope=None,
                product_key=None,
                clause=req.get("clause"),
                method=req.get("method"),
                # The owner's own declaration is the source of its limits.
                verified=True,
                confidence=None,
                source=f"declared by {owner.code}",
            )
        )
    if db.session.scalar(select(Standard.id).where(Standard.code == code)):
        raise Conflict(f"code: a standard {code!r} exists", {"json": {"code": ["already exists"]}})
    base, edition = split_code(code)
    std = Standard(
        code=code,
        base_code=base,
        edition=edition,
        title_zh=title_zh,
        title_en=title_en,
        level="enterprise",
        level_detail="enterprise",
        mandatory=False,
        kind="product",
        status="registered",
        issued=today,
        effective=effective,
        effective_note=None,
        replaces=[],
        superseded_by=None,
        body=owner.name,
        scope=None,
        applies_to=list(products),
        certification_only=None,
        confidence=None,
        sources=[],
        notes=None,
        extra={"registered_by": actor.user.username, "registered_at": now.isoformat()},
        owner_org_id=owner.id,
    )
    std.requirements = prepared
    db.session.add(std)
    db.session.flush()
    return std


# ---------------------------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------------------------


@dataclass
class Evaluation:
    batch: Batch
    evaluated_on: dt.date
    # What evaluated_on is: the latest sampling date, else the harvest, production or creation date.
    basis: str
    rows: list[rules.Row]
    overall: rules.Overall
    standards: list[dict[str, Any]]
    pre_harvest: list[rules.IntervalCheck]
    inspections: list[Inspection]
    # The stage journey (corrections applied) the verdict read, for callers that need it too.
    journey: list[Any]


def _local_date(moment: dt.datetime) -> dt.date:
    """The China date of a stored moment; one at the very end of the calendar keeps its own date."""
    try:
        return rules.local_date(moment)
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
    choices = rules.choose_editions(editions_of(candidates), on)
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
            if rules.requirement_applies(req.scoped_product, std.applies_to, batch.product_key):
                limits.append(_as_limit(std, req, binding))
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
    inspections: list[Inspection], chained: dict[str, dict[str, Any]]
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


def pre_harvest_checks(batch: Batch, journey: list[Any] | None = None) -> list[rules.IntervalCheck]:
    """Pesticides recorded in planting events (as corrected) against the harvest they preceded."""
    journey = journey if journey is not None else build_journey(batches.events_of(batch), include_system=False)
    uses = []
    for entry in journey:
        if entry.stage != "planting":
            continue
        for item in entry.data.get("inputs") or []:
            if item.get("kind") != "pesticide" or item.get("phi_days") is None:
                continue
            uses.append(
                rules.PesticideUse(
                    name=item["name"],
                    applied_at=dt.datetime.fromisoformat(item["applied_at"]),
                    phi_days=int(item["phi_days"]),
                    planting_seq=entry.seq,
                    registration_no=item.get("registration_no"),
                )
            )
    harvests = [(e.seq, e.occurred_at) for e in journey if e.stage == "harvest"]
    checks: list[rules.IntervalCheck] = []
    for harvest in harvests:
        for use in uses:
            try:
                checks += rules.check_intervals([use], [harvest])
            except OverflowError:
                # The interval ends past the last representable moment (a date stored before dates
                # were range-checked): a harvest after the application came before it ended.
                if use.applied_at <= harvest[1]:
                    checks.append(rules.IntervalCheck(use, harvest[1], harvest[0], _LAST_MOMENT, True))
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


# ---------------------------------------------------------------------------------------------
# Findings
# ---------------------------------------------------------------------------------------------


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
    for check in evaluation.pre_harvest:
        if not check.breached:
            continue
        subject = f"planting#{check.use.planting_seq}:{check.use.name}:harvest#{check.harvest_seq}"
        f = _open_finding(batch, "pre_harvest_interval", subject, interval_view(check), subject, actor, now)
        if f is not None:
            opened.append(f)
    return opened


def get_finding(finding_id: int) -> Finding:
    finding = db.session.get(Finding, finding_id)
    if finding is None:
        raise NotFound(f"no finding with id {finding_id}")
    return finding


def record_action(actor: Actor, finding_id: int, note: str, now: dt.datetime | None = None) -> Finding:
    """The batch's custodian records what it did about a finding."""
    now = now or utcnow()
    finding = get_finding(finding_id)
    # A finding on a batch the caller may not read is missing to it, exactly as a missing one is.
    try:
        batch = batches.get_readable_batch(finding.batch_id, actor)
    except NotFound:
        raise NotFound(f"no finding with id {finding_id}") from None
    if actor.org.id != batch.custodian_org_id:
        raise Forbidden(f"Only the custodian ({batch.custodian.code}) records corrective actions for {batch.lot_code}.")
    if finding.status == "closed":
        raise Conflict(f"Finding {finding.id} is closed.")
    _step(finding, "action", actor, note.strip(), now)
    finding.status = "action_recorded"
    db.session.flush()
    return finding


def close_finding(actor: Actor, finding_id: int, note: str, now: dt.datetime | None = None) -> Finding:
    """An inspector verifies the corrective action and closes the finding."""
    now = now or utcnow()
    if actor.role not in CLOSING_ROLES:
        raise Forbidden(f"The role '{actor.role}' may not close findings; inspectors verify and close them.")
    finding = get_finding(finding_id)
    if finding.status == "closed":
        raise Conflict(f"Finding {finding.id} is already closed.")
    if finding.status != "action_recorded":
        raise Conflict(f"Finding {finding.id} has no corrective action recorded since it was opened; it cannot close.")
    _step(finding, "closed", actor, note.strip(), now)
    finding.status = "closed"
    db.session.flush()
    return finding


def list_findings(actor: Actor, status: str | None = None, batch_id: int | None = None) -> list[Finding]:
    query = select(Finding).options(selectinload(Finding.steps)).order_by(Finding.opened_at.desc(), Finding.id.desc())
    if status:
        query = query.where(Finding.status == status)
    if batch_id is not None:
        query = query.where(Finding.batch_id == batch_id)
    if not (actor.oversees or actor.role == Role.lab):
        mine = select(Batch.id).where(
            (Batch.custodian_org_id == actor.org.id) | (Batch.producer_org_id == actor.org.id)
        )
        query = query.where(Finding.batch_id.in_(mine))
    return list(db.session.scalars(query))


def findings_of(batch: Batch) -> list[Finding]:
    return list(
        db.session.scalars(
            select(Finding)
            .where(Finding.batch_id == batch.id)
            .options(selectinload(Finding.steps))
            .order_by(Finding.opened_at, Finding.id)
        )
    )


# ---------------------------------------------------------------------------------------------
# Inspections
# ---------------------------------------------------------------------------------------------


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
    return catalog, "the catalog"


def record_inspection(
    actor: Actor,
    batch_id: int,
    *,
    report_no: str,
    lab: str,
    sampled_at: dt.datetime,
    tested_at: dt.datetime,
    results: list[dict[str, Any]],
    now: dt.datetime | None = None,
) -> tuple[Inspection, Evaluation, list[Finding]]:
    """Store a test report, chain it into the batch's journey, judge the batch and open findings.

    All or nothing: every result is checked before anything is written.
    """
    now = now or utcnow()
    if actor.role not in INSPECTING_ROLES:
        raise Forbidden(f"The role '{actor.role}' may not record inspections; inspectors and labs do.")
    batch = batches.get_batch(batch_id)
    report_no, lab = report_no.strip(), lab.strip()
    if not report_no:
        raise InvalidInput.field("report_no", "must not be blank")
    if not lab:
        raise InvalidInput.field("lab", "must not be blank")
    if sampled_at > now + MAX_CLOCK_SKEW:
        raise InvalidInput.field("sampled_at", "cannot be in the future")
    if tested_at > now + MAX_CLOCK_SKEW:
        raise InvalidInput.field("tested_at", "cannot be in the future")
    if tested_at < sampled_at:
        raise InvalidInput.field("tested_at", "cannot be before sampled_at")
    if not results:
        raise InvalidInput.field("results", "a report holds at least one result")
    catalog_keys = catalog_parameter_keys()
    limits, _ = bound_limits(batch, rules.local_date(sampled_at))
    seen: set[str] = set()
    rows = []
    for n, result in enumerate(results):
        parameter = result["parameter"].strip()
        if not is_known_parameter(parameter, catalog_keys):
            raise _nested_error(
                ["results", n, "parameter"],
                f"{parameter!r} is not a known parameter key (e.g. 'lead', 'fluoride' or 'pesticide.<name>')",
            )
        if parameter in seen:
            raise _nested_error(["results", n, "parameter"], f"{parameter} appears twice in one report")
        seen.add(parameter)
        not_detected = bool(result.get("not_detected"))
        value, lod = result.get("value"), result.get("lod")
        if not_detected and value is not None:
            raise _nested_error(["results", n, "value"], "a result not detected carries its lod, not a value")
        if not_detected and lod is None:
            raise _nested_error(["results", n, "lod"], "required when not_detected is true")
        if not not_detected and value is None:
            raise _nested_error(["results", n, "value"], "required unless not_detected is true")
        unit = rules.canonical_unit(result["unit"])
        if not unit:
            raise _nested_error(["results", n, "unit"], "must not be blank")
        expected, where = _expected_units(batch, parameter, rules.local_date(sampled_at), limits)
        if expected and not any(rules.units_compatible(unit, u) for u in expected):
            raise _nested_error(
                ["results", n, "unit"],
                f"{parameter} in {unit!r} cannot be converted to {' / '.join(sorted(set(expected)))} "
                f"(its unit in {where}); only mass fractions convert",
            )
        rows.append(
            {
                "parameter": parameter,
                "value": value,
                "unit": unit,
                "not_detected": not_detected,
                "lod": lod,
                "method": (result.get("method") or "").strip() or None,
            }
        )

    locked = batches.lock_batch(batch.id)
    if db.session.scalar(
        select(Inspection.id).where(Inspection.batch_id == locked.id, Inspection.report_no == report_no)
    ):
        raise Conflict(
            f"report_no: {report_no!r} is already recorded for batch {locked.lot_code}",
            {"json": {"report_no": ["already recorded for this batch"]}},
        )
    chained = {
        "report_no": report_no,
        "lab": lab,
        "sampled_at": sampled_at.astimezone(dt.UTC).isoformat(),
        "tested_at": tested_at.astimezone(dt.UTC).isoformat(),
        "results": [
            {
                **{k: v for k, v in r.items() if k not in ("value", "lod")},
                "value": rules.format_decimal(r["value"]),
                "lod": rules.format_decimal(r["lod"]),
            }
            for r in rows
        ],
    }
    batches.append_system_event(locked, actor, "inspection", chained, occurred_at=tested_at, now=now)
    inspection = Inspection(
        batch_id=locked.id,
        report_no=report_no,
        lab=lab,
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
            )
            for r in rows
        ],
    )
    db.session.add(inspection)
    db.session.flush()
    evaluation = evaluate_batch(locked)
    opened = sync_findings(evaluation, actor, now)
    return inspection, evaluation, opened


# ---------------------------------------------------------------------------------------------
# Certifications
# ---------------------------------------------------------------------------------------------


def create_certification(
    actor: Actor,
    *,
    kind: str,
    number: str,
    issuer: str,
    holder: str,
    product: str,
    valid_from: dt.date,
    valid_to: dt.date | None = None,
    site: int | None = None,
    scope: str | None = None,
    now: dt.datetime | None = None,
) -> Certification:
    now = now or utcnow()
    if actor.role not in CERTIFYING_ROLES:
        raise Forbidden(f"The role '{actor.role}' may not register certifications; admins and inspectors do.")
    if kind not in CERTIFICATION_KINDS:
        raise InvalidInput.field("kind", f"must be one of {', '.join(CERTIFICATION_KINDS)}")
    if product not in PRODUCTS:
        raise InvalidInput.field("product", f"must be one of {', '.join(PRODUCTS)}")
    number = number.strip()
    if not number:
        raise InvalidInput.field("number", "must not be blank")
    holder_org = db.session.scalar(select(Organization).where(Organization.code == holder))
    if holder_org is None:
        raise InvalidInput.field("holder", f"no organization with code {holder!r}")
    site_row = None
    if site is not None:
        site_row = db.session.get(Site, site)
        if site_row is None or site_row.organization_id != holder_org.id:
            raise InvalidInput.field("site", f"no site {site} belongs to {holder}")
    if valid_to is not None and valid_to < valid_from:
        raise InvalidInput.field("valid_to", "cannot be before valid_from")
    if db.session.scalar(select(Certification.id).where(Certification.number == number)):
        raise Conflict(f"number: certification {number!r} exists", {"json": {"number": ["already registered"]}})
    cert = Certification(
        kind=kind,
        number=number,
        issuer=issuer.strip(),
        holder_org_id=holder_org.id,
        product_key=product,
        site_id=site_row.id if site_row else None,
        scope=scope,
        valid_from=valid_from,
        valid_to=valid_to,
        created_at=now,
    )
    db.session.add(cert)
    db.session.flush()
    return cert


def list_certifications(holder: str | None = None, product: str | None = None) -> list[Certification]:
    query = select(Certification).order_by(Certification.valid_from.desc(), Certification.id)
    if holder is not None:
        query = query.join(Organization, Organization.id == Certification.holder_org_id).where(
            Organization.code == holder
        )
    if product is not None:
        query = query.where(Certification.product_key == product)
    return list(db.session.scalars(query))


@dataclass(frozen=True)
class BatchCertification:
    certification: Certification
    status: str
    judged_on: dt.date
    basis: str


def batch_certifications(batch: Batch, journey: list[Any] | None = None) -> list[BatchCertification]:
    """Certifications of the producer or custodian covering the batch's product (and site, when scoped).

    Each is judged on the batch's own date (harvest, else production, else creation): an expired
    one is listed as expired, never as valid.
    """
    on, basis = reference_date(batch, journey)
    holders = {batch.producer_org_id, batch.custodian_org_id}
    certs = db.session.scalars(
        select(Certification)
        .where(Certification.holder_org_id.in_(holders), Certification.product_key == batch.product_key)
        .order_by(Certification.kind, Certification.valid_from, Certification.id)
    )
    out = []
    for cert in certs:
        if cert.site_id is not None and cert.site_id != batch.site_id:
            continue
        out.append(BatchCertification(cert, rules.certification_status(cert.valid_from, cert.valid_to, on), on, basis))
    return out


# ---------------------------------------------------------------------------------------------
# Views of the results: JSON-safe dictionaries shared by the API, the desk and the PDF
# ---------------------------------------------------------------------------------------------


# The notes ``rules.judge`` and ``rules.evaluate`` put on a clause row, as a Chinese reader reads them.
ROW_NOTES_ZH: dict[str, str] = {
    "not detected": "未检出",
    "not detected; LOD at or below the limit": "未检出，检出限不高于限量",
    "not detected, below the range": "未检出，低于规定范围",
    "not detected; below the minimum": "未检出，低于最低要求",
    "not detected; below the required value": "未检出，低于规定值",
    "inconclusive: the LOD lies inside the range": "无法判定：检出限落在规定范围内",
    "inconclusive: the LOD is above the limit": "无法判定：检出限高于限量",
    "inconclusive: the LOD is above the minimum": "无法判定：检出限高于最低要求",
    "inconclusive: not detected": "无法判定：未检出",
    "no result for this parameter": "无该项检测结果",
    "the result carries no value": "检测结果没有数值",
    "no limit on record": "无限量记录",
    "limit not numeric": "限量不是数值",
    "no limit on record for this product in the standards bound to the batch": "本批次适用的标准中没有该产品的限量记录",
}
_UNIT_NOTE = re.compile(r"^result unit (?P<result>'.*') cannot be compared with limit unit (?P<limit>'.*'|None)$")
_TEXT_LIMIT_NOTE = re.compile(r"^limit (?P<limit>'.*') cannot be judged automatically$")


def note_zh(note: str | None) -> str | None:
    """A clause row's note in Chinese; a note not known here is returned as it is."""
    if note is None:
        return None
    if note in ROW_NOTES_ZH:
        return ROW_NOTES_ZH[note]
    if found := _UNIT_NOTE.match(note):
        return f"结果单位 {found['result']} 无法与限量单位 {found['limit']} 比较"
    if found := _TEXT_LIMIT_NOTE.match(note):
        return f"限量 {found['limit']} 无法自动判定"
    return note


def row_view(row: rules.Row) -> dict[str, Any]:
    limit = row.limit
    m = row.measurement
    zh, en = (limit.parameter_zh, limit.parameter_en) if limit else parameter_names(row.parameter)
    return {
        "standard": limit.standard if limit else None,
        "edition": limit.edition if limit else None,
        "mandatory": limit.mandatory if limit else None,
        "binding": limit.binding if limit else None,
        "clause": limit.clause if limit else None,
        "parameter": row.parameter,
        "parameter_zh": zh,
        "parameter_en": en,
        "comparator": limit.comparator if limit else None,
        "limit": rules.format_decimal(limit.limit_value) if limit else None,
        "limit_text": limit.limit_text if limit else None,
        "unit": limit.unit if limit else None,
        "provisional": row.provisional,
        "value": rules.format_decimal(row.value),
        "value_unit": row.value_unit,
        "not_detected": bool(m and m.not_detected),
        "report_no": m.report_no if m else None,
        "verdict": row.verdict,
        "governing": row.governing,
        "note": row.note,
        "note_zh": note_zh(row.note),
    }


def local_moment(moment: dt.datetime) -> str:
    """A moment for people, in ISO 8601 in China time: its first ten characters are the date a
    reader in Xianning would give it (22:30 UTC on the 27th is the 28th there).

    A moment too close to the ends of the calendar to move keeps the offset it has.
    """
    try:
        return moment.astimezone(rules.CHINA_TZ).isoformat()
    except (OverflowError, ValueError):
        return moment.isoformat()


def interval_view(check: rules.IntervalCheck) -> dict[str, Any]:
    """One pre-harvest check; its moments in China time, the dates the desk and the PDF print.

    The breach itself was decided on the instants (``rules.check_intervals``), not on these dates.
    """
    return {
        "pesticide": check.use.name,
        "registration_no": check.use.registration_no,
        "applied_at": local_moment(check.use.applied_at),
        "phi_days": check.use.phi_days,
        "safe_from": local_moment(check.safe_from),
        "harvested_at": local_moment(check.harvested_at),
        "planting_seq": check.use.planting_seq,
        "harvest_seq": check.harvest_seq,
        "breached": check.breached,
        "days_short": check.days_short,
    }


def finding_view(finding: Finding) -> dict[str, Any]:
    users = {s.user_id for s in finding.steps if s.user_id}
    orgs = {s.org_id for s in finding.steps if s.org_id}
    usernames = (
        dict(db.session.execute(select(User.id, User.username).where(User.id.in_(users))).all()) if users else {}
    )
    org_codes = (
        dict(db.session.execute(select(Organization.id, Organization.code).where(Organization.id.in_(orgs))).all())
        if orgs
        else {}
    )
    batch = db.session.get(Batch, finding.batch_id)
    return {
        "id": finding.id,
        "batch_id": finding.batch_id,
        "lot_code": batch.lot_code if batch else None,
        "kind": finding.kind,
        "subject": finding.subject,
        "status": finding.status,
        "opened_at": finding.opened_at,
        "detail": finding.detail,
        "steps": [
            {
                "action": s.action,
                "note": s.note,
                "user": usernames.get(s.user_id),
                "org": org_codes.get(s.org_id),
                "at": s.at,
            }
            for s in finding.steps
        ],
    }


def compliance_view(evaluation: Evaluation, findings: list[Finding]) -> dict[str, Any]:
    batch = evaluation.batch
    return {
        "batch_id": batch.id,
        "lot_code": batch.lot_code,
        "product": batch.product_key,
        "verdict": evaluation.overall.verdict,
        "provisional_basis": evaluation.overall.provisional_basis,
        "reasons": evaluation.overall.reasons,
        "evaluated_on": evaluation.evaluated_on,
        "basis": evaluation.basis,
        "standards": evaluation.standards,
        "rows": [row_view(r) for r in evaluation.rows],
        "inspections": [
            {
                "id": i.id,
                "report_no": i.report_no,
                "lab": i.lab,
                "sampled_at": i.sampled_at,
                "tested_at": i.tested_at,
            }
            for i in evaluation.inspections
        ],
        "findings": [finding_view(f) for f in findings],
        "pre_harvest": [interval_view(c) for c in evaluation.pre_harvest],
    }


def certification_view(cert: Certification, status: str | None = None) -> dict[str, Any]:
    holder = db.session.get(Organization, cert.holder_org_id)
    zh, en = CERTIFICATION_KINDS.get(cert.kind, (cert.kind, cert.kind))
    view = {
        "id": cert.id,
        "kind": cert.kind,
        "kind_zh": zh,
        "kind_en": en,
        "number": cert.number,
        "issuer": cert.issuer,
        "holder": holder.code if holder else None,
        "holder_name": holder.name if holder else None,
        "product": cert.product_key,
        "site": cert.site_id,
        "scope": cert.scope,
        "valid_from": cert.valid_from,
        "valid_to": cert.valid_to,
    }
    if status is not None:
        view["status"] = status
    return view


# ---------------------------------------------------------------------------------------------
# The consumer page's summary
# ---------------------------------------------------------------------------------------------


def public_summary(batch: Batch) -> dict[str, Any]:
    """What a consumer may read about a batch's tests and certifications; JSON-safe.

    Only the overall verdict, which parameters were tested (when, by which lab, with what
    outcome) and the certifications valid on the batch's date. A failed batch reads as failed.
    """
    evaluation = evaluate_batch(batch)
    per_parameter: dict[str, dict[str, Any]] = {}
    for row in evaluation.rows:
        m = row.measurement
        if m is None or row.verdict == rules.NO_LIMIT:
            continue
        entry = per_parameter.get(row.parameter)
        verdict = {rules.PASS: "pass", rules.FAIL: "fail", rules.NOT_TESTED: "inconclusive"}[row.verdict]
        severity = {"pass": 0, "inconclusive": 1, "fail": 2}
        if entry is not None and severity[entry["verdict"]] >= severity[verdict]:
            continue
        zh, en = (row.limit.parameter_zh, row.limit.parameter_en) if row.limit else parameter_names(row.parameter)
        per_parameter[row.parameter] = {
            "parameter": row.parameter,
            "name_zh": zh,
            "name_en": en or row.parameter,
            "verdict": verdict,
            "tested_at": rules.local_date(m.tested_at).isoformat() if m.tested_at else None,
            "lab": m.lab,
            "report_no": m.report_no,
        }
    certifications = [
        {
            "kind": bc.certification.kind,
            "kind_zh": CERTIFICATION_KINDS[bc.certification.kind][0],
            "kind_en": CERTIFICATION_KINDS[bc.certification.kind][1],
            "number": bc.certification.number,
            "issuer": bc.certification.issuer,
            "valid_to": bc.certification.valid_to.isoformat() if bc.certification.valid_to else None,
        }
        for bc in batch_certifications(batch, evaluation.journey)
        if bc.status == "valid"
    ]
    return {
        "verdict": evaluation.overall.verdict,
        "compliant": evaluation.overall.verdict == rules.PASS,
        "provisional_basis": evaluation.overall.provisional_basis,
        "evaluated_on": evaluation.evaluated_on.isoformat(),
        "tests": list(per_parameter.values()),
        "certifications": certifications,
        # The bound standards in the edition in force on evaluated_on: superseded editions and
        # ones not yet in force stay bound (for older dates) but do not apply to this batch.
        "standards_in_force": sorted(s["standard"] for s in evaluation.standards if s["applied"]),
    }
