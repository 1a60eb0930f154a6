"""Compare standards (比较分析): for a product and a parameter, every standard's limit side by side in one unit.

The plan asks the office to compare group and enterprise standards with the national ones and
encourages those stricter than the national floor. Each row is one clause binding the product;
limits are converted to one unit with the compliance rules' own conversion (mass fractions to
mg/kg), the strictest maximum and the strictest minimum are marked, and the group and enterprise
standards stricter than every national or industry limit of the same direction are listed.
A limit that is missing or not one number is shown, never ranked.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.catalog.models import Requirement, Standard
from app.catalog.products import PRODUCTS
from app.compliance import rules, timing
from app.db import db
from app.errors import InvalidInput

MAXIMUM, MINIMUM = ("<=", "<"), (">=", ">")


def _voluntary(standard: Standard) -> bool:
    """A group or enterprise standard (T/, Q/): what the plan encourages to be stricter than the floor."""
    return standard.level in ("group", "enterprise") or standard.code.upper().startswith(("T/", "Q/"))


def compare(product: str, parameter: str) -> dict[str, Any]:
    """Every limit on ``parameter`` that binds ``product``, in one unit, the strictest marked."""
    if product not in PRODUCTS:
        raise InvalidInput.field("product", f"must be one of {', '.join(PRODUCTS)}", location="query")
    requirements = [
        r
        for r in db.session.scalars(
            select(Requirement)
            .options(joinedload(Requirement.standard))
            .where(Requirement.parameter_key == parameter)
            .order_by(Requirement.standard_id, Requirement.position)
        )
        if timing.requirement_applies(r.product_key, r.standard.applies_to or [], product)
    ]
    units = [rules.unit_alternatives(r.unit)[0] for r in requirements if r.unit and rules.unit_alternatives(r.unit)]
    written = {rules.canonical_unit(u) for u in units}
    # One unit as the standards write it when they agree; else the dimension's base (mg/kg).
    if len(written) == 1:
        unit: str | None = written.pop()
    elif any(rules.dimension(u) == "mass_fraction" for u in units):
        unit = rules.MASS_BASE_UNIT
    else:
        unit = rules.canonical_unit(units[0]) if units else None
    rows: list[dict[str, Any]] = []
    for r in requirements:
        value: Decimal | None = None
        if r.limit_value is not None and r.unit and unit and r.comparator in MAXIMUM + MINIMUM:
            try:
                value = rules.convert(r.limit_value, r.unit, unit, parameter)
            except rules.UnitError:
                value = None
        rows.append(
            {
                "standard": r.standard.code,
                "title_zh": r.standard.title_zh,
                "level": r.standard.level,
                "mandatory": r.standard.mandatory,
                "voluntary": _voluntary(r.standard),
                "clause": r.clause,
                "parameter_zh": r.parameter_zh,
                "scope": r.scope,
                "comparator": r.comparator,
                "limit": rules.format_decimal(r.limit_value) if r.limit_value is not None else r.limit_text,
                "unit_as_written": r.unit,
                "limit_in_unit": rules.format_decimal(value) if value is not None else None,
                "provisional": not r.verified,
                "strictest": False,
                "_value": value,
            }
        )
    for direction, pick in ((MAXIMUM, min), (MINIMUM, max)):
        ranked = [row for row in rows if row["comparator"] in direction and row["_value"] is not None]
        if ranked:
            best = pick(row["_value"] for row in ranked)
            for row in ranked:
                row["strictest"] = row["_value"] == best
    stricter: list[dict[str, Any]] = []
    for direction, beats in ((MAXIMUM, lambda a, b: a < b), (MINIMUM, lambda a, b: a > b)):
        floor = [row["_value"] for row in rows if row["comparator"] in direction and row["_value"] is not None
                 and not row["voluntary"]]  # fmt: skip
        if not floor:
            continue
        national = min(floor) if direction == MAXIMUM else max(floor)
        stricter += [
            {"standard": row["standard"], "clause": row["clause"], "limit_in_unit": row["limit_in_unit"]}
            for row in rows
            if row["voluntary"] and row["comparator"] in direction and row["_value"] is not None
            and beats(row["_value"], national)
        ]  # fmt: skip
    for row in rows:
        del row["_value"]
    return {"product": product, "parameter": parameter, "unit": unit, "rows": rows, "stricter_than_national": stricter}
