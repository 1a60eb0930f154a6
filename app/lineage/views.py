"""HTTP for lineage: split, transformations, the trace and lineage verification.

Each view loads its schema, calls one service function and dumps.
"""

from __future__ import annotations

from typing import Any

from app import access
from app.api import Blueprint
from app.auth import actor, require_roles
from app.lineage import service as lineage
from app.lineage import trace as tracing
from app.lineage.schemas import LineageOut, LineageReportOut, SplitCreate, TraceArgs, TraceOut, TransformationCreate

blp = Blueprint(
    "lineage",
    __name__,
    url_prefix="/api/v1",
    description="Lineage (split, merge, transform), trace and lineage verification",
)
SECURITY: list[dict[str, list[str]]] = [{"bearerAuth": []}]


@blp.route("/batches/<id:batch_id>/split", methods=["POST"])
@blp.arguments(SplitCreate)
@blp.response(201, LineageOut)
@blp.doc(security=SECURITY)
@require_roles()
def split_batch(body: dict[str, Any], batch_id: int) -> lineage.LineageResult:
    """Split a lot into child lots of the same product and unit (custodian only)."""
    return lineage.split_batch(
        actor(),
        batch_id,
        parts=[p["quantity"] for p in body["parts"]],
        lot_codes=[p.get("lot_code") for p in body["parts"]],
        occurred_at=body.get("occurred_at"),
    )


@blp.route("/transformations", methods=["POST"])
@blp.arguments(TransformationCreate)
@blp.response(201, LineageOut)
@blp.doc(security=SECURITY)
@require_roles()
def create_transformation(body: dict[str, Any]) -> lineage.LineageResult:
    """Merge, press, fry or pack input lots into new output lots (custodian of every input)."""
    return lineage.transform(
        actor(),
        inputs=[lineage.Take(batch=i["batch"], quantity=i["quantity"]) for i in body["inputs"]],
        outputs=[lineage.Output(**o) for o in body["outputs"]],
        occurred_at=body["occurred_at"],
        process=body["process"],
    )


@blp.route("/transformations/<id:transformation_id>", methods=["GET"])
@blp.response(200, LineageOut)
@blp.doc(security=SECURITY)
@require_roles()
def get_transformation(transformation_id: int) -> lineage.LineageResult:
    """One transformation with its inputs, outputs and edges (for readers of any of its lots)."""
    return lineage.get_transformation(actor(), transformation_id)


@blp.route("/batches/<id:batch_id>/trace", methods=["GET"])
@blp.arguments(TraceArgs, location="query")
@blp.response(200, TraceOut)
@blp.doc(security=SECURITY)
@require_roles()
def trace(args: dict[str, Any], batch_id: int) -> tracing.Trace:
    """The lots a batch came from (upstream), went into (downstream), or both, up to ``depth`` steps."""
    return tracing.trace(access.get_readable_batch(actor(), batch_id).id, args["direction"], args["depth"])


@blp.route("/batches/<id:batch_id>/verify-lineage", methods=["GET"])
@blp.response(200, LineageReportOut)
@blp.doc(security=SECURITY)
@require_roles()
def verify_lineage(batch_id: int) -> tracing.LineageReport:
    """Recompute the chains of a batch and its ancestors, and check each output's commitment to its inputs."""
    return tracing.verify_lineage(access.get_readable_batch(actor(), batch_id))
