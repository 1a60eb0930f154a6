"""Public read-only catalog: product lines and standards."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from app.api import Blueprint
from app.batches.stages import describe_stage
from app.catalog import service
from app.catalog.models import ProductLine, Standard
from app.catalog.schemas import ProductList, ProductOut, StandardList, StandardOut, StandardQuery
from app.db import db
from app.errors import NotFound

blp = Blueprint("catalog", __name__, url_prefix="/api/v1", description="Product lines and the standards catalog")


def _product_view(line: ProductLine) -> dict[str, Any]:
    return {
        "key": line.key,
        "name_zh": line.name_zh,
        "name_en": line.name_en,
        "county_zh": line.county_zh,
        "county_en": line.county_en,
        "lot_prefix": line.lot_prefix,
        "forms": line.forms,
        "stages": [describe_stage(line.key, s) for s in line.stages],
        "default_standards": line.default_standards,
        "mandatory_standards": service.applicable_mandatory(line.key),
    }


@blp.route("/products")
@blp.response(200, ProductList)
def list_products() -> dict[str, Any]:
    """List the six product lines with their stages and standards."""
    lines = db.session.scalars(select(ProductLine).order_by(ProductLine.key)).all()
    return {"items": [_product_view(line) for line in lines]}


@blp.route("/products/<string:key>")
@blp.response(200, ProductOut)
def get_product(key: str) -> dict[str, Any]:
    """One product line: its stages in order, the fields each records, its standards."""
    return _product_view(service.get_product(key))


@blp.route("/standards")
@blp.arguments(StandardQuery, location="query")
@blp.response(200, StandardList)
def list_standards(args: dict[str, Any]) -> dict[str, Any]:
    """Search the catalog by product, level, kind, mandatory, status and a text query."""
    query = select(Standard).order_by(Standard.code)
    if "level" in args:
        query = query.where(Standard.level == args["level"])
    if "kind" in args:
        query = query.where(Standard.kind == args["kind"])
    if "mandatory" in args:
        query = query.where(Standard.mandatory.is_(args["mandatory"]))
    if "status" in args:
        query = query.where(Standard.status == args["status"])
    if "q" in args:
        # Escape LIKE wildcards so a search for "50%" means what it says.
        text = args["q"].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{text}%"
        query = query.where(
            or_(
                Standard.code.ilike(pattern, escape="\\"),
                Standard.title_zh.ilike(pattern, escape="\\"),
                Standard.title_en.ilike(pattern, escape="\\"),
            )
        )
    rows = db.session.scalars(query).all()
    if "product" in args:
        # applies_to is a short JSON list; filtering in Python keeps one query for both databases.
        rows = [s for s in rows if s.applies_to_product(args["product"])]
    return {"items": rows, "total": len(rows)}


@blp.route("/standards/<int(min=1, max=2147483647):standard_id>")
@blp.response(200, StandardOut)
def get_standard(standard_id: int) -> Standard:
    """One standard with its requirements and provenance."""
    std = db.session.scalar(
        select(Standard).where(Standard.id == standard_id).options(selectinload(Standard.requirements))
    )
    if std is None:
        raise NotFound(f"no standard with id {standard_id}")
    return std
