"""What a result's unit means for its parameter: conversions the compliance rules may make.

Pure, like ``rules`` (which re-exports these names for its callers). app/units.py knows units
of one kind (mass fractions, lengths, masses); this module knows the few parameters whose unit
says something else:

- **Peroxide value** (过氧化值) is reported in mmol/kg or g/100g (as iodine). GB 5009.227 gives
  both formulas; from them, 1 mmol/kg = 0.02538 g/100g (the mass of 1 mmol of iodine, I2,
  253.8 mg, in 100 g rather than 1 kg). That factor holds for this parameter only: no other
  mmol/kg converts to a mass fraction.
- **Acid value** (酸价) is mg KOH per g of oil, and **fatty-acid composition** (脂肪酸组成) is %
  of the total fatty acids: neither is a mass fraction of the food, so neither converts to
  mg/kg (nor anything else); each compares only with a limit in its own unit.
- Every other parameter converts within its unit's kind (app/units.py), and a unit we do not
  know only to itself.
"""

from __future__ import annotations

import re
from decimal import Decimal

from app import units

MASS_BASE_UNIT = units.MASS_FRACTION_BASE

PEROXIDE_VALUE = "peroxide_value"
# g/100g (as iodine) per mmol/kg, from the two formulas of GB 5009.227 (catalog audit 2026-12, §5).
PEROXIDE_G_PER_100G_PER_MMOL_PER_KG = Decimal("0.02538")
_PEROXIDE_UNITS = {"mmol/kg": "mmol/kg", "g/100g": "g/100g"}
# mmol/kg is a unit of peroxide value alone, so app/units.py does not list it; its spellings:
_MMOL_PER_KG = frozenset({"mmol/kg", "毫摩尔/千克"})
# Parameters whose unit is not a mass fraction of the food although it looks like one.
NOT_MASS_FRACTIONS: frozenset[str] = frozenset({"acid_value", "fatty_acid_profile"})


class UnitError(ValueError):
    """Two units that do not measure the same thing, or a unit that is not one."""

    def __init__(self, parameter: str, from_unit: str | None, to_unit: str | None, reason: str | None = None) -> None:
        self.parameter = parameter
        self.from_unit = from_unit
        self.to_unit = to_unit
        why = reason or "they do not measure the same thing; only units of one kind convert"
        super().__init__(f"{parameter}: cannot convert {from_unit!r} to {to_unit!r}: {why}")


def unit_key(unit: str) -> str:
    return re.sub(r"\s+", "", unit).lower()


def canonical_unit(unit: str) -> str:
    """The unit as we print it: ``ug/kg``, ``μg/kg`` and 微克/千克 become ``µg/kg``; others are trimmed."""
    if unit_key(unit) in _MMOL_PER_KG:
        return "mmol/kg"
    return units.canonical(unit)


def unit_alternatives(unit: str | None) -> list[str]:
    """The catalog sometimes gives two units ("mmol/kg or g/100g"); each is an alternative."""
    if not unit:
        return []
    return [u.strip() for u in re.split(r"\s+or\s+|\s*或\s*", unit) if u.strip()]


def _own_unit(unit: str) -> str:
    """An acid value's or fatty-acid share's unit, spelled one way: mg KOH/g and mg/g (KOH) are mg/g."""
    return re.sub(r"koh|[()（）]", "", unit_key(canonical_unit(unit)))


def _peroxide_unit(unit: str) -> str | None:
    return _PEROXIDE_UNITS.get(unit_key(canonical_unit(unit)))


def dimension(unit: str, parameter: str | None = None) -> str:
    """What a unit measures for ``parameter``: a kind app/units.py knows, a parameter's own, or the unit itself."""
    if parameter == PEROXIDE_VALUE and _peroxide_unit(unit):
        return "peroxide_value"
    if parameter in NOT_MASS_FRACTIONS:
        return f"{parameter}:{_own_unit(unit)}"
    return units.kind_of(unit) or unit_key(unit)


def units_compatible(a: str | None, b: str | None, parameter: str | None = None) -> bool:
    if not a or not b:
        return False
    return any(
        dimension(x, parameter) == dimension(y, parameter) for x in unit_alternatives(a) for y in unit_alternatives(b)
    )


def _convert_one(value: Decimal, src: str, dst: str, parameter: str) -> Decimal | None:
    if parameter == PEROXIDE_VALUE and _peroxide_unit(src) and _peroxide_unit(dst):
        a, b = _peroxide_unit(src), _peroxide_unit(dst)
        if a == b:
            return value
        if a == "mmol/kg":
            return value * PEROXIDE_G_PER_100G_PER_MMOL_PER_KG
        return value / PEROXIDE_G_PER_100G_PER_MMOL_PER_KG
    if parameter in NOT_MASS_FRACTIONS:
        return value if _own_unit(src) == _own_unit(dst) else None
    kind = units.kind_of(src)
    if kind is not None and kind == units.kind_of(dst):
        return units.convert(value, src, dst)
    if unit_key(src) == unit_key(dst) and unit_key(src):
        return value
    return None


def convert(value: Decimal, from_unit: str, to_unit: str, parameter: str) -> Decimal:
    """``value`` in ``from_unit`` expressed in ``to_unit`` for ``parameter``; a ``UnitError`` names both units.

    Of a limit's alternative units ("mmol/kg or g/100g") the result's own is used when it is one.
    """
    sources, targets = unit_alternatives(from_unit) or [from_unit], unit_alternatives(to_unit) or [to_unit]
    for src in sources:
        for dst in targets:
            if unit_key(canonical_unit(src)) == unit_key(canonical_unit(dst)):
                return value
    for src in sources:
        for dst in targets:
            converted = _convert_one(value, src, dst, parameter)
            if converted is not None:
                return converted
    raise UnitError(parameter, from_unit, to_unit)


def to_base(value: Decimal, unit: str, parameter: str) -> tuple[Decimal, str]:
    """A value in its dimension's base unit (mg/kg for mass fractions, g/100g for peroxide), to rank limits."""
    dim = dimension(unit, parameter)
    if dim == units.MASS_FRACTION:
        return convert(value, unit, MASS_BASE_UNIT, parameter), dim
    if dim == "peroxide_value":
        return convert(value, unit, "g/100g", parameter), dim
    return value, dim


def format_decimal(value: Decimal | None) -> str | None:
    """Plain digits without exponent or trailing zeros: 300, 0.05, 5."""
    if value is None:
        return None
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text
