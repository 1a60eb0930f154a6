"""Checks on a parsed catalog that warn without refusing: voluntary limits looser than mandatory ones.

Pure functions over the loader's parsed standards and requirements (dicts of column values), so
the check judges what is about to be written, before anything is. Units convert, and limits are
compared, by the same rules the verdicts use (``app.compliance.rules``).
"""

from __future__ import annotations

from typing import Any

from app.catalog.products import OTHER_FOODS, PRODUCTS
from app.compliance import rules


def _bound_products(std: dict[str, Any], req: dict[str, Any]) -> list[str]:
    """The product lines a parsed requirement binds (none when it names only foods outside them)."""
    if req["product_key"] is not None:
        return [req["product_key"]]
    if req["forms"] and all(f in OTHER_FOODS for f in req["forms"]):
        return []
    return [p for p in PRODUCTS if "all" in std["applies_to"] or p in std["applies_to"]]


def _competes(req: dict[str, Any], product: str, other: dict[str, Any], other_product: str) -> bool:
    """Two requirements bind the same thing: parameter, product, basis, and forms that overlap."""
    return (
        product == other_product
        and req["parameter_key"] == other["parameter_key"]
        and req["basis"] == other["basis"]
        and (not req["forms"] or not other["forms"] or bool(set(req["forms"]) & set(other["forms"])))
    )


def looser_voluntary_limits(parsed: list[tuple[dict[str, Any], list[dict[str, Any]]]]) -> list[str]:
    """Where a voluntary standard (GB/T, NY/T, DB, T/, ...) sets a looser limit than a mandatory one.

    Same parameter, product, overlapping forms and the same basis; units converted as the verdict
    converts them (pairs that cannot convert are not compared). The load goes ahead: the strictest
    limit still governs a verdict; this only tells a reviewer that the voluntary figure says less.
    Only standards in force are compared.
    """
    floor = [
        (std, req, product)
        for std, reqs in parsed
        if std["mandatory"] and std["status"] == "in_force"
        for req in reqs
        if req["comparator"] in (*rules.UPPER, *rules.LOWER) and req["limit_value"] is not None
        for product in _bound_products(std, req)
    ]
    warnings = []
    for std, reqs in parsed:
        if std["mandatory"] or std["status"] != "in_force":
            continue
        for req in reqs:
            if req["comparator"] not in (*rules.UPPER, *rules.LOWER) or req["limit_value"] is None:
                continue
            for product in _bound_products(std, req):
                for m_std, m_req, m_product in floor:
                    if not _competes(req, product, m_req, m_product):
                        continue
                    limit = rules.Limit(
                        requirement_id=0, standard=m_std["code"], edition=m_std["edition"], clause=m_req["clause"],
                        parameter=m_req["parameter_key"], comparator=m_req["comparator"],
                        limit_value=m_req["limit_value"], limit_text=None, unit=m_req["unit"],
                        provisional=not m_req["verified"], mandatory=True,
                    )  # fmt: skip
                    unit = req["unit"] or m_req["unit"] or ""
                    try:
                        looser = rules.looser_than(req["comparator"], req["limit_value"], unit, limit)
                    except rules.UnitError:
                        continue
                    if looser:
                        warnings.append(
                            f"{std['code']} clause {req['clause'] or '-'}: {req['parameter_key']} "
                            f"{req['comparator']} {rules.format_decimal(req['limit_value'])} {req['unit'] or ''} "
                            f"for {product} is looser than the mandatory {m_std['code']} clause "
                            f"{m_req['clause'] or '-'} ({m_req['comparator']} "
                            f"{rules.format_decimal(m_req['limit_value'])} {m_req['unit'] or ''}); "
                            "the strictest limit still governs"
                        )
    return warnings
