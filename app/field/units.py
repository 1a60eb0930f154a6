"""The units farmers use (斤, 公斤, 吨, 亩, 株...), converted exactly to the units the record stores.

# TODO(merge): use app/units.py (the central units module) and drop this table.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


def N_(text: str) -> str:
    """Mark a name for translation; it is translated where it is shown (gettext(unit.label))."""
    return text


@dataclass(frozen=True)
class FarmUnit:
    key: str  # what the form posts and what is kept for display: the Chinese name
    stored: str  # the record's unit (app.batches.models.UNITS, or "mu" for an area)
    factor: Decimal  # one of this unit is ``factor`` of the stored unit, exactly
    label: str  # the name to show, translated at render time


# Mass, counts and volumes for a batch or a harvest; each converts by an exact factor. Mass goes
# to kilograms (grams stay grams) so one household's lots add up without a second conversion.
QUANTITY_UNITS: dict[str, FarmUnit] = {
    u.key: u
    for u in (
        FarmUnit("斤", "kg", Decimal("0.5"), N_("斤")),
        FarmUnit("公斤", "kg", Decimal(1), N_("公斤")),
        FarmUnit("吨", "kg", Decimal(1000), N_("吨")),
        FarmUnit("克", "g", Decimal(1), N_("克")),
        FarmUnit("株", "piece", Decimal(1), N_("株")),
        FarmUnit("件", "piece", Decimal(1), N_("件")),
        FarmUnit("箱", "box", Decimal(1), N_("箱")),
        FarmUnit("块", "brick", Decimal(1), N_("块")),
        FarmUnit("升", "L", Decimal(1), N_("升")),
    )
}
# Areas: the stage fields that hold one are named ``*_mu`` and stored in 亩.
AREA_UNITS: dict[str, FarmUnit] = {"亩": FarmUnit("亩", "mu", Decimal(1), N_("亩"))}
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
