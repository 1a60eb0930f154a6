"""POST /api/v1/sync: the field app's queued writes, each stored once and on its own."""

from __future__ import annotations

from typing import Any

from app import access
from app.api import Blueprint
from app.auth import actor, require_roles
from app.schemas import ErrorOut
from app.sync import service
from app.sync.schemas import SyncIn, SyncOut

blp = Blueprint("sync", __name__, url_prefix="/api/v1", description="Queued writes from the field app (offline)")


@blp.route("/sync", methods=["POST"])
@blp.arguments(SyncIn)
@blp.response(200, SyncOut)
@blp.alt_response(422, schema=ErrorOut, description="The body is malformed, or holds more than 500 writes.")
@blp.doc(security=[{"bearerAuth": []}])
@require_roles(access.FIELD_ROLES)
def post_sync(body: dict[str, Any]) -> dict[str, Any]:
    """Send up to 500 queued writes; each is created, a duplicate of one sent before, or rejected on its own."""
    return {"results": service.sync(actor(), body["writes"])}
