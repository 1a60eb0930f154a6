"""HTTP for held lots: record a disposition."""

from __future__ import annotations

from typing import Any

from app.api import Blueprint
from app.auth import actor, require_roles
from app.holds import service
from app.holds.schemas import DispositionCreate, DispositionOut

blp = Blueprint("holds", __name__, url_prefix="/api/v1", description="Held lots and their dispositions (不合格处置)")
SECURITY: list[dict[str, list[str]]] = [{"bearerAuth": []}]


@blp.route("/batches/<id:batch_id>/dispositions", methods=["POST"])
@blp.arguments(DispositionCreate)
@blp.response(201, DispositionOut)
@blp.doc(security=SECURITY)
@require_roles()
def record_disposition(body: dict[str, Any], batch_id: int) -> service.DispositionResult:
    """Record what was done with a lot on hold (inspector, administrator); it covers the lots held with it."""
    return service.record_disposition(
        actor(),
        batch_id,
        kind=body["kind"],
        note=body["note"],
        evidence=body.get("evidence"),
        severity=body.get("severity"),
    )
