"""The compliance rules, as pure functions: units, verdicts and the strictest limit.

What depends on dates (the edition in force, pre-harvest intervals, a certificate's validity) is
in ``timing.py``.

Nothing here touches the database. The service turns stored standards, requirements and results
into the small value types below, asks these functions for verdicts, and stores what follows
(findings). Decisions worth knowing (each also said where it is made):

- Units of one kind convert, exactly, by app/units.py: mass fractions (mg/kg, µg/kg, g/100g,
  %, mg/g, g/kg, and their Chinese names), masses, volumes; every other unit (CFU/g,
  MPN/100g, mm, ...) only to itself. An unconvertible pair is a ``UnitError`` naming the
  parameter and both units.
- "Not detected" (below the limit of detection, LOD) meets an upper limit only when the LOD is at
  or below it; a higher LOD proves nothing, so the row is ``not_tested`` (inconclusive), never a
  pass. Against a minimum (>=, >) a non-detect at an LOD at or below the minimum is a fail.
- A limit that is not one number (a sampling plan such as "n=5,c=2,m=10^4,M=10^5", free text, or a
  missing figure) gives ``no_limit``: "no limit on record", never a pass. Ranges such as "15 ± 2"
  or "13-17" are parsed and judged.
- Where several limits bind one parameter in one direction, the strictest governs (the lowest
  maximum, the highest minimum; "not detected" is stricter than any maximum) and only that row is
  marked ``governing``.
- The overall verdict is ``fail`` if any row fails or a pre-harvest interval was broken,
  ``incomplete`` if any row is not tested (or nothing could be judged at all), ``pass`` otherwise.
  A batch that failed once keeps failing: every result counts, and the worst one is shown.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation

from app import units

PASS = "pass"  # noqa: S105 - a verdict, not a password
FAIL = "fail"
NOT_TESTED = "not_tested"
NO_LIMIT = "no_limit"
INCOMPLETE = "incomplete"

ROW_VERDICTS = (PASS, FAIL, NOT_TESTED, NO_LIMIT)
OVERALL_VERDICTS = (PASS, FAIL, INCOMPLETE)

UPPER = ("<=", "<")
LOWER = (">=", ">")
NUMERIC_COMPARATORS = ("<=", "<", ">=", ">", "==")
# Comparators an organization may use in its own standard (range/text limits cannot be checked
# against the mandatory floor, so they are not accepted there).
DECLARABLE_COMPARATORS = (*NUMERIC_COMPARATORS, "not_detected")

# ---------------------------------------------------------------------------------------------
# Units
# ---------------------------------------------------------------------------------------------

# The units and their sizes are app/units.py's; what follows is how the rules use them.
MASS_BASE_UNIT = units.MASS_FRACTION_BASE


class UnitError(ValueError):
    """Two units that do not measure the same thing, or a unit that is not one."""

    def __init__(self, parameter: str, from_unit: str | None, to_unit: str | None, reason: str | None = None) -> None:
        self.parameter = parameter
        self.from_unit = from_unit
        self.to_unit = to_unit
        why = reason or "they do not measure the same thing; only units of one kind convert"
        super().__init__(f"{parameter}: cannot convert {from_unit!r} to {to_unit!r}: {why}")


def _unit_key(unit: str) -> str:
    return re.sub(r"\s+", "", unit).lower()


def canonical_unit(unit: str) -> str:
    """The unit as we print it: ``ug/kg``, ``μg/kg`` and 微克/千克 become ``µg/kg``; others are trimmed."""
    return units.canonical(unit)


def unit_alternatives(unit: str | None) -> list[str]:
    """The catalog sometimes gives two units ("mmol/kg or g/100g"); each is an alternative."""
    if not unit:
        return []
    return [u.strip() for u in re.split(r"\s+or\s+|\s*或\s*", unit) if u.strip()]


def dimension(unit: str) -> str:
    """What a unit measures: its kind when app/units.py knows it (mass_fraction, mass, ...), else the unit itself."""
    return units.kind_of(unit) or _unit_key(unit)


def units_compatible(a: str | None, b: str | None) -> bool:
    if not a or not b:
        return False
    return any(dimension(x) == dimension(y) for x in unit_alternatives(a) for y in unit_alternatives(b))


def convert(value: Decimal, from_unit: str, to_unit: str, parameter: str) -> Decimal:
    """``value`` in ``from_unit`` expressed in ``to_unit``; a ``UnitError`` names both units."""
    for src in unit_alternatives(from_unit) or [from_unit]:
        for dst in unit_alternatives(to_unit) or [to_unit]:
            a, b = _unit_key(src), _unit_key(dst)
            if units.kind_of(src) is not None and units.kind_of(src) == units.kind_of(dst):
                return units.convert(value, src, dst)
            if a == b and a:
                return value
    raise UnitError(parameter, from_unit, to_unit)


def to_base(value: Decimal, unit: str, parameter: str) -> tuple[Decimal, str]:
    """A value in its dimension's base unit (mg/kg for mass fractions), to rank limits."""
    if dimension(unit) == units.MASS_FRACTION:
        return convert(value, unit, MASS_BASE_UNIT, parameter), "mass_fraction"
    return value, dimension(unit)


def format_decimal(value: Decimal | None) -> str | None:
    """Plain digits without exponent or trailing zeros: 300, 0.05, 5."""
    if value is None:
        return None
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


# ---------------------------------------------------------------------------------------------
# Verdicts
# ---------------------------------------------------------------------------------------------


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
    binding: str | None = None  # mandatory, default or declared
    parameter_zh: str | None = None
    parameter_en: str | None = None


@dataclass(frozen=True)
class Measurement:
    """One result of one inspection."""

    parameter: str
    unit: str
    value: Decimal | None = None
    not_detected: bool = False
    lod: Decimal | None = None
    report_no: str | None = None
    lab: str | None = None
    sampled_at: dt.datetime | None = None
    tested_at: dt.datetime | None = None
    result_id: int = 0


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

    @property
    def provisional(self) -> bool:
        return bool(self.limit and self.limit.provisional)


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


def _compare(value: Decimal, comparator: str, bound: Decimal) -> bool:
    return {
        "<=": value <= bound,
        "<": value < bound,
        ">=": value >= bound,
        ">": value > bound,
        "==": value == bound,
    }[comparator]


def judge(limit: Limit, measurement: Measurement | None) -> Judgement:
    """The verdict of one result against one limit (see the module docstring for the rules)."""
    if not judgeable(limit):
        why = "no limit on record" if limit.limit_value is None and not limit.limit_text else "limit not numeric"
        if limit.limit_text:
            why = f"limit {limit.limit_text!r} cannot be judged automatically"
        return Judgement(NO_LIMIT, note=why)
    if measurement is None:
        return Judgement(NOT_TESTED, note="no result for this parameter")
    if limit.comparator == "not_detected":
        if measurement.not_detected:
            return Judgement(PASS, measurement.lod, canonical_unit(measurement.unit), "not detected")
        detected = measurement.value is not None and measurement.value > 0
        return Judgement(FAIL if detected else PASS, measurement.value, canonical_unit(measurement.unit))

    unit = limit.unit or measurement.unit
    raw = measurement.lod if measurement.not_detected else measurement.value
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


_SEVERITY = {FAIL: 3, NOT_TESTED: 2, PASS: 1, NO_LIMIT: 0}


def _recency(m: Measurement) -> tuple[dt.datetime, dt.datetime, int]:
    floor = dt.datetime.min.replace(tzinfo=dt.UTC)
    return (m.sampled_at or floor, m.tested_at or floor, m.result_id)


def judge_worst(limit: Limit, measurements: Sequence[Measurement]) -> tuple[Judgement, Measurement | None]:
    """Judge every result for the limit's parameter and keep the worst (the latest among equals).

    A failed result is never hidden by a later pass: a batch that failed never reads as compliant.
    """
    if not measurements:
        return judge(limit, None), None
    judged = [(judge(limit, m), m) for m in measurements]
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
    stricter than any maximum of any unit. Equality and range rows govern themselves.
    """
    out = list(rows)
    groups: dict[tuple[str, str, str], list[int]] = {}
    not_detected: dict[tuple[str, str], list[int]] = {}
    for i, row in enumerate(out):
        if row.limit is None or not judgeable(row.limit):
            continue
        key = _strictness(row.limit)
        if key is None:
            out[i] = replace(row, governing=True)
            continue
        direction, dim, _ = key
        if dim == "any":
            not_detected.setdefault((row.parameter, direction), []).append(i)
        else:
            groups.setdefault((row.parameter, direction, dim), []).append(i)
    # "Not detected" competes with every maximum of the parameter, whatever its unit.
    for (param, direction), members in not_detected.items():
        same = [k for k in groups if k[0] == param and k[1] == direction]
        for k in same:
            groups[k] = groups[k] + members
        if not same:
            groups[(param, direction, "any")] = members
    for members in groups.values():
        best = min(
            members,
            key=lambda i: (_strictness(out[i].limit)[2], not out[i].limit.mandatory, i),  # type: ignore[arg-type,index,union-attr]
        )
        out[best] = replace(out[best], governing=True)
    return out


def evaluate(limits: Sequence[Limit], measurements: Sequence[Measurement]) -> list[Row]:
    """The clause table: one row per binding limit, then one per measured parameter nothing limits."""
    by_parameter: dict[str, list[Measurement]] = {}
    for m in measurements:
        by_parameter.setdefault(m.parameter, []).append(m)
    rows: list[Row] = []
    for limit in limits:
        judgement, used = judge_worst(limit, by_parameter.get(limit.parameter, []))
        rows.append(
            Row(
                limit=limit,
                parameter=limit.parameter,
                verdict=judgement.verdict,
                measurement=used,
                value=judgement.value,
                value_unit=judgement.value_unit,
                note=judgement.note,
            )
        )
    limited = {limit.parameter for limit in limits}
    for parameter, found in by_parameter.items():
        if parameter in limited:
            continue
        latest = max(found, key=_recency)
        shown = latest.lod if latest.not_detected else latest.value
        rows.append(
            Row(
                limit=None,
                parameter=parameter,
                verdict=NO_LIMIT,
                measurement=latest,
                value=shown,
                value_unit=canonical_unit(latest.unit),
                note="no limit on record for this product in the standards bound to the batch",
            )
        )
    return mark_governing(rows)


@dataclass(frozen=True)
class Overall:
    verdict: str
    reasons: list[str] = field(default_factory=list)
    # The verdict rests on at least one provisional (unverified) governing limit.
    provisional_basis: bool = False


def overall(rows: Sequence[Row], pre_harvest_breaches: int = 0) -> Overall:
    """fail > incomplete > pass; a batch with nothing judgeable is incomplete, never a pass."""
    reasons: list[str] = []
    failed = [r for r in rows if r.verdict == FAIL]
    untested = [r for r in rows if r.verdict == NOT_TESTED]
    passed = [r for r in rows if r.verdict == PASS]
    for r in failed:
        where = f"{r.limit.standard} {r.limit.clause or ''}".strip() if r.limit else "?"
        reasons.append(f"{r.parameter} fails {where}")
    if pre_harvest_breaches:
        reasons.append(f"{pre_harvest_breaches} pre-harvest interval breach(es)")
    for r in untested:
        reasons.append(f"{r.parameter} not tested" + (f" ({r.note})" if r.note else ""))
    unlimited = [r for r in rows if r.limit is None]
    if unlimited:
        reasons.append(f"{len(unlimited)} result(s) with no limit on record")
    provisional_basis = any(r.governing and r.provisional and r.verdict in (PASS, FAIL) for r in rows)
    if failed or pre_harvest_breaches:
        return Overall(FAIL, reasons, provisional_basis)
    if untested:
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
