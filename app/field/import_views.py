"""Spreadsheet import: ``GET /api/v1/imports/events/template.xlsx`` and ``POST /api/v1/imports/events``,
and the field app's page for them (/field/import), which posts the same upload with its session.

The API and the page call one service (app/field/imports.py). The page's routes join the field
blueprint (app/field/views.py) before it is registered; ``blp`` is this module's API blueprint.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Response, jsonify, render_template, request
from marshmallow import Schema, fields, validate

from app.api import Blueprint
from app.auth import actor, require_roles
from app.batches.schemas import stage_name
from app.catalog.products import PRODUCTS
from app.errors import InvalidInput, error_body
from app.field import imports
from app.field import views as field_views
from app.schemas import ErrorOut, StrictSchema

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
STAGES = sorted({s for spec in PRODUCTS.values() for s in spec.stages})

blp = Blueprint("imports", __name__, url_prefix="/api/v1", description="Spreadsheet import of stage records")
_routes = field_views.bp


class EventsTemplateArgs(StrictSchema):
    product = fields.String(required=True, validate=validate.OneOf(sorted(PRODUCTS)))
    stage = fields.String(
        validate=validate.OneOf(STAGES), metadata={"description": "one of the product's stages; its first if omitted"}
    )


class EventsImportArgs(StrictSchema):
    product = fields.String(
        validate=validate.OneOf(sorted(PRODUCTS)),
        metadata={"description": "required for CSV; an XLSX template names it"},
    )
    stage = fields.String(validate=validate.OneOf(STAGES), metadata={"description": "as product"})


class EventsUpload(StrictSchema):
    file = fields.Raw(
        required=True,
        metadata={"type": "string", "format": "binary", "description": "the filled template, XLSX or CSV"},
    )


class EventsImportOut(Schema):
    rows = fields.Integer(required=True, metadata={"description": "data rows read (blank rows skipped)"})
    stored = fields.Integer(required=True, metadata={"description": "stage records stored by this upload"})
    duplicates = fields.Integer(required=True, metadata={"description": "rows already stored by an earlier upload"})


def _xlsx(data: bytes, product: str, stage: str) -> Response:
    response = Response(data, mimetype=XLSX)
    name = f"{PRODUCTS[product].name_zh}-{stage_name(stage, 'zh')}-导入模板.xlsx"
    response.headers["Content-Disposition"] = (
        f"attachment; filename=import-{product}-{stage}.xlsx; filename*=UTF-8''{quote(name)}"
    )
    return response


def _answer(result: imports.ImportResult) -> tuple[dict[str, Any], int]:
    body = {"rows": result.rows, "stored": result.stored, "duplicates": result.duplicates}
    return body, 201 if result.stored else 200


@blp.route("/imports/events/template.xlsx", methods=["GET"])
@blp.arguments(EventsTemplateArgs, location="query")
@blp.response(200, content_type=XLSX, description="The template: Chinese headers, drop-down lists, instructions.")
@blp.alt_response(422, schema=ErrorOut, description="The product has no such stage.")
@blp.doc(security=[{"bearerAuth": []}])
@require_roles()
def events_template(args: dict[str, Any]) -> Response:
    """The XLSX template for one product's stage, its lot-code list filled with the caller's lots."""
    stage = args.get("stage") or PRODUCTS[args["product"]].stages[0]
    data = imports.template_xlsx(actor(), args["product"], stage)
    return _xlsx(data, args["product"], stage)


@blp.route("/imports/events", methods=["POST"])
@blp.arguments(EventsImportArgs, location="query")
@blp.arguments(EventsUpload, location="files")
@blp.response(201, EventsImportOut, description="Every row was stored (or already stored).")
@blp.alt_response(200, schema=EventsImportOut, success=True, description="The same rows again: nothing new stored.")
@blp.alt_response(
    422, schema=ErrorOut, description="errors.rows names each bad row (row, column, reason); nothing was stored."
)
@blp.doc(security=[{"bearerAuth": []}])
@require_roles()
def import_events(args: dict[str, Any], files: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """Import stage records from a filled template (XLSX or CSV, up to 5,000 rows), all or nothing."""
    upload = files["file"]
    result = imports.import_events(
        actor(), upload.filename or "", upload.read(), args.get("product", ""), args.get("stage", "")
    )
    return _answer(result)


# --- the field page --------------------------------------------------------------------------------


@_routes.get("/import")
@field_views.field_required
def import_page() -> str:
    """Download a template (product and stage pickers), upload it with a progress bar, see each bad row."""
    product = request.args.get("product", "")
    product = product if product in PRODUCTS else next(iter(PRODUCTS))
    return render_template(
        "field/import.html",
        products=PRODUCTS,
        product=product,
        stages_of={key: list(spec.stages) for key, spec in PRODUCTS.items()},
        max_rows=imports.MAX_ROWS,
    )


@_routes.get("/import/template.xlsx")
@field_views.field_required
def import_template() -> Response:
    product, stage = request.args.get("product", ""), request.args.get("stage", "")
    data = imports.template_xlsx(field_views.field_actor(), product, stage)
    return _xlsx(data, product, stage)


@_routes.post("/import")
@field_views.field_required
def import_upload() -> Any:
    """The page's upload (XHR, with the session and CSRF token): the API's answer, as JSON."""
    upload = request.files.get("file")
    if upload is None:
        raise InvalidInput.field("file", imports.no_file_reason(), "files")
    try:
        result = imports.import_events(
            field_views.field_actor(), upload.filename or "", upload.read(),
            request.form.get("product", ""), request.form.get("stage", ""),
        )  # fmt: skip
    except InvalidInput as refused:
        # 422 rolls the request back (app/db.py): nothing of a refused file is kept.
        return jsonify(error_body(422, refused.message, refused.errors)), 422
    body, status = _answer(result)
    return jsonify(body), status
