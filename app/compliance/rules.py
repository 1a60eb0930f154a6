"""The compliance rules, as pure functions: units, verdicts and the strictest limit.

What depends on dates (the edition in force, pre-harvest intervals, a certificate's validity) is
in ``timing.py``.

Nothing here touches the database. The service turns stored standards, requirements and results
into the small value types below, asks these functions for verdicts, and stores what follows
(findings). Decisions worth knowing (each also said where it is made):

- Units convert by compliance/quantities.py (re-exported here): mass fractions (mg/kg, µg/kg,
  g/100g, %, mg/g, g/kg, and their Chinese names), lengths (mm, cm), peroxide value's mmol/kg and
  g/100g (GB 5009.227's factor, for that parameter only); an acid value (mg KOH/g) and a
  fatty-acid share (% of total fatty acids) only to themselves. An unconvertible pair is a
  ``UnitError`` naming the parameter and both units.
- A result is compared only with a limit on its own basis (as_is, dry_matter 以干样品计, fat
  以脂肪计); otherwise the row is not judged (``not_tested``) and says why.
- The full value is compared, unrounded (GB/T 8170); a value exactly at a ``<=`` limit passes.
- "Not detected" (below the limit of detection, LOD) meets an upper limit only when the LOD is at
  or below it; a higher LOD proves nothing, so the row is ``not_tested`` (inconclusive), never a
  pass. Against a minimum (>=, >) a non-detect at an LOD at or below the minimum is a fail.
- Below the LOQ (未检出(<定量限)) is *detected*, somewhere under the LOQ: it meets an upper limit
  only when the LOQ is at or below it (else inconclusive), fails a "not detected" limit (unless
  the limit's ``not_detected_below`` covers the LOQ), and with no limit awaits review.
- A limit that is not one number (a sampling plan such as "n=5,c=2,m=10^4,M=10^5", free text, or a
  missing figure) gives ``no_limit``: "no limit on record", never a pass. Ranges such as "15 ± 2"
  or "13-17" are parsed and judged.
- A residue or contaminant *detected* with no limit on record (no row binds it, or its row has no
  figure) is ``needs_review`` (待判定) until an inspector's review decides it pass or fail.
  Quality and grading items (``QUALITY_PARAMETERS``, the catalog's grading rows) do not wait.
- A grading row gives ``grade_met`` or ``grade_not_met``, never a food-safety pass or fail, and
  does not move the batch's verdict.
- Each result is judged by the editions in force on its own sampling date (``evaluate``'s
  ``limits_on``): a parameter tested under two editions has a row for each.
- Where several limits bind one parameter in one direction on the same dates, the strictest
  governs (the lowest maximum, the highest minimum; "not detected" is stricter than any maximum)
  and only that row is marked ``governing``.
- The overall verdict is ``fail`` if any row fails or a pre-harvest interval was broken,
  ``incomplete`` if any row is not tested or awaits review (or nothing could be judged at all),
  ``pass`` otherwise. A batch that failed once keeps failing: every result counts, and the worst
  one is shown.

Size: the verdict of one result (judge and its LOD, LOQ and "not detected" cases), the clause
table across sampling dates and the overall verdict are one set of rules read together; the
units are apart already (quantities.py), and the date rules (timing.py).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation

from app.compliance.quantities import MASS_BASE_UNIT as MASS_BASE_UNIT
from app.compliance.quantities import UnitError as UnitError
from app.compliance.quantities import canonical_unit as canonical_unit
from app.compliance.quantities import convert as convert
from app.compliance.quantities import dimension as dimension
from app.compliance.quantities import format_decimal as format_decimal
from app.compliance.quantities import to_base as to_base
from app.compliance.quantities import unit_alternatives as unit_alternatives
from app.compliance.quantities import unit_key as _unit_key
from app.compliance.quantities import units_compatible as units_compatible

PASS = "pass"  # noqa: S105 - a verdict, not a password
FAIL = "fail"
NOT_TESTED = "not_tested"
NO_LIMIT = "no_limit"
# 待判定: a residue or contaminant was detected and no limit is on record.
NEEDS_REVIEW = "needs_review"
# A grading item's outcome: a grade, never a food-safety verdict.
GRADE_MET = "grade_met"
GRADE_NOT_MET = "grade_not_met"
INCOMPLETE = "incomplete"

ROW_VERDICTS = (PASS, FAIL, NOT_TESTED, NO_LIMIT, NEEDS_REVIEW, GRADE_MET, GRADE_NOT_MET)
REVIEW_DECISIONS = (PASS, FAIL)
OVERALL_VERDICTS = (PASS, FAIL, INCOMPLETE)

UPPER = ("<=", "<")
LOWER = (">=", ">")
NUMERIC_COMPARATORS = ("<=", "<", ">=", ">", "==")
# Comparators an organization may use in its own standard (range/text limits cannot be checked
# against the mandatory floor, so they are not accepted there).
DECLARABLE_COMPARATORS = (*NUMERIC_COMPARATORS, "not_detected")

# ---------------------------------------------------------------------------------------------
# Verdicts
# ---------------------------------------------------------------------------------------------

# Quality and grading items: a figure found for one with no limit on record is not a residue or
# a contaminant, so it does not wait for an inspector's decision (catalog parameter keys).
QUALITY_PARAMETERS: frozenset[str] = frozenset(
    {
        "acid_value", "peroxide_value", "stem_content", "moisture", "total_ash", "non_tea_inclusions",
        "water_extract", "powder_and_broken_tea", "fatty_acid_profile", "polar_components", "stalk_length",
        "soluble_solids", "fruit_weight", "loss_on_drying", "relative_humidity",
    }
)  # fmt: skip
BASES = ("as_is", "dry_matter", "fat")


@dataclass(frozen=True)
class Limit:
    """One requirement of one standard edition, as it binds the batch."""

    requirement_id: int
    standard: str
    edition: str | None
    clause: str | None
    parameter: str
    comparator: str
    limit_value: Decimal | None
    limit_text: str | None
    unit: str | None
    provisional: bool
    mandatory: bool = False
    binding: str | None = None  # mandatory, executive or declared
    parameter_zh: str | None = None
    parameter_en: str | None = None
    basis: str = "as_is"  # as_is, dry_matter (以干样品计) or fat (以脂肪计)
    grading: bool = False  # gives a grade, never a food-safety fail
    temporary_mrl: bool = False  # 临时限量 (GB 2763's *), apart from ``provisional``
    # A detected value under this figure counts as not detected (GB 2716: 压榨油 < 10 mg/kg).
    not_detected_below: Decimal | None = None


@dataclass(frozen=True)
class Measurement:
    """One result of one inspection."""

    parameter: str
    unit: str
    value: Decimal | None = None
    not_detected: bool = False  # below the limit of detection (LOD)
    lod: Decimal | None = None
    report_no: str | None = None
    lab: str | None = None
    sampled_at: dt.datetime | None = None
    tested_at: dt.datetime | None = None
    result_id: int = 0
    basis: str = "as_is"
    # 未检出(<定量限): detected, but below the limit of quantification; the figure is the LOQ.
    below_loq: bool = False
    loq: Decimal | None = None
    # The China date of sampling: the editions in force on it judge this result.
    sampled_on: dt.date | None = None

    @property
    def detected(self) -> bool:
        """Found at all: a figure above zero, or below the LOQ (which is above the LOD)."""
        if self.not_detected:
            return False
        return self.below_loq or (self.value is not None and self.value > 0)


@dataclass(frozen=True)
class Review:
    """An inspector's decision on a detected result no limit covers (a chained ``review`` record)."""

    parameter: str
    report_no: str | None
    decision: str  # pass or fail
    basis: str  # what the decision relied on (the official text, a notice)
    seq: int = 0
    reviewer: str | None = None


@dataclass(frozen=True)
class Judgement:
    verdict: str
    value: Decimal | None = None  # the measured value in the limit's unit (the LOD for a non-detect)
    value_unit: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Row:
    """One line of the clause table: a limit, the result judged against it, and its verdict."""

    limit: Limit | None
    parameter: str
    verdict: str
    measurement: Measurement | None = None
    value: Decimal | None = None
    value_unit: str | None = None
    note: str | None = None
    governing: bool = False
    review: Review | None = None
    # The sampling dates whose editions put this limit in force (one group competes for governing).
    dates: tuple[dt.date, ...] = ()

    @property
    def provisional(self) -> bool:
        return bool(self.limit and self.limit.provisional)

    @property
    def grading(self) -> bool:
        return bool(self.limit and self.limit.grading)


_NUM = r"[-+]?\d+(?:\.\d+)?"
_PLUS_MINUS = re.compile(rf"^\s*({_NUM})\s*(?:±|\+/-|\+-)\s*({_NUM})\s*$")
_BETWEEN = re.compile(rf"^\s*({_NUM})\s*(?:-|~|～|–|—|至|到)\s*({_NUM})\s*$")


def parse_range(text: str | None) -> tuple[Decimal, Decimal] | None:
    """'15 ± 2' -> (13, 17); '13-17' -> (13, 17); anything else -> None."""
    if not text:
        return None
    try:
        if m := _PLUS_MINUS.match(text):
            mid, tol = Decimal(m[1]), abs(Decimal(m[2]))
            return mid - tol, mid + tol
        if m := _BETWEEN.match(text):
            lo, hi = sorted((Decimal(m[1]), Decimal(m[2])))
            return lo, hi
    except InvalidOperation:
        return None
    return None


def judgeable(limit: Limit) -> bool:
    """Whether a limit can give pass or fail at all (else its rows read "no limit on record")."""
    if limit.comparator == "not_detected":
        return True
    if limit.comparator in NUMERIC_COMPARATORS:
        return limit.limit_value is not None
    if limit.comparator == "range":
        return parse_range(limit.limit_text) is not None
    return False


def is_residue(parameter: str, grading_parameters: frozenset[str] = frozenset()) -> bool:
    """A residue or contaminant (pesticides, metals, toxins, microbes...), not a quality or grading item."""
    return parameter not in QUALITY_PARAMETERS and parameter not in grading_parameters


def _compare(value: Decimal, comparator: str, bound: Decimal) -> bool:
    return {
        "<=": value <= bound,
        "<": value < bound,
        ">=": value >= bound,
        ">": value > bound,
        "==": value == bound,
    }[comparator]


NEEDS_REVIEW_NOTE = "detected, and no limit on record: awaiting an inspector's decision"


def judge(limit: Limit, measurement: Measurement | None) -> Judgement:
    """The verdict of one result against one limit (see the module docstring for the rules).

    The full value is compared, unrounded (GB/T 8170's rounding is for reporting, not judging):
    0.5000 at a ``<= 0.5`` limit passes, 0.5001 fails.
    """
    if not judgeable(limit):
        why = "no limit on record" if limit.limit_value is None and not limit.limit_text else "limit not numeric"
        if limit.limit_text:
            why = f"limit {limit.limit_text!r} cannot be judged automatically"
        elif measurement is not None and measurement.detected and not limit.grading and is_residue(limit.parameter):
            value = measurement.loq if measurement.below_loq else measurement.value
            return Judgement(NEEDS_REVIEW, value, canonical_unit(measurement.unit), NEEDS_REVIEW_NOTE)
        return Judgement(NO_LIMIT, note=why)
    if measurement is None:
        return Judgement(NOT_TESTED, note="no result for this parameter")
    if measurement.basis != limit.basis:
        return Judgement(
            NOT_TESTED,
            measurement.loq
            if measurement.below_loq
            else (measurement.lod if measurement.not_detected else measurement.value),
            canonical_unit(measurement.unit),
            f"basis mismatch: the result is on {measurement.basis}, the limit on {limit.basis}; not judged",
        )
    if limit.comparator == "not_detected":
        return _judge_not_detected(limit, measurement)

    unit = limit.unit or measurement.unit
    raw = (
        measurement.lod
        if measurement.not_detected
        else (measurement.loq if measurement.below_loq else measurement.value)
    )
    if raw is None:
        return Judgement(NOT_TESTED, note="the result carries no value")
    try:
        value = convert(raw, measurement.unit, unit, limit.parameter)
    except UnitError:
        return Judgement(
            NOT_TESTED,
            raw,
            canonical_unit(measurement.unit),
            f"result unit {measurement.unit!r} cannot be compared with limit unit {limit.unit!r}",
        )
    shown_unit = canonical_unit(unit)
    if measurement.below_loq:
        return _judge_below_loq(limit, value, shown_unit)

    if limit.comparator == "range":
        lo, hi = parse_range(limit.limit_text)  # type: ignore[misc]
        if measurement.not_detected:
            # Below the LOD: the true value lies in [0, LOD); it is inside only if the range covers that.
            if lo <= 0 and value <= hi:
                return Judgement(PASS, value, shown_unit, "not detected")
            if value <= lo:
                return Judgement(FAIL, value, shown_unit, "not detected, below the range")
            return Judgement(NOT_TESTED, value, shown_unit, "inconclusive: the LOD lies inside the range")
        return Judgement(PASS if lo <= value <= hi else FAIL, value, shown_unit)

    bound = limit.limit_value
    assert bound is not None
    if not measurement.not_detected:
        return Judgement(PASS if _compare(value, limit.comparator, bound) else FAIL, value, shown_unit)

    # Not detected: the true value is somewhere below the LOD (``value`` here).
    if limit.comparator in UPPER:
        if value <= bound:
            return Judgement(PASS, value, shown_unit, "not detected; LOD at or below the limit")
        return Judgement(NOT_TESTED, value, shown_unit, "inconclusive: the LOD is above the limit")
    if limit.comparator in LOWER:
        if value <= bound:
            return Judgement(FAIL, value, shown_unit, "not detected; below the minimum")
        return Judgement(NOT_TESTED, value, shown_unit, "inconclusive: the LOD is above the minimum")
    # "==": a non-detect cannot equal a positive figure below which it provably lies.
    if bound > 0 and value <= bound:
        return Judgement(FAIL, value, shown_unit, "not detected; below the required value")
    return Judgement(NOT_TESTED, value, shown_unit, "inconclusive: not detected")


def _judge_not_detected(limit: Limit, measurement: Measurement) -> Judgement:
    """A "must not be detected" limit; under ``not_detected_below`` a figure counts as not detected."""
    unit = canonical_unit(measurement.unit)
    if measurement.not_detected:
        return Judgement(PASS, measurement.lod, unit, "not detected")
    figure = measurement.loq if measurement.below_loq else measurement.value
    if figure is None or (figure <= 0 and not measurement.below_loq):
        return Judgement(PASS, figure, unit)
    if limit.not_detected_below is not None:
        try:
            in_limit_unit = convert(figure, measurement.unit, limit.unit or measurement.unit, limit.parameter)
        except UnitError:
            return Judgement(
                NOT_TESTED, figure, unit,
                f"result unit {measurement.unit!r} cannot be compared with limit unit {limit.unit!r}",
            )  # fmt: skip
        # Below the LOQ the true value is under the LOQ: it counts as not detected when the LOQ does.
        if in_limit_unit < limit.not_detected_below or (
            measurement.below_loq and in_limit_unit <= limit.not_detected_below
        ):
            return Judgement(
                PASS, in_limit_unit, canonical_unit(limit.unit or measurement.unit), "counts as not detected"
            )
    return Judgement(FAIL, figure, unit, "detected" if not measurement.below_loq else "detected, below the LOQ")


def _judge_below_loq(limit: Limit, loq: Decimal, unit: str) -> Judgement:
    """未检出(<定量限): detected, and somewhere between the LOD and the LOQ (``loq`` in the limit's unit)."""
    if limit.comparator == "range":
        lo, hi = parse_range(limit.limit_text)  # type: ignore[misc]
        if lo <= 0 and loq <= hi:
            return Judgement(PASS, loq, unit, "below the LOQ; LOQ within the range")
        if loq <= lo:
            return Judgement(FAIL, loq, unit, "below the LOQ, below the range")
        return Judgement(NOT_TESTED, loq, unit, "inconclusive: the LOQ lies inside the range")
    bound = limit.limit_value
    assert bound is not None
    if limit.comparator in UPPER:
        if loq <= bound:
            return Judgement(PASS, loq, unit, "below the LOQ; LOQ at or below the limit")
        return Judgement(NOT_TESTED, loq, unit, "inconclusive: the LOQ is above the limit")
    if limit.comparator in LOWER:
        if loq <= bound:
            return Judgement(FAIL, loq, unit, "below the LOQ; below the minimum")
        return Judgement(NOT_TESTED, loq, unit, "inconclusive: the LOQ is above the minimum")
    return Judgement(NOT_TESTED, loq, unit, "inconclusive: below the LOQ")


_SEVERITY = {FAIL: 4, NEEDS_REVIEW: 3, NOT_TESTED: 2, PASS: 1, NO_LIMIT: 0}


def _recency(m: Measurement) -> tuple[dt.datetime, dt.datetime, int]:
    floor = dt.datetime.min.replace(tzinfo=dt.UTC)
    return (m.sampled_at or floor, m.tested_at or floor, m.result_id)


def judge_worst(limit: Limit, measurements: Sequence[Measurement]) -> tuple[Judgement, Measurement | None]:
    """Judge every result for the limit's parameter and keep the worst (the latest among equals).

    A failed result is never hidden by a later pass: a batch that failed never reads as compliant.
    Only results on the limit's basis are judged; when there are none, the latest says why not.
    """
    if not measurements:
        return judge(limit, None), None
    same_basis = [m for m in measurements if m.basis == limit.basis]
    if not same_basis:
        latest = max(measurements, key=_recency)
        return judge(limit, latest), latest
    judged = [(judge(limit, m), m) for m in same_basis]
    return max(judged, key=lambda jm: (_SEVERITY[jm[0].verdict], _recency(jm[1])))


def _strictness(limit: Limit) -> tuple[str, str, tuple[Decimal, int]] | None:
    """(direction, dimension, sort key: smaller is stricter), or None when the row governs alone."""
    if limit.comparator == "not_detected":
        return "upper", "any", (Decimal("-Infinity"), 0)
    if limit.comparator not in UPPER + LOWER or limit.limit_value is None:
        return None
    if limit.unit:
        try:
            base, dim = to_base(limit.limit_value, limit.unit, limit.parameter)
        except UnitError:
            base, dim = limit.limit_value, _unit_key(limit.unit)
    else:
        base, dim = limit.limit_value, ""
    if limit.comparator in UPPER:
        return "upper", dim, (base, 0 if limit.comparator == "<" else 1)
    return "lower", dim, (-base, 0 if limit.comparator == ">" else 1)


def mark_governing(rows: Sequence[Row]) -> list[Row]:
    """Among judgeable rows binding one parameter in one direction (and dimension), the strictest governs.

    Ties go to the mandatory standard, then to the first listed. A "not detected" requirement is
    stricter than any maximum of any unit. Equality and range rows govern themselves. Rows compete
    only with rows in force on the same sampling dates (an edition judges its own dates' results),
    and a grading row only with grading rows.
    """
    out = list(rows)
    groups: dict[tuple[str, str, str, tuple[dt.date, ...], bool], list[int]] = {}
    not_detected: dict[tuple[str, str, tuple[dt.date, ...], bool], list[int]] = {}
    for i, row in enumerate(out):
        if row.limit is None or not judgeable(row.limit):
            continue
        key = _strictness(row.limit)
        if key is None:
            out[i] = replace(row, governing=True)
            continue
        direction, dim, _ = key
        if dim == "any":
            not_detected.setdefault((row.parameter, direction, row.dates, row.grading), []).append(i)
        else:
            groups.setdefault((row.parameter, direction, dim, row.dates, row.grading), []).append(i)
    # "Not detected" competes with every maximum of the parameter, whatever its unit.
    for (param, direction, dates, grading), members in not_detected.items():
        same = [k for k in groups if (k[0], k[1], k[3], k[4]) == (param, direction, dates, grading)]
        for k in same:
            groups[k] = groups[k] + members
        if not same:
            groups[(param, direction, "any", dates, grading)] = members
    for members in groups.values():
        best = min(
            members,
            key=lambda i: (_strictness(out[i].limit)[2], not out[i].limit.mandatory, i),  # type: ignore[arg-type,index,union-attr]
        )
        out[best] = replace(out[best], governing=True)
    return out


def _graded(judgement: Judgement, limit: Limit) -> Judgement:
    """A grading item's pass or fail is a grade met or not, never a food-safety verdict."""
    if not limit.grading:
        return judgement
    verdict = {PASS: GRADE_MET, FAIL: GRADE_NOT_MET}.get(judgement.verdict, judgement.verdict)
    return replace(judgement, verdict=verdict)


def evaluate(
    limits: Sequence[Limit],
    measurements: Sequence[Measurement],
    *,
    limits_on: Mapping[dt.date, Sequence[Limit]] | None = None,
    grading_parameters: frozenset[str] = frozenset(),
    reviews: Sequence[Review] = (),
) -> list[Row]:
    """The clause table: one row per judged limit, then one per measured parameter nothing limits.

    ``limits`` bind on the batch's reference date (the latest sampling date, else its own date).
    ``limits_on`` gives, per sampling date, the limits in force that day: each result is judged
    by its own date's editions, so a parameter tested under two editions has a row for each. A
    limit of the reference date whose parameter no result reached is a ``not_tested`` row; one
    in force only on another date appears only with results to judge. Without ``limits_on`` every
    result is judged by ``limits``.
    """
    dated = dict(limits_on or {})
    judged_by: dict[int, tuple[Limit, list[Measurement], list[dt.date]]] = {}
    order: list[int] = []
    covered: set[int] = set()  # ids of measurements some limit judged

    def bind(limit: Limit, found: list[Measurement], day: dt.date | None) -> None:
        if limit.requirement_id not in judged_by:
            judged_by[limit.requirement_id] = (limit, [], [])
            order.append(limit.requirement_id)
        entry = judged_by[limit.requirement_id]
        entry[1].extend(found)
        if day is not None and day not in entry[2]:
            entry[2].append(day)

    if dated:
        for day in sorted(dated):
            todays = [m for m in measurements if m.sampled_on == day]
            for limit in dated[day]:
                found = [m for m in todays if m.parameter == limit.parameter]
                if found:
                    bind(limit, found, day)
                    covered.update(id(m) for m in found)
        undated = [m for m in measurements if m.sampled_on not in dated]
    else:
        undated = list(measurements)
    measured = {judged_by[r][0].parameter for r in order}
    for limit in limits:
        found = [m for m in undated if m.parameter == limit.parameter]
        covered.update(id(m) for m in found)
        if found or limit.requirement_id in judged_by or limit.parameter not in measured:
            bind(limit, found, None)
    rows: list[Row] = []
    for rid in order:
        limit, found, days = judged_by[rid]
        judgement, used = judge_worst(limit, found)
        judgement = _graded(judgement, limit)
        rows.append(
            Row(
                limit=limit,
                parameter=limit.parameter,
                verdict=judgement.verdict,
                measurement=used,
                value=judgement.value,
                value_unit=judgement.value_unit,
                note=judgement.note,
                dates=tuple(sorted(days)),
            )
        )
    # A row with no figure awaits review only when no other row holds a figure for the parameter
    # on its dates: then a limit is on record, and that row judges the result.
    figured = {(r.parameter, r.dates) for r in rows if r.limit is not None and judgeable(r.limit)}
    rows = [
        replace(r, verdict=NO_LIMIT, note="no limit on record")
        if r.verdict == NEEDS_REVIEW and (r.parameter, r.dates) in figured
        else r
        for r in rows
    ]
    unlimited: dict[str, list[Measurement]] = {}
    for m in measurements:
        if id(m) not in covered:
            unlimited.setdefault(m.parameter, []).append(m)
    for parameter, found in unlimited.items():
        detected = [m for m in found if m.detected]
        latest = max(detected or found, key=_recency)
        shown = latest.lod if latest.not_detected else (latest.loq if latest.below_loq else latest.value)
        review_due = bool(detected) and is_residue(parameter, grading_parameters)
        rows.append(
            Row(
                limit=None,
                parameter=parameter,
                verdict=NEEDS_REVIEW if review_due else NO_LIMIT,
                measurement=latest,
                value=shown,
                value_unit=canonical_unit(latest.unit),
                note=NEEDS_REVIEW_NOTE if review_due else NO_LIMIT_NOTE,
            )
        )
    return apply_reviews(mark_governing(rows), reviews)


NO_LIMIT_NOTE = "no limit on record for this product in the standards bound to the batch"


def apply_reviews(rows: Sequence[Row], reviews: Sequence[Review]) -> list[Row]:
    """An inspector's latest decision on a ``needs_review`` row (same parameter, same report) decides it."""
    latest: dict[tuple[str, str | None], Review] = {}
    for review in sorted(reviews, key=lambda r: r.seq):
        latest[(review.parameter, review.report_no)] = review
    out = []
    for row in rows:
        report = row.measurement.report_no if row.measurement else None
        decided = latest.get((row.parameter, report))
        if row.verdict == NEEDS_REVIEW and decided is not None:
            row = replace(row, verdict=decided.decision, review=decided, note="decided by an inspector's review")
        out.append(row)
    return out


@dataclass(frozen=True)
class Overall:
    verdict: str
    reasons: list[str] = field(default_factory=list)
    # The verdict rests on at least one provisional (unverified) governing limit.
    provisional_basis: bool = False


def overall(rows: Sequence[Row], pre_harvest_breaches: int = 0) -> Overall:
    """fail > incomplete > pass; a batch with nothing judgeable is incomplete, never a pass.

    Grading rows give a grade and never move the food-safety verdict; a ``needs_review`` row
    (a residue detected with no limit on record) keeps the batch ``incomplete`` until decided.
    """
    reasons: list[str] = []
    safety = [r for r in rows if not r.grading]
    failed = [r for r in safety if r.verdict == FAIL]
    untested = [r for r in safety if r.verdict == NOT_TESTED]
    pending = [r for r in safety if r.verdict == NEEDS_REVIEW]
    passed = [r for r in safety if r.verdict == PASS]
    for r in failed:
        where = f"{r.limit.standard} {r.limit.clause or ''}".strip() if r.limit else "inspector's review"
        reasons.append(f"{r.parameter} fails {where}")
    if pre_harvest_breaches:
        reasons.append(f"{pre_harvest_breaches} pre-harvest interval breach(es)")
    for r in pending:
        reasons.append(f"{r.parameter} detected with no limit on record: needs an inspector's review")
    for r in untested:
        reasons.append(f"{r.parameter} not tested" + (f" ({r.note})" if r.note else ""))
    unlimited = [r for r in rows if r.limit is None and r.verdict == NO_LIMIT]
    if unlimited:
        reasons.append(f"{len(unlimited)} result(s) with no limit on record")
    provisional_basis = any(r.governing and r.provisional and r.verdict in (PASS, FAIL) for r in safety)
    if failed or pre_harvest_breaches:
        return Overall(FAIL, reasons, provisional_basis)
    if untested or pending:
        return Overall(INCOMPLETE, reasons, provisional_basis)
    if not passed:
        return Overall(INCOMPLETE, [*reasons, "no limit could be judged"], provisional_basis)
    return Overall(PASS, reasons, provisional_basis)


# ---------------------------------------------------------------------------------------------
# The mandatory floor for organizations' own standards
# ---------------------------------------------------------------------------------------------


def looser_than(
    comparator: str, limit: Decimal | None, unit: str, floor: Limit
) -> bool:  # fmt: skip
    """Whether a declared limit is looser than a mandatory one on the same parameter.

    Only limits pointing the same way compete (a minimum does not loosen a maximum: both bind).
    "Not detected" is never looser than a maximum. Raises ``UnitError`` when units cannot compare.
    """
    if floor.comparator not in UPPER + LOWER or floor.limit_value is None:
        return False
    if floor.comparator in UPPER:
        if comparator == "not_detected":
            return False
        if comparator not in UPPER or limit is None:
            return False
        mine = convert(limit, unit, floor.unit or unit, floor.parameter)
        if mine != floor.limit_value:
            return mine > floor.limit_value
        return comparator == "<=" and floor.comparator == "<"
    if comparator not in LOWER or limit is None:
        return False
    mine = convert(limit, unit, floor.unit or unit, floor.parameter)
    if mine != floor.limit_value:
        return mine < floor.limit_value
    return comparator == ">=" and floor.comparator == ">"
