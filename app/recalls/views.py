"""HTTP for recalls: open, read, list, export (CSV, XLSX) and close."""

from __future__ import annotations

from typing import Any

from flask import Response

from app.api import Blueprint
from app.auth import actor, require_roles
from app.recalls import export, service
from app.recalls.schemas import RecallClose, RecallCreate, RecallList, RecallListArgs, RecallReportOut
from app.schemas import Page

blp = Blueprint("recalls", __name__, url_prefix="/api/v1", description="Recalls: affected lots, holders, sales")
SECURITY: list[dict[str, list[str]]] = [{"bearerAuth": []}]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@blp.route("/recalls", methods=["POST"])
@blp.arguments(RecallCreate)
@blp.response(201, RecallReportOut)
@blp.doc(security=SECURITY)
@require_roles()
def open_recall(body: dict[str, Any]) -> dict[str, Any]:
    """Recall a lot and every lot made from it (inspector, administrator, or the lot's producer)."""
    return service.recall_body(
        service.open_recall(actor(), batch_id=body["batch"], reason=body["reason"], severity=body["severity"])
    )


@blp.route("/recalls", methods=["GET"])
@blp.arguments(RecallListArgs, location="query")
@blp.response(200, RecallList)
@blp.doc(security=SECURITY)
@require_roles()
def list_recalls(args: dict[str, Any]) -> Page:
    """The recalls the caller may see, newest first; filter by status (open, closed)."""
    return service.list_recalls(actor(), status=args.get("status"), page=args["page"], per_page=args["per_page"])


@blp.route("/recalls/<id:recall_id>", methods=["GET"])
@blp.response(200, RecallReportOut)
@blp.doc(security=SECURITY)
@require_roles()
def get_recall(recall_id: int) -> dict[str, Any]:
    """One recall: each affected lot, who holds it, where, what it came from, its transfers and sales."""
    return service.recall_body(service.get_recall(actor(), recall_id))


@blp.route("/recalls/<id:recall_id>/close", methods=["POST"])
@blp.arguments(RecallClose)
@blp.response(200, RecallReportOut)
@blp.doc(security=SECURITY)
@require_roles()
def close_recall(body: dict[str, Any], recall_id: int) -> dict[str, Any]:
    """Close a recall whose action is complete, saying why; the lots stay recalled and the history stays."""
    return service.recall_body(service.close_recall(actor(), recall_id, reason=body["reason"]))


def _attachment(body: bytes, mimetype: str, filename: str) -> Response:
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@blp.route("/recalls/<id:recall_id>/export.csv", methods=["GET"])
@blp.response(200, content_type="text/csv", description="One row per affected lot and movement; UTF-8 with BOM.")
@blp.doc(security=SECURITY)
@require_roles()
def export_csv(recall_id: int) -> Response:
    """The recall sheet as CSV (UTF-8 with BOM, so Excel shows the Chinese)."""
    return _attachment(export.recall_csv(actor(), recall_id), "text/csv; charset=utf-8", f"recall-{recall_id}.csv")


@blp.route("/recalls/<id:recall_id>/export.xlsx", methods=["GET"])
@blp.response(200, content_type=XLSX, description="The recall sheet: frozen header, autofilter.")
@blp.doc(security=SECURITY)
@require_roles()
def export_xlsx(recall_id: int) -> Response:
    """The recall sheet as XLSX: sortable and filterable, with the recall described on a second sheet."""
    return _attachment(export.recall_xlsx(actor(), recall_id), XLSX, f"recall-{recall_id}.xlsx")
