"""app/units.py: the unit vocabulary and its exact conversions."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from app import units


@pytest.mark.parametrize(
    ("value", "from_unit", "to_unit", "expected"),
    [
        ("1", "斤", "kg", "0.5"),
        ("3", "斤", "g", "1500"),
        ("1", "公斤", "kg", "1"),
        ("1", "吨", "kg", "1000"),
        ("2.5", "t", "斤", "5000"),
        ("750", "g", "kg", "0.75"),
        ("1500", "mL", "L", "1.5"),
        ("15", "亩", "m²", "10000"),
        ("30", "µg/kg", "mg/kg", "0.03"),
        ("0.2", "g/100g", "mg/kg", "2000"),
        ("1.5", "%", "g/kg", "15"),
    ],
)
def test_conversions_are_exact(value, from_unit, to_unit, expected):
    converted = units.convert(Decimal(value), from_unit, to_unit)
    assert converted == Decimal(expected)
    assert units.convert(converted, to_unit, from_unit) == Decimal(value)


def test_a_mu_is_ten_thousand_fifteenths_of_a_square_metre():
    assert units.convert_exact(1, "亩", "m²") == Fraction(10000, 15)
    with pytest.raises(ValueError, match="no exact decimal"):
        units.convert(Decimal(1), "亩", "m²")
    assert units.convert(Decimal(1), "亩", "m²", places=3) == Decimal("666.667")
    # Exact, not a float's 0.1 + 0.2: 0.3 亩 of three plots is 200 m² on the nose.
    assert units.convert_exact(Decimal("0.1"), "亩", "m²") * 3 == 200


def test_chinese_names_are_aliases_of_the_units_they_name():
    assert units.canonical("毫克/千克") == "mg/kg"
    assert units.canonical("微克/千克") == units.canonical("μg/kg") == units.canonical(" ug/kg ") == "µg/kg"
    assert units.canonical("克/100克") == "g/100g"
    assert units.canonical("公斤") == units.canonical("千克") == "kg"
    assert units.canonical("吨") == "t"
    assert units.canonical("CFU/g") == "CFU/g"
    assert units.convert(Decimal("0.05"), "毫克/千克", "mg/kg") == Decimal("0.05")


def test_units_of_different_kinds_do_not_convert():
    for a, b in [("kg", "L"), ("piece", "box"), ("株", "piece"), ("亩", "kg"), ("mg/kg", "kg"), ("CFU/g", "mg/kg")]:
        with pytest.raises(units.UnitMismatch):
            units.convert(Decimal(1), a, b)


def test_every_unit_a_batch_is_counted_in_has_a_kind_a_base_and_a_name():
    for key in units.BATCH_UNITS:
        assert units.find(key).key == key
        assert units.in_base(Decimal(1), key) > 0
        assert units.name_of(key)


def test_no_other_module_keeps_a_unit_table():
    from tests.test_facts import _defining

    assert _defining(r'"mg/kg"\s*:|"brick"\s*[:,)]|"piece"\s*[:,)]', "app/units.py") == []
