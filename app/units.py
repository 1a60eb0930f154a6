"""Units: the one vocabulary of what quantities and results are measured in, and exact conversions.

Pure data and arithmetic, imported by batches (what a lot may be counted in), stages (a
harvest's unit), lineage (which quantities add up), the compliance rules (mass fractions) and
the pages (a unit's name in the reader's language). Nothing here touches the database.

- Every unit has a *kind* (mass, volume, area, mass fraction, or a counted thing of its own:
  a box is not a number of pieces) and its size in that kind's base unit, as an exact
  ``Fraction``: 1 斤 = 1/2 kg, 1 亩 = 10000/15 m². Conversions are exact (``Fraction``, then a
  ``Decimal`` only when it terminates or at places the caller names), never a float's guess.
- Chinese names are aliases of the unit they name (千克 = kg, 毫克/千克 = mg/kg), so a field
  app can send what its users write. What an endpoint *accepts* is decided where it is
  validated (``BATCH_UNITS`` for a lot); the aliases only make conversions and names line up.
- A unit's Chinese name is marked with ``N_`` and translated where it is shown (``name_of``
  returns the source string; the pages pass it through ``gettext``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

from app.i18n import N_

MASS = "mass"
VOLUME = "volume"
AREA = "area"
LENGTH = "length"
MASS_FRACTION = "mass_fraction"


@dataclass(frozen=True)
class Unit:
    key: str  # as stored and sent: "kg", "mg/kg", "斤"
    kind: str  # units of one kind convert into each other; no others do
    size: Fraction  # one of this unit in its kind's base unit (g, mL, m², mg/kg; 1 for a count)
    name: str | None = None  # its name for people, a Chinese source string (None: the key is its name)


def _unit(key: str, kind: str, size: Fraction | int | str, name: str | None = None) -> Unit:
    return Unit(key, kind, Fraction(size), name)


_ALL: tuple[Unit, ...] = (
    # mass, in grams
    _unit("g", MASS, 1, N_("克")),
    _unit("kg", MASS, 1000, N_("千克")),
    _unit("t", MASS, 1_000_000, N_("吨")),
    _unit("斤", MASS, 500, N_("斤")),  # the market jin: exactly half a kilogram
    # volume, in millilitres
    _unit("mL", VOLUME, 1, N_("毫升")),
    _unit("L", VOLUME, 1000, N_("升")),
    # area, in square metres
    _unit("m²", AREA, 1, N_("平方米")),
    _unit("亩", AREA, Fraction(10000, 15), N_("亩")),  # 15 mu to the hectare, exactly
    # length, in millimetres (a loquat's stalk is graded in mm; some reports give cm)
    _unit("mm", LENGTH, 1, N_("毫米")),
    _unit("cm", LENGTH, 10, N_("厘米")),
    _unit("m", LENGTH, 1000, N_("米")),
    # counted things: each a kind of its own
    _unit("piece", "piece", 1, N_("个")),
    _unit("box", "box", 1, N_("箱")),
    _unit("brick", "brick", 1, N_("块")),
    _unit("株", "plant", 1, N_("株")),  # seedlings and trees
    # mass fractions (what the standards' limits are written in), in mg/kg
    _unit("mg/kg", MASS_FRACTION, 1),
    _unit("µg/kg", MASS_FRACTION, Fraction(1, 1000)),  # U+00B5 MICRO SIGN, as we print it
    _unit("g/100g", MASS_FRACTION, 10000),
    _unit("%", MASS_FRACTION, 10000),
    _unit("mg/g", MASS_FRACTION, 1000),
    _unit("g/kg", MASS_FRACTION, 1000),
)
UNITS: dict[str, Unit] = {u.key: u for u in _ALL}

# Other spellings of a unit above, Chinese names included.
ALIASES: dict[str, str] = {
    "μg/kg": "µg/kg",  # U+03BC GREEK SMALL LETTER MU
    "ug/kg": "µg/kg",
    "克": "g",
    "千克": "kg",
    "公斤": "kg",
    "吨": "t",
    "毫升": "mL",
    "升": "L",
    "m2": "m²",
    "平方米": "m²",
    "毫克/千克": "mg/kg",
    "微克/千克": "µg/kg",
    "克/100克": "g/100g",
    "克/千克": "g/kg",
    "毫克/克": "mg/g",
    "毫米": "mm",
    "厘米": "cm",
    "米": "m",
}
assert set(ALIASES.values()) <= set(UNITS), "every alias names a unit"

# What a batch's quantity is counted in (the API's ``unit`` of a lot, a harvest, a split part).
BATCH_UNITS: tuple[str, ...] = ("kg", "t", "g", "L", "mL", "piece", "box", "brick")
# The base unit limits are ranked in: every mass fraction converts to it.
MASS_FRACTION_BASE = "mg/kg"


class UnitMismatch(ValueError):
    """Two units that do not measure the same thing, or a unit we do not know."""


def _spelling(unit: str) -> str:
    return re.sub(r"\s+", "", unit).lower()


_BY_SPELLING: dict[str, Unit] = {
    **{_spelling(alias): UNITS[key] for alias, key in ALIASES.items()},
    **{_spelling(u.key): u for u in _ALL},
}


def find(unit: str | None) -> Unit | None:
    """The unit ``unit`` spells (any case or spacing, or an alias), or None when it is not one we know."""
    if not unit:
        return None
    return _BY_SPELLING.get(_spelling(unit))


def canonical(unit: str) -> str:
    """The unit as we print it (``ug/kg`` and 微克/千克 become ``µg/kg``); an unknown unit trimmed."""
    found = find(unit)
    return found.key if found is not None else unit.strip()


def kind_of(unit: str) -> str | None:
    found = find(unit)
    return found.kind if found is not None else None


def name_of(unit: str) -> str | None:
    """The Chinese source string naming the unit, to pass through ``gettext``; None for a unit with none."""
    found = find(unit)
    return found.name if found is not None else None


def ratio(from_unit: str, to_unit: str) -> Fraction:
    """How many ``to_unit`` make one ``from_unit``, exactly; ``UnitMismatch`` across kinds."""
    a, b = find(from_unit), find(to_unit)
    if a is None or b is None or a.kind != b.kind:
        raise UnitMismatch(f"cannot convert {from_unit!r} to {to_unit!r}: they do not measure the same thing")
    return a.size / b.size


def convert_exact(value: Decimal | Fraction | int, from_unit: str, to_unit: str) -> Fraction:
    """``value`` in ``from_unit`` expressed in ``to_unit``, as an exact fraction."""
    return Fraction(value) * ratio(from_unit, to_unit)


def as_decimal(value: Fraction, places: int | None = None) -> Decimal:
    """A fraction as a Decimal: exact when it terminates, else rounded half-even to ``places``.

    Without ``places`` a fraction that does not terminate (2/3 亩 in m²) is refused rather
    than cut off at some precision nobody chose.
    """
    if places is not None:
        quantum = Decimal(1).scaleb(-places)
        return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(quantum, rounding=ROUND_HALF_EVEN)
    denominator, twos, fives = value.denominator, 0, 0
    while denominator % 2 == 0:
        denominator, twos = denominator // 2, twos + 1
    while denominator % 5 == 0:
        denominator, fives = denominator // 5, fives + 1
    if denominator != 1:
        raise ValueError(f"{value} has no exact decimal; say how many places to round to")
    shift = max(twos, fives)
    digits = abs(value.numerator) * 10**shift // value.denominator
    return Decimal((1 if value < 0 else 0, tuple(int(d) for d in str(digits)), -shift))


def convert(value: Decimal | int, from_unit: str, to_unit: str, places: int | None = None) -> Decimal:
    """``value`` in ``from_unit`` expressed in ``to_unit`` as a Decimal (see ``as_decimal``).

    The same unit gives the value back as it came, trailing zeros and all.
    """
    if find(from_unit) is not None and find(from_unit) == find(to_unit) and places is None:
        return Decimal(value)
    return as_decimal(convert_exact(value, from_unit, to_unit), places)


def in_base(value: Decimal | int, unit: str) -> Decimal:
    """``value`` in its kind's base unit (g, mL, m², mg/kg, or the count itself), exactly.

    Only for units whose base size terminates as a decimal (every batch unit does).
    """
    found = find(unit)
    if found is None:
        raise UnitMismatch(f"{unit!r} is not a unit we know")
    return Decimal(value) * as_decimal(found.size)


# --- What a farmer types (the field app) -----------------------------------------------------------
# The units the field app offers, each with the unit the record stores it in and the exact factor.


@dataclass(frozen=True)
class FarmUnit:
    key: str  # what the form posts and what is kept for display: the Chinese name
    stored: str  # the record's unit (app.batches.models.UNITS, or "mu" for an area)
    factor: Decimal  # one of this unit is ``factor`` of the stored unit, exactly
    label: str  # the name to show, translated at render time


def _size(key: str, stored: str) -> Decimal:
    """One ``key`` in ``stored``, from the central table; a counted thing (株, 件, 块) is one piece."""
    if kind_of(key) is not None and kind_of(key) == kind_of(stored):
        return as_decimal(ratio(key, stored))
    return Decimal(1)


def _farm(key: str, *, stored: str, label: str) -> FarmUnit:
    return FarmUnit(key, stored, _size(key, stored), label)


# Mass, counts and volumes for a batch or a harvest; each converts by an exact factor. Mass goes
# to kilograms (grams stay grams) so one household's lots add up without a second conversion.
QUANTITY_UNITS: dict[str, FarmUnit] = {
    u.key: u
    for u in (
        _farm("斤", stored="kg", label=N_("斤")),
        _farm("公斤", stored="kg", label=N_("公斤")),
        _farm("吨", stored="kg", label=N_("吨")),
        _farm("克", stored="g", label=N_("克")),
        _farm("株", stored="piece", label=N_("株")),
        _farm("件", stored="piece", label=N_("件")),
        _farm("箱", stored="box", label=N_("箱")),
        _farm("块", stored="brick", label=N_("块")),
        _farm("升", stored="L", label=N_("升")),
    )
}
# Areas: the stage fields that hold one are named ``*_mu`` and stored in 亩.
AREA_UNITS: dict[str, FarmUnit] = {"亩": _farm("亩", stored="mu", label=N_("亩"))}
# The Chinese name of a stored unit, for showing a stored figure in the farmer's words.
STORED_NAMES: dict[str, str] = {
    "kg": "公斤",
    "t": "吨",
    "g": "克",
    "piece": "件",
    "box": "箱",
    "brick": "块",
    "L": "升",
}
# Three places is what a quantity column keeps; a conversion needing more would be rounded.
PLACES = Decimal("0.001")


class NotExact(ValueError):
    """The converted figure needs more than three decimal places."""


def to_stored(quantity: Decimal, unit: FarmUnit) -> Decimal:
    """``quantity`` of ``unit`` in the stored unit, exactly, or NotExact."""
    stored = quantity * unit.factor
    if stored != stored.quantize(PLACES):
        raise NotExact(str(stored))
    return stored.quantize(PLACES)
