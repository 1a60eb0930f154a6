"""The compliance rules as pure functions: table-driven cases, no database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from app.clock import CHINA_TZ
from app.compliance import rules, timing
from app.compliance.rules import Limit, Measurement
from app.compliance.timing import Edition

UTC = dt.UTC
CST = CHINA_TZ


def limit(parameter="lead", comparator="<=", value="5.0", unit="mg/kg", text=None, provisional=False, **kw):
    return Limit(
        requirement_id=kw.pop("rid", 1),
        standard=kw.pop("standard", "GB 2762-2022"),
        edition=kw.pop("edition", "2022"),
        clause=kw.pop("clause", "4.1 表1"),
        parameter=parameter,
        comparator=comparator,
        limit_value=None if value is None else D(value),
        limit_text=text,
        unit=unit,
        provisional=provisional,
        **kw,
    )


def result(parameter="lead", value=None, unit="mg/kg", nd=False, lod=None, report="R1", sampled=None, rid=1, **kw):
    if "loq" in kw:
        kw["loq"] = D(kw["loq"])
    return Measurement(
        parameter=parameter,
        unit=unit,
        value=None if value is None else D(value),
        not_detected=nd,
        lod=None if lod is None else D(lod),
        report_no=report,
        sampled_at=sampled or dt.datetime(2026, 6, 1, tzinfo=UTC),
        result_id=rid,
        **kw,
    )


# --- units ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "src", "dst", "expected"),
    [
        ("4000", "µg/kg", "mg/kg", "4"),
        ("4000", "ug/kg", "mg/kg", "4"),
        ("4000", "μg/kg", "mg/kg", "4"),  # Greek mu, not the micro sign
        ("0.3", "mg/kg", "µg/kg", "300"),
        ("0.25", "g/100g", "mg/kg", "2500"),
        ("0.25", "g/100g", "%", "0.25"),
        ("12", "%", "g/kg", "120"),
        ("3", "mg/g", "mg/kg", "3000"),
        ("3", "mg/g", "g/kg", "3"),
        ("150", "CFU/g", "CFU/g", "150"),
        ("150", "CFU/g", "cfu/g", "150"),
        ("30", "MPN/100g", "MPN/100 g", "30"),
        ("16", "mm", "mm", "16"),
    ],
)
def test_units_convert_within_a_dimension(value, src, dst, expected):
    assert rules.convert(D(value), src, dst, "x") == D(expected)


@pytest.mark.parametrize(
    ("src", "dst"),
    [("CFU/g", "MPN/100g"), ("mg/kg", "CFU/g"), ("mm", "g"), ("g", "mg/kg"), ("mmol/kg", "mg/kg")],
)
def test_unconvertible_units_name_the_parameter_and_both_units(src, dst):
    with pytest.raises(rules.UnitError) as caught:
        rules.convert(D(1), src, dst, "coliforms")
    message = str(caught.value)
    assert "coliforms" in message and repr(src) in message and repr(dst) in message


def test_a_two_unit_catalog_entry_accepts_either():
    assert rules.units_compatible("g/100g", "mmol/kg or g/100g")
    assert rules.units_compatible("mmol/kg", "mmol/kg or g/100g")
    assert not rules.units_compatible("CFU/g", "mmol/kg or g/100g")


def test_canonical_units():
    assert rules.canonical_unit(" ug/kg ") == "µg/kg"
    assert rules.canonical_unit("μg/kg") == "µg/kg"
    assert rules.canonical_unit("CFU/g") == "CFU/g"


# --- editions -----------------------------------------------------------------------------------

GB2763_2021 = Edition(1, "GB 2763-2021", "GB 2763", "2021", dt.date(2021, 9, 3))
GB2763_2026 = Edition(2, "GB 2763-2026", "GB 2763", "2026", dt.date(2026, 3, 1))
GB11765 = Edition(3, "GB/T 11765-2018", "GB/T 11765", "2018", None)
PASTRY_2007 = Edition(4, "GB/T 20977-2007", "GB/T 20977", "2007", dt.date(2007, 12, 1))
PASTRY_2024 = Edition(5, "GB/T 20977-2024", "GB/T 20977", "2024", dt.date(2026, 5, 1))
Q_UNDATED = Edition(6, "Q/X 1-2020", "Q/X 1", "2020", None)
Q_DATED = Edition(7, "Q/X 1-2026", "Q/X 1", "2026", dt.date(2026, 7, 1))
# A supplement with no plain effective date, replaced by GB 2763-2026 under another base code.
GB2763_1 = Edition(8, "GB 2763.1-2022", "GB 2763.1", "2022", None, "GB 2763-2026", dt.date(2026, 3, 1))


@pytest.mark.parametrize(
    ("editions", "on", "expected", "note"),
    [
        ([GB2763_2021, GB2763_2026], dt.date(2026, 2, 28), "GB 2763-2021", "in force since 2021-09-03"),
        ([GB2763_2021, GB2763_2026], dt.date(2026, 3, 1), "GB 2763-2026", "in force since 2026-03-01"),
        ([GB2763_2021, GB2763_2026], dt.date(2021, 1, 1), None, "not yet in force"),
        ([GB11765], dt.date(2026, 6, 1), "GB/T 11765-2018", "effective date unknown"),
        ([PASTRY_2007, PASTRY_2024], dt.date(2026, 4, 30), "GB/T 20977-2007", "in force since"),
        ([PASTRY_2007, PASTRY_2024], dt.date(2026, 5, 1), "GB/T 20977-2024", "in force since"),
        # An undated edition yields to a dated one in force, and stands in while none is.
        ([Q_UNDATED, Q_DATED], dt.date(2026, 8, 1), "Q/X 1-2026", "in force since"),
        ([Q_UNDATED, Q_DATED], dt.date(2026, 6, 1), "Q/X 1-2020", "Q/X 1-2026 not yet in force"),
        ([GB2763_1], dt.date(2026, 2, 28), "GB 2763.1-2022", "effective date unknown"),
        ([GB2763_1], dt.date(2026, 3, 1), None, "superseded by GB 2763-2026 since 2026-03-01"),
    ],
)
def test_the_edition_in_force_on_the_date_applies(editions, on, expected, note):
    [choice] = timing.choose_editions(editions, on)
    assert (choice.chosen.code if choice.chosen else None) == expected
    assert note in choice.note


def test_requirement_scope():
    assert timing.requirement_applies("brick_tea", ["all"], "brick_tea")
    assert not timing.requirement_applies("loquat", ["all"], "brick_tea")
    assert timing.requirement_applies(None, ["all"], "mahua")
    assert timing.requirement_applies(None, ["camellia_oil", "mahua"], "mahua")
    assert not timing.requirement_applies(None, ["camellia_oil", "mahua"], "loquat")


# --- verdicts per row ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lim", "res", "verdict", "shown"),
    [
        (limit(value="5.0"), result(value="4.9"), "pass", "4.9"),
        (limit(value="5.0"), result(value="5.0"), "pass", "5"),
        (limit(value="5.0"), result(value="5.01"), "fail", "5.01"),
        (limit(comparator="<", value="5.0"), result(value="5.0"), "fail", "5"),
        (limit(comparator=">=", value="21", unit="%", parameter="water_extract"),
         result(parameter="water_extract", value="20.9", unit="%"), "fail", "20.9"),
        (limit(comparator=">", value="21", unit="%"), result(value="21.1", unit="%"), "pass", "21.1"),
        (limit(comparator="==", value="7", unit="mm"), result(value="7", unit="mm"), "pass", "7"),
        # unit conversion: 4000 µg/kg is 4 mg/kg, under 5; 6000 µg/kg is over
        (limit(value="5.0"), result(value="4000", unit="µg/kg"), "pass", "4"),
        (limit(value="5.0"), result(value="6000", unit="ug/kg"), "fail", "6"),
        (limit(value="10", unit="ug/kg"), result(value="0.012", unit="mg/kg"), "fail", "12"),
        (limit(value="0.25", unit="g/100g"), result(value="2400", unit="mg/kg"), "pass", "0.24"),
        # not detected: the LOD decides, conservatively
        (limit(value="5.0"), result(nd=True, lod="0.5"), "pass", "0.5"),
        (limit(value="5.0"), result(nd=True, lod="5.0"), "pass", "5"),
        (limit(value="0.5"), result(nd=True, lod="1"), "not_tested", "1"),
        (limit(comparator=">=", value="21", unit="%"), result(nd=True, lod="0.1", unit="%"), "fail", "0.1"),
        (limit(comparator="not_detected", value=None), result(nd=True, lod="0.01"), "pass", "0.01"),
        (limit(comparator="not_detected", value=None), result(value="0.02"), "fail", "0.02"),
        # no limit on record: never a pass; a residue or contaminant found awaits an inspector's review
        (limit(value=None), result(value="1"), "needs_review", "1"),
        (limit(value=None), result(nd=True, lod="0.01"), "no_limit", None),
        (limit("moisture", value=None, unit="%"), result("moisture", "7", "%"), "no_limit", None),
        (limit(value=None), result(below_loq=True, loq="0.02"), "needs_review", "0.02"),
        (limit(value=None, text="n=5,c=2,m=10^4,M=10^5", unit="CFU/g"), result(value="10", unit="CFU/g"),
         "no_limit", None),
        (limit(comparator="text", value=None, text="见附录"), result(value="1"), "no_limit", None),
        # ranges that parse are judged
        (limit(comparator="range", value=None, text="15 ± 2", unit="mm"), result(value="16", unit="mm"), "pass", "16"),
        (limit(comparator="range", value=None, text="15 ± 2", unit="mm"), result(value="18", unit="mm"), "fail", "18"),
        (limit(comparator="range", value=None, text="13-17", unit="mm"), result(value="13", unit="mm"), "pass", "13"),
        # no result, and a result in a unit the limit cannot read
        (limit(value="5.0"), None, "not_tested", None),
        (limit(value="150", unit="CFU/g"), result(value="30", unit="MPN/100g"), "not_tested", "30"),
    ],
)  # fmt: skip
def test_row_verdicts(lim, res, verdict, shown):
    judgement = rules.judge(lim, res)
    assert judgement.verdict == verdict
    assert rules.format_decimal(judgement.value) == shown


def test_an_inconclusive_non_detect_says_why():
    judgement = rules.judge(limit(value="0.5"), result(nd=True, lod="1"))
    assert "inconclusive" in judgement.note


def test_a_failed_result_is_not_hidden_by_a_later_pass():
    early = result(value="7", report="R1", sampled=dt.datetime(2026, 5, 1, tzinfo=UTC), rid=1)
    later = result(value="1", report="R2", sampled=dt.datetime(2026, 6, 1, tzinfo=UTC), rid=2)
    judgement, used = rules.judge_worst(limit(value="5.0"), [early, later])
    assert judgement.verdict == "fail" and used.report_no == "R1"
    judgement, used = rules.judge_worst(limit(value="10"), [early, later])
    assert judgement.verdict == "pass" and used.report_no == "R2"  # the latest among equals


# --- the strictest limit governs -------------------------------------------------------------------


def _governing(rows):
    return [(r.limit.standard if r.limit else None, r.parameter) for r in rows if r.governing]


@pytest.mark.parametrize(
    ("limits", "measured", "governs", "verdicts"),
    [
        # Two maxima: the lower governs and decides.
        (
            [limit(value="5.0", standard="GB 2762-2022", rid=1, mandatory=True),
             limit(value="2", standard="Q/ENT 1-2026", rid=2)],
            [result(value="3")],
            [("Q/ENT 1-2026", "lead")],
            ["pass", "fail"],
        ),
        # Different units: 2000 µg/kg is 2 mg/kg, stricter than 5 mg/kg.
        (
            [limit(value="5.0", standard="A", rid=1), limit(value="2000", unit="µg/kg", standard="B", rid=2)],
            [result(value="1")],
            [("B", "lead")],
            ["pass", "pass"],
        ),
        # A tie goes to the mandatory standard; "<" beats "<=" at the same figure.
        (
            [limit(value="5", standard="Q", rid=1), limit(value="5", standard="GB", rid=2, mandatory=True)],
            [result(value="1")],
            [("GB", "lead")],
            ["pass", "pass"],
        ),
        (
            [limit(value="5", standard="A", rid=1), limit(comparator="<", value="5", standard="B", rid=2)],
            [result(value="5")],
            [("B", "lead")],
            ["pass", "fail"],
        ),
        # Minimum and maximum on one parameter each govern their own direction.
        (
            [limit("moisture", ">=", "5", "%", standard="A", rid=1),
             limit("moisture", "<=", "12", "%", standard="B", rid=2),
             limit("moisture", ">=", "6", "%", standard="C", rid=3)],
            [result("moisture", "7", "%")],
            [("B", "moisture"), ("C", "moisture")],
            ["pass", "pass", "pass"],
        ),
        # "Not detected" is stricter than any maximum.
        (
            [limit(value="5.0", standard="A", rid=1),
             limit(comparator="not_detected", value=None, standard="B", rid=2)],
            [result(value="0.1")],
            [("B", "lead")],
            ["pass", "fail"],
        ),
        # A row without a limit never governs.
        (
            [limit(value=None, standard="A", rid=1), limit(value="5.0", standard="B", rid=2)],
            [result(value="1")],
            [("B", "lead")],
            ["no_limit", "pass"],
        ),
    ],
)  # fmt: skip
def test_the_strictest_limit_governs(limits, measured, governs, verdicts):
    rows = rules.evaluate(limits, measured)
    assert _governing(rows) == governs
    assert [r.verdict for r in rows] == verdicts


def test_a_result_nothing_limits_gets_its_own_row():
    # A pesticide found with no limit on record awaits review; moisture (a quality item) and a
    # pesticide not detected are listed with no limit, and wait for nothing.
    rows = rules.evaluate(
        [limit(value="5.0")],
        [result(value="1"), result("pesticide.glyphosate", "0.5", rid=2), result("moisture", "7", "%", rid=3),
         result("pesticide.ddt", nd=True, lod="0.01", rid=4)],
    )  # fmt: skip
    extra = {r.parameter: r for r in rows[1:]}
    glyphosate = extra["pesticide.glyphosate"]
    assert (glyphosate.limit, glyphosate.verdict, glyphosate.governing) == (None, "needs_review", False)
    assert "no limit on record" in glyphosate.note
    assert extra["moisture"].verdict == extra["pesticide.ddt"].verdict == "no_limit"
    assert rules.overall(rows).verdict == "incomplete"


# --- the overall verdict -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("limits", "measured", "breaches", "verdict"),
    [
        ([limit(value="5.0")], [result(value="1")], 0, "pass"),
        ([limit(value="5.0")], [result(value="6")], 0, "fail"),
        ([limit(value="5.0"), limit("cadmium", rid=2)], [result(value="1")], 0, "incomplete"),
        ([limit(value="5.0"), limit("cadmium", rid=2)], [result(value="6")], 0, "fail"),
        ([limit(value="5.0")], [result(value="1")], 1, "fail"),
        ([limit(value=None)], [result(value="1")], 0, "incomplete"),  # nothing could be judged
        ([], [], 0, "incomplete"),
        ([limit(value="0.5")], [result(nd=True, lod="1")], 0, "incomplete"),
    ],
)
def test_overall_verdict(limits, measured, breaches, verdict):
    assert rules.overall(rules.evaluate(limits, measured), breaches).verdict == verdict


def test_a_provisional_governing_limit_is_carried_into_the_verdict():
    rows = rules.evaluate([limit("fluoride", value="300", provisional=True)], [result("fluoride", "250")])
    assert rows[0].provisional
    assert rules.overall(rows).provisional_basis
    rows = rules.evaluate([limit(value="5.0")], [result(value="1")])
    assert not rules.overall(rows).provisional_basis


# --- the mandatory floor, intervals, certificate dates -----------------------------------------------


@pytest.mark.parametrize(
    ("comparator", "value", "unit", "floor", "looser"),
    [
        ("<=", "6", "mg/kg", limit(value="5.0"), True),
        ("<=", "5", "mg/kg", limit(value="5.0"), False),
        ("<=", "4000", "µg/kg", limit(value="5.0"), False),
        ("<=", "6000", "µg/kg", limit(value="5.0"), True),
        ("<", "5", "mg/kg", limit(comparator="<", value="5.0"), False),
        ("<=", "5", "mg/kg", limit(comparator="<", value="5.0"), True),
        ("not_detected", None, "mg/kg", limit(value="5.0"), False),
        (">=", "1", "mg/kg", limit(value="5.0"), False),  # a minimum does not loosen a maximum
        (">=", "20", "%", limit(comparator=">=", value="21", unit="%"), True),
        (">=", "22", "%", limit(comparator=">=", value="21", unit="%"), False),
    ],
)
def test_looser_than_a_mandatory_limit(comparator, value, unit, floor, looser):
    assert rules.looser_than(comparator, None if value is None else D(value), unit, floor) is looser


def test_pre_harvest_intervals():
    applied = dt.datetime(2026, 4, 1, 8, tzinfo=UTC)
    use = timing.PesticideUse("吡虫啉", applied, 14, planting_seq=2)
    late_use = timing.PesticideUse("多菌灵", dt.datetime(2026, 4, 20, tzinfo=UTC), 7, planting_seq=3)
    [early] = timing.check_intervals([use, late_use], [(4, dt.datetime(2026, 4, 10, 8, tzinfo=UTC))])
    assert early.breached and early.days_short == 5
    # 08:00 UTC is 16:00 on 1 April in China; the interval is over when 15 April begins there.
    assert early.safe_from == dt.datetime(2026, 4, 15, tzinfo=CST)
    checks = timing.check_intervals([use], [(4, dt.datetime(2026, 4, 15, 8, tzinfo=UTC))])
    assert [c.breached for c in checks] == [False]


@pytest.mark.parametrize(
    ("on", "status"),
    [
        (dt.date(2025, 12, 31), "not_yet_valid"),
        (dt.date(2026, 1, 1), "valid"),
        (dt.date(2026, 12, 31), "valid"),
        (dt.date(2027, 1, 1), "expired"),
    ],
)
def test_certification_status_on_a_date(on, status):
    assert timing.certification_status(dt.date(2026, 1, 1), dt.date(2026, 12, 31), on) == status


def test_a_certificate_without_an_end_does_not_expire():
    assert timing.certification_status(dt.date(2019, 1, 1), None, dt.date(2040, 1, 1)) == "valid"


def test_aluminium_residue_binds_fried_flour_products_only(app):
    """GB 2760-2024's aluminium row names 油炸面制品: it binds mahua, not brick tea or loquat."""
    from sqlalchemy import select

    from app.catalog.models import Requirement, Standard
    from app.db import db

    req = db.session.scalar(
        select(Requirement)
        .join(Standard)
        .where(Standard.code == "GB 2760-2024", Requirement.parameter_key == "aluminium_residue")
    )
    assert req.product_key == "mahua"  # the catalog names it since the 2026-12 audit
    assert req.scoped_product == "mahua"
