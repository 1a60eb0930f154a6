"""The catalog written back out as YAML, in the shape ``load_catalog`` reads (``flask catalog export``).

Only the shared catalog (standards no organization owns); an organization's own standards stay
in the database.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.catalog.models import Requirement, Standard
from app.catalog.products import PRODUCTS
from app.db import db


def _number(value: Decimal) -> int | float:
    number = value.normalize()
    return int(number) if number == number.to_integral_value() else float(number)


def _export_requirement(r: Requirement) -> dict[str, Any]:
    out: dict[str, Any] = {"parameter": r.parameter_raw}
    if r.scope is not None:
        out["scope"] = r.scope
    if r.product_key is not None:
        out["product"] = r.product_key
    if r.forms:
        out["forms"] = list(r.forms)
    out["unit"] = r.unit
    out["comparator"] = r.comparator
    if r.limit_value is not None:
        out["limit"] = _number(r.limit_value)
    else:
        out["limit"] = r.limit_text
    if r.basis != "as_is":
        out["basis"] = r.basis
    if r.grading:
        out["grading"] = True
    if r.temporary_mrl:
        out["temporary_mrl"] = True
    if r.not_detected_below is not None:
        out["not_detected_below"] = _number(r.not_detected_below)
    if r.clause is not None:
        out["clause"] = r.clause
    out["verified"] = r.verified
    out["confidence"] = r.confidence
    out["source"] = r.source
    if r.method is not None:
        out["method"] = r.method
    return out


def export_catalog() -> dict[str, Any]:
    standards = db.session.scalars(
        select(Standard)
        .where(Standard.owner_org_id.is_(None))
        .options(selectinload(Standard.requirements))
        .order_by(Standard.id)
    ).all()
    items = []
    for s in standards:
        extra = dict(s.extra)
        issued_note = extra.pop("issued_note", None)
        item: dict[str, Any] = {
            "code": s.code,
            "title_zh": s.title_zh,
            "title_en": s.title_en,
            "level": s.level_detail,
            "mandatory": s.mandatory,
            "status": s.status,
            "status_note": s.status_note,
            "issued": s.issued if s.issued else issued_note,
            "effective": s.effective if s.effective else s.effective_note,
            "replaces": s.replaces or None,
            "body": s.body,
            "scope": s.scope,
            "applies_to": s.applies_to,
            "kind": s.kind,
            "certification_only": s.certification_only,
            "confidence": s.confidence,
            "sources": s.sources,
            "notes": s.notes,
            **extra,
            "requirements": [_export_requirement(r) for r in s.requirements],
        }
        items.append({k: v for k, v in item.items() if v is not None or k in ("issued", "effective")})
    products = {p.key: {"zh": p.name_zh, "en": p.name_en, "county": p.county_zh} for p in PRODUCTS.values()}
    return {"meta": {"schema_version": 0.2, "exported_by": "youpin-trace", "products": products}, "standards": items}


def export_catalog_file(path: str | Path) -> int:
    data = export_catalog()
    with open(path, "w", encoding="utf-8") as fh:
        yaml.safe_dump(data, fh, allow_unicode=True, sort_keys=False, width=100)
    return len(data["standards"])
