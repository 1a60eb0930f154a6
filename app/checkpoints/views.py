"""HTTP for the public checkpoint log, its key, and a batch's proofs. No login: all of it is public."""

from __future__ import annotations

from typing import Any

from flask import current_app

from app.api import Blueprint
from app.batches.service import get_batch_by_public_code
from app.checkpoints import service
from app.checkpoints.keys import SigningKeyUnavailable, load_signer, public_key_document
from app.checkpoints.schemas import CheckpointList, CheckpointListArgs, CheckpointOut, ProofArgs, ProofOut, PublicKeyOut
from app.errors import NotFound
from app.schemas import ErrorOut, Page

blp = Blueprint(
    "checkpoints", __name__, url_prefix="/api/v1", description="Signed checkpoints of every batch's chain, and proofs"
)


@blp.route("/checkpoints", methods=["GET"])
@blp.arguments(CheckpointListArgs, location="query")
@blp.response(200, CheckpointList)
def list_checkpoints(args: dict[str, Any]) -> Page:
    """The append-only checkpoint log, newest first; each names its predecessor."""
    return service.list_checkpoints(args["page"], args["per_page"])


@blp.route("/checkpoints/latest", methods=["GET"])
@blp.response(200, CheckpointOut)
@blp.alt_response(404, schema=ErrorOut, description="No checkpoint has been made yet.")
def latest_checkpoint() -> dict[str, Any]:
    """The newest signed checkpoint, as a checkpoint file (save it to verify against later)."""
    latest = service.latest_checkpoint()
    if latest is None:
        raise NotFound("no checkpoint has been made yet")
    return service.document_for(latest)


@blp.route("/checkpoints/<id:checkpoint_id>", methods=["GET"])
@blp.response(200, CheckpointOut)
@blp.alt_response(404, schema=ErrorOut, description="No such checkpoint.")
def get_checkpoint(checkpoint_id: int) -> dict[str, Any]:
    """One checkpoint of the log, as a checkpoint file."""
    return service.document_for(service.get_checkpoint(checkpoint_id))


@blp.route("/checkpoints/key", methods=["GET"])
@blp.response(200, PublicKeyOut)
@blp.alt_response(404, schema=ErrorOut, description="No signing key is configured.")
def signing_key() -> dict[str, str]:
    """The Ed25519 public key checkpoints are signed with: PEM and the raw 32 bytes in base64."""
    try:
        signer = load_signer(current_app.config, generate=False)
    except SigningKeyUnavailable as exc:
        raise NotFound(exc.message) from None
    return public_key_document(signer.public_key)


@blp.route("/public/<string(maxlength=64):public_code>/proof", methods=["GET"])
@blp.arguments(ProofArgs, location="query")
@blp.response(200, ProofOut)
@blp.alt_response(404, schema=ErrorOut, description="No such batch, no checkpoint, or the batch is not covered yet.")
@blp.alt_response(409, schema=ErrorOut, description="The stored leaves no longer give the signed root.")
def batch_proof(args: dict[str, Any], public_code: str) -> dict[str, Any]:
    """The batch's leaf, its inclusion proof in the latest checkpoint and, with ``from``, a consistency proof."""
    batch = get_batch_by_public_code(public_code)
    return service.batch_proof(batch, args.get("from_"))
