"""HTTP for custody: transfers of a batch between organizations, accepted or rejected.

Each view loads its schema, calls one service function and dumps.
"""

from __future__ import annotations

from typing import Any

from app.api import Blueprint
from app.auth import actor, require_roles
from app.custody import service as custody
from app.custody.models import Transfer
from app.custody.schemas import (
    TransferAccept,
    TransferCreate,
    TransferList,
    TransferListArgs,
    TransferOut,
    TransferReject,
)
from app.schemas import Page

blp = Blueprint("custody", __name__, url_prefix="/api/v1", description="Custody transfers between organizations")
SECURITY: list[dict[str, list[str]]] = [{"bearerAuth": []}]


@blp.route("/batches/<id:batch_id>/transfers", methods=["POST"])
@blp.arguments(TransferCreate)
@blp.response(201, TransferOut)
@blp.doc(security=SECURITY)
@require_roles()
def create_transfer(body: dict[str, Any], batch_id: int) -> Transfer:
    """Ship a batch to another organization (custodian only); custody moves when it accepts."""
    return custody.create_transfer(
        actor(),
        batch_id,
        to_org=body["to_org"],
        occurred_at=body["occurred_at"],
        transport=body["transport"],
    )


@blp.route("/transfers", methods=["GET"])
@blp.arguments(TransferListArgs, location="query")
@blp.response(200, TransferList)
@blp.doc(security=SECURITY)
@require_roles()
def list_transfers(args: dict[str, Any]) -> Page:
    """The caller's organization's incoming or outgoing transfers, newest first."""
    return custody.list_transfers(
        actor(), direction=args["direction"], status=args.get("status"), page=args["page"], per_page=args["per_page"]
    )


@blp.route("/transfers/<id:transfer_id>", methods=["GET"])
@blp.response(200, TransferOut)
@blp.doc(security=SECURITY)
@require_roles()
def get_transfer(transfer_id: int) -> Transfer:
    """One transfer, for whoever may read its batch."""
    return custody.get_transfer(actor(), transfer_id)


@blp.route("/transfers/<id:transfer_id>/accept", methods=["POST"])
@blp.arguments(TransferAccept)
@blp.response(200, TransferOut)
@blp.doc(security=SECURITY)
@require_roles()
def accept_transfer(body: dict[str, Any], transfer_id: int) -> Transfer:
    """Accept a batch shipped to the caller's organization: custody moves to it."""
    return custody.accept_transfer(actor(), transfer_id, occurred_at=body.get("occurred_at"))


@blp.route("/transfers/<id:transfer_id>/reject", methods=["POST"])
@blp.arguments(TransferReject)
@blp.response(200, TransferOut)
@blp.doc(security=SECURITY)
@require_roles()
def reject_transfer(body: dict[str, Any], transfer_id: int) -> Transfer:
    """Refuse a batch shipped to the caller's organization, saying why; custody stays with the sender."""
    return custody.reject_transfer(actor(), transfer_id, reason=body["reason"], occurred_at=body.get("occurred_at"))
