"""Public read-only catalog: product lines and standards."""

from __future__ import annotations

from typing import Any

from app.api import Blueprint
from app.catalog import service
from app.catalog.models import Standard
from app.catalog.schemas import ProductList, ProductOut, StandardList, StandardOut, StandardQuery
from app.schemas import Page

blp = Blueprint("catalog", __name__, url_prefix="/api/v1", description="Product lines and the standards catalog")


@blp.route("/products")
@blp.response(200, ProductList)
def list_products() -> Page:
    """List the six product lines with their stages and standards."""
    return service.list_products()


@blp.route("/products/<string:key>")
@blp.response(200, ProductOut)
def get_product(key: str) -> dict[str, Any]:
    """One product line: its stages in order, the fields each records, its standards."""
    return service.product_view(service.get_product(key))


@blp.route("/standards")
@blp.arguments(StandardQuery, location="query")
@blp.response(200, StandardList)
def list_standards(args: dict[str, Any]) -> Page:
    """Search the catalog by product, level, kind, mandatory, status and a text query."""
    return service.list_standards(**args)


@blp.route("/standards/<id:standard_id>")
@blp.response(200, StandardOut)
def get_standard(standard_id: int) -> Standard:
    """One standard with its requirements and provenance."""
    return service.get_standard(standard_id)
