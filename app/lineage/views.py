"""HTTP for lineage: split, transformations, the trace and lineage verification.

Each view loads its schema, calls one service function and dumps.
"""

from __future__ import annotations

from typing import Any

from app.api import Blueprint
from app.auth import actor, require_roles
from app.batches import service as batches
from app.db import db
from app.errors import NotFound
from app.lineage import service as lineage
from app.lineage import trace as tracing
from app.lineage.models import LineageEdge, Transformation
from app.lineage.schemas import LineageOut, LineageReportOut, SplitCreate, TraceArgs, TraceOut, TransformationCreate
from app.schemas import MAX_ID

blp = Blueprint(
    "lineage",
    __name__,
    url_prefix="/api/v1",
    description="Lineage (split, merge, transform), trace and lineage verification",
)
SECURITY: list[dict[str, list[str]]] = [{"bearerAuth": []}]


def _lineage_body(result: lineage.LineageResult) -> dict[str, Any]:
    units = {t.batch.id: t.batch.unit for t in result.inputs}
    return {
        "transformation": result.transformation,
        "inputs": result.inputs,
        "outputs": result.outputs,
        "edges": [_edge(e, units[e.input_batch_id]) for e in result.edges],
    }


def _edge(edge: LineageEdge, unit: str) -> tracing.TraceEdge:
    return tracing.TraceEdge(
        id=edge.id,
        source=edge.input_batch_id,
        target=edge.output_batch_id,
        quantity=edge.quantity,
        unit=unit,
        kind=edge.kind,
        occurred_at=edge.occurred_at,
        transformation=edge.transformation_id,
    )


@blp.route("/batches/<int:batch_id>/split", methods=["POST"])
@blp.arguments(SplitCreate)
@blp.response(201, LineageOut)
@blp.doc(security=SECURITY)
@require_roles()
def split_batch(body: dict[str, Any], batch_id: int) -> dict[str, Any]:
    """Split a lot into child lots of the same product and unit (custodian only)."""
    result = lineage.split_batch(
        actor(),
        batch_id,
        parts=[p["quantity"] for p in body["parts"]],
        lot_codes=[p.get("lot_code") for p in body["parts"]],
        occurred_at=body.get("occurred_at"),
    )
    return _lineage_body(result)


@blp.route("/transformations", methods=["POST"])
@blp.arguments(TransformationCreate)
@blp.response(201, LineageOut)
@blp.doc(security=SECURITY)
@require_roles()
def create_transformation(body: dict[str, Any]) -> dict[str, Any]:
    """Merge, press, fry or pack input lots into new output lots (custodian of every input)."""
    result = lineage.transform(
        actor(),
        inputs=[lineage.Take(batch=i["batch"], quantity=i["quantity"]) for i in body["inputs"]],
        outputs=[lineage.Output(**o) for o in body["outputs"]],
        occurred_at=body["occurred_at"],
        process=body["process"],
    )
    return _lineage_body(result)


@blp.route("/transformations/<int:transformation_id>", methods=["GET"])
@blp.response(200, LineageOut)
@blp.doc(security=SECURITY)
@require_roles()
def get_transformation(transformation_id: int) -> dict[str, Any]:
    """One transformation with its inputs, outputs and edges (the organization that did it, and oversight)."""
    who = actor()
    transformation = db.session.get(Transformation, transformation_id) if transformation_id <= MAX_ID else None
    if transformation is None or not (who.oversees or transformation.actor_org_id == who.org.id):
        raise NotFound(f"no transformation with id {transformation_id}")
    return _lineage_body(lineage.load_transformation(transformation))


@blp.route("/batches/<int:batch_id>/trace", methods=["GET"])
@blp.arguments(TraceArgs, location="query")
@blp.response(200, TraceOut)
@blp.doc(security=SECURITY)
@require_roles()
def trace(args: dict[str, Any], batch_id: int) -> tracing.Trace:
    """The lots a batch came from (upstream), went into (downstream), or both, up to ``depth`` steps."""
    batches.get_readable_batch(batch_id, actor())
    return tracing.trace(batch_id, args["direction"], args["depth"])


@blp.route("/batches/<int:batch_id>/verify-lineage", methods=["GET"])
@blp.response(200, LineageReportOut)
@blp.doc(security=SECURITY)
@require_roles()
def verify_lineage(batch_id: int) -> tracing.LineageReport:
    """Recompute the chains of a batch and its ancestors, and check each output's commitment to its inputs."""
    return tracing.verify_lineage(batches.get_readable_batch(batch_id, actor()))
