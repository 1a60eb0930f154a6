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


# --- issue 9: units by parameter, LOQ, basis, grading, review, editions per sampling date ----------


@pytest.mark.parametrize(
    ("value", "src", "dst", "expected"),
    [
        # GB 5009.227: g/100g = mmol/kg × 0.02538, for peroxide value only
        ("10", "mmol/kg", "g/100g", "0.2538"),
        ("0.2538", "g/100g", "mmol/kg", "10"),
        ("10", "毫摩尔/千克", "g/100g", "0.2538"),
        ("0.25", "g/100g", "mmol/kg or g/100g", "0.25"),
    ],
)
def test_peroxide_value_converts_between_mmol_per_kg_and_grams_per_100g(value, src, dst, expected):
    assert rules.convert(D(value), src, dst, "peroxide_value") == D(expected)


def test_mmol_per_kg_converts_for_no_other_parameter():
    with pytest.raises(rules.UnitError):
        rules.convert(D(10), "mmol/kg", "g/100g", "lead")


@pytest.mark.parametrize(
    ("parameter", "src", "dst"),
    [("acid_value", "mg/g", "mg/kg"), ("acid_value", "mg/g", "g/kg"), ("fatty_acid_profile", "%", "mg/kg"),
     ("fatty_acid_profile", "%", "g/100g")],
)  # fmt: skip
def test_acid_value_and_fatty_acid_shares_are_not_mass_fractions(parameter, src, dst):
    with pytest.raises(rules.UnitError):
        rules.convert(D(3), src, dst, parameter)
    assert not rules.units_compatible(src, dst, parameter)
    assert rules.convert(D(3), src, src, parameter) == D(3)


def test_acid_value_in_mg_koh_per_g_is_the_limit_unit():
    assert rules.convert(D("2.5"), "mg KOH/g", "mg/g", "acid_value") == D("2.5")
    assert (
        rules.judge(limit("acid_value", value="3", unit="mg/g"), result("acid_value", "3", "mg KOH/g")).verdict
        == "pass"
    )


@pytest.mark.parametrize(
    ("value", "src", "dst", "expected"),
    [("1.6", "cm", "mm", "16"), ("16", "mm", "cm", "1.6"), ("2", "厘米", "毫米", "20"),
     ("5", "毫克/千克", "µg/kg", "5000"), ("0.3", "微克/千克", "mg/kg", "0.0003"),
     ("0.25", "克/100克", "mg/kg", "2500")],
)  # fmt: skip
def test_lengths_and_chinese_unit_names_convert(value, src, dst, expected):
    assert rules.convert(D(value), src, dst, "stalk_length") == D(expected)


def test_a_peroxide_result_in_mmol_per_kg_is_judged_against_a_limit_in_grams_per_100g():
    pv = limit("peroxide_value", value="0.25", unit="g/100g")
    assert rules.judge(pv, result("peroxide_value", "9.85", "mmol/kg")).verdict == "pass"  # 0.249993
    assert rules.judge(pv, result("peroxide_value", "9.86", "mmol/kg")).verdict == "fail"  # 0.2502468


@pytest.mark.parametrize(
    ("lim", "loq", "verdict"),
    [
        (limit(value="0.05"), "0.05", "pass"),  # LOQ at the limit: the true value is below it
        (limit(value="0.05"), "0.01", "pass"),
        (limit(value="0.05"), "0.1", "not_tested"),  # could be above: inconclusive, never a pass
        (limit(comparator=">=", value="1"), "0.5", "fail"),
        (limit(comparator=">=", value="1"), "2", "not_tested"),
        (limit(comparator="not_detected", value=None), "0.01", "fail"),  # detected, so not "not detected"
        (limit("solvent_residue", comparator="not_detected", value=None, not_detected_below=D(10)), "5", "pass"),
        (limit("solvent_residue", comparator="not_detected", value=None, not_detected_below=D(10)), "12", "fail"),
    ],
)
def test_below_the_loq_is_detected_and_judged_by_its_loq(lim, loq, verdict):
    m = result(lim.parameter, below_loq=True, loq=loq)
    assert m.detected and not m.not_detected
    assert rules.judge(lim, m).verdict == verdict


def test_not_detected_below_a_figure_counts_as_not_detected():
    pressed = limit("solvent_residue", comparator="not_detected", value=None, not_detected_below=D(10))
    assert rules.judge(pressed, result("solvent_residue", "9.9")).verdict == "pass"
    assert rules.judge(pressed, result("solvent_residue", "10")).verdict == "fail"


def test_a_result_is_compared_only_with_a_limit_on_its_basis():
    dry = limit("aluminium_residue", value="100", basis="dry_matter")
    judgement = rules.judge(dry, result("aluminium_residue", "80"))  # as_is by default
    assert judgement.verdict == "not_tested" and "basis mismatch" in judgement.note
    assert rules.judge(dry, result("aluminium_residue", "80", basis="dry_matter")).verdict == "pass"
    # With both bases measured, the one on the limit's basis is judged; the other does not hide it.
    rows = rules.evaluate(
        [dry], [result("aluminium_residue", "150"), result("aluminium_residue", "90", basis="dry_matter", rid=2)]
    )
    assert [r.verdict for r in rows] == ["pass"]


def test_a_value_exactly_at_its_limit_passes_unrounded():
    assert rules.judge(limit(value="0.5"), result(value="0.500")).verdict == "pass"
    assert rules.judge(limit(value="0.5"), result(value="0.5001")).verdict == "fail"  # not rounded to 0.5


def test_grading_rows_give_a_grade_and_never_move_the_safety_verdict():
    stalk = limit("stalk_length", comparator="range", value=None, text="15 ± 2", unit="mm", grading=True, rid=2)
    rows = rules.evaluate([limit(value="5.0"), stalk], [result(value="1"), result("stalk_length", "25", "mm", rid=2)])
    assert [r.verdict for r in rows] == ["pass", "grade_not_met"]
    assert rules.overall(rows).verdict == "pass"
    # A grading item without a figure does not block either.
    brix = limit("soluble_solids", comparator=">=", value=None, unit="%", grading=True, rid=3)
    rows = rules.evaluate([limit(value="5.0"), brix], [result(value="1")])
    assert rules.overall(rows).verdict == "pass"


def test_a_detected_residue_with_no_limit_blocks_until_reviewed():
    found = result("pesticide.chlorpyrifos", "0.03", report="R7", rid=2)
    rows = rules.evaluate([limit(value="5.0")], [result(value="1"), found])
    assert rows[-1].verdict == "needs_review"
    assert rules.overall(rows).verdict == "incomplete"
    decided = rules.Review(
        "pesticide.chlorpyrifos", "R7", "fail", "GB 2763-2026 表A: no MRL, 一律不得检出 per notice", seq=9
    )
    rows = rules.evaluate([limit(value="5.0")], [result(value="1"), found], reviews=[decided])
    assert (rows[-1].verdict, rows[-1].review) == ("fail", decided)
    assert rules.overall(rows).verdict == "fail"
    passed = rules.Review("pesticide.chlorpyrifos", "R7", "pass", "official reply", seq=10)
    assert (
        rules.overall(
            rules.evaluate([limit(value="5.0")], [result(value="1"), found], reviews=[decided, passed])
        ).verdict
        == "pass"
    )
    # A review of another report decides nothing here.
    other = rules.Review("pesticide.chlorpyrifos", "R1", "pass", "official reply", seq=11)
    assert rules.evaluate([], [found], reviews=[other])[0].verdict == "needs_review"


def test_each_result_is_judged_by_the_editions_in_force_on_its_sampling_date():
    feb, mar = dt.date(2026, 2, 28), dt.date(2026, 3, 1)
    old = limit("pesticide.imidacloprid", value="0.5", standard="GB 2763-2021", edition="2021", rid=1)
    new = limit("pesticide.imidacloprid", value="0.5", standard="GB 2763-2026", edition="2026", rid=2)
    lead = limit(value="5.0", standard="GB 2762-2022", rid=3)
    feb_result = result(
        "pesticide.imidacloprid", "0.8", sampled=dt.datetime(2026, 2, 28, 2, tzinfo=UTC), sampled_on=feb
    )
    mar_result = result(
        "pesticide.imidacloprid", "0.3", rid=2, sampled=dt.datetime(2026, 3, 1, 2, tzinfo=UTC), sampled_on=mar
    )
    lead_result = result(value="1", rid=3, sampled_on=mar)
    rows = rules.evaluate(
        [new, lead], [feb_result, mar_result, lead_result], limits_on={feb: [old, lead], mar: [new, lead]}
    )
    by = {(r.limit.standard, r.parameter): r for r in rows}
    # Both editions show, each with its own date's result; the February result fails under 2021.
    assert by[("GB 2763-2021", "pesticide.imidacloprid")].verdict == "fail"
    assert by[("GB 2763-2021", "pesticide.imidacloprid")].dates == (feb,)
    assert by[("GB 2763-2026", "pesticide.imidacloprid")].verdict == "pass"
    assert by[("GB 2763-2026", "pesticide.imidacloprid")].dates == (mar,)
    assert (
        by[("GB 2763-2026", "pesticide.imidacloprid")].governing
        and by[("GB 2763-2021", "pesticide.imidacloprid")].governing
    )
    assert rules.overall(rows).verdict == "fail"
    # The day the new edition takes effect, the new edition judges.
    only_mar = rules.evaluate([new], [mar_result], limits_on={mar: [new]})
    assert [r.limit.standard for r in only_mar] == ["GB 2763-2026"]


def test_a_requirement_binds_its_product_form():
    assert timing.requirement_applies("camellia_oil", ["all"], "camellia_oil", ["crude_oil"], ["crude_oil"])
    assert not timing.requirement_applies(
        "camellia_oil", ["all"], "camellia_oil", ["crude_oil"], ["edible_oil", "pressed"]
    )
    assert timing.requirement_applies(
        "camellia_oil", ["all"], "camellia_oil", [], ["edible_oil"]
    )  # no scope: every form
    assert timing.requirement_applies("camellia_oil", ["all"], "camellia_oil", ["crude_oil"], [])  # form not known


def test_a_harvest_on_exactly_the_phi_day_is_on_time_whatever_the_hour():
    sprayed = dt.datetime(2026, 4, 1, 18, tzinfo=CST)
    use = timing.PesticideUse("吡虫啉", sprayed, 7, planting_seq=2)
    on_the_day = dt.datetime(2026, 4, 8, 6, tzinfo=CST)  # 12 hours short of 7 × 24 hours
    [check] = timing.check_intervals([use], [(3, on_the_day)])
    assert not check.breached and check.days_short == 0
    [early] = timing.check_intervals([use], [(3, dt.datetime(2026, 4, 7, 23, 59, tzinfo=CST))])
    assert early.breached and early.days_short == 1
