"""HTTP for lineage and custody: split, transformations, transfers, the trace and lineage verification.

The request and response shapes live here beside their views (app/batches/schemas.py belongs to
the batch and event endpoints); each view loads, calls one service function and dumps.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import current_app
from marshmallow import Schema, fields, validate

from app.api import Blueprint
from app.auth import actor, require_roles
from app.batches import custody, lineage, service
from app.batches.models import UNITS, Batch, LineageEdge, Transfer, TransferStatus, Transformation
from app.batches.schemas import LOT_CODE, _plausible_moment
from app.db import db
from app.errors import NotFound
from app.orgs.models import Organization
from app.schemas import DecimalString, PageArgs, PageMeta, StrictSchema, page_of, quantity_field

blp = Blueprint(
    "lineage",
    __name__,
    url_prefix="/api/v1",
    description="Lineage (split, merge, transform), custody transfers, trace and lineage verification",
)
SECURITY = [{"bearerAuth": []}]


# Row ids are 32-bit integers on every database we run on.
_ID = validate.Range(min=1, max=lineage.MAX_ID)


# --- requests -------------------------------------------------------------------------------


class SplitPart(StrictSchema):
    quantity = quantity_field(required=True)
    lot_code = fields.String(validate=LOT_CODE)


class SplitCreate(StrictSchema):
    parts = fields.List(fields.Nested(SplitPart), required=True, validate=validate.Length(min=1, max=1000))
    occurred_at = fields.AwareDateTime(validate=_plausible_moment)


class TransformationInput(StrictSchema):
    batch = fields.Integer(required=True, validate=_ID)
    quantity = quantity_field(required=True)


class TransformationOutput(StrictSchema):
    product = fields.String(required=True, validate=validate.Length(min=1, max=20))
    quantity = quantity_field(required=True)
    unit = fields.String(required=True, validate=validate.OneOf(UNITS))
    lot_code = fields.String(validate=LOT_CODE)


class TransformationCreate(StrictSchema):
    inputs = fields.List(fields.Nested(TransformationInput), required=True, validate=validate.Length(min=1, max=500))
    outputs = fields.List(fields.Nested(TransformationOutput), required=True, validate=validate.Length(min=1, max=1000))
    occurred_at = fields.AwareDateTime(required=True, validate=_plausible_moment)
    # What was done: steps, machine, temperatures... kept as given in the transformation record.
    process = fields.Dict(keys=fields.String(), load_default=dict)


class TransferTransport(StrictSchema):
    carrier = fields.String(validate=validate.Length(min=1, max=200))
    vehicle = fields.String(validate=validate.Length(min=1, max=60))
    waybill = fields.String(validate=validate.Length(min=1, max=60))
    origin = fields.String(validate=validate.Length(min=1, max=200))
    destination = fields.String(validate=validate.Length(min=1, max=200))
    temperature_c = DecimalString(validate=validate.Range(min=-60, max=80))
    note = fields.String(validate=validate.Length(max=2000))


class TransferCreate(StrictSchema):
    to_org = fields.String(required=True, validate=validate.Length(min=2, max=40))
    occurred_at = fields.AwareDateTime(required=True, validate=_plausible_moment)
    transport = fields.Nested(TransferTransport, load_default=dict)


class TransferAccept(StrictSchema):
    occurred_at = fields.AwareDateTime(validate=_plausible_moment)


class TransferReject(StrictSchema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    occurred_at = fields.AwareDateTime(validate=_plausible_moment)


class TransferListArgs(PageArgs):
    direction = fields.String(required=True, validate=validate.OneOf(custody.DIRECTIONS))
    status = fields.String(validate=validate.OneOf([s.value for s in TransferStatus]))


class TraceArgs(StrictSchema):
    direction = fields.String(load_default="both", validate=validate.OneOf(lineage.DIRECTIONS))
    depth = fields.Integer(
        load_default=lineage.DEFAULT_TRACE_DEPTH, validate=validate.Range(min=1, max=lineage.MAX_TRACE_DEPTH)
    )


# --- responses ------------------------------------------------------------------------------


def _public_url(batch: Batch) -> str:
    return service.public_url(current_app.config["PUBLIC_BASE_URL"], batch)


class LineageBatchOut(Schema):
    id = fields.Integer(required=True)
    lot_code = fields.String(required=True)
    product = fields.String(attribute="product_key", required=True)
    quantity = DecimalString(places=3, required=True)
    unit = fields.String(required=True)
    status = fields.String(required=True)
    custodian = fields.Function(lambda b: b.custodian.code, required=True)
    producer = fields.Function(lambda b: b.producer.code, required=True)
    public_code = fields.String(required=True)
    public_url = fields.Function(_public_url, required=True)
    head_seq = fields.Integer(required=True)
    head_hash = fields.String(required=True)


class LineageTakenOut(Schema):
    batch = fields.Function(lambda t: t.batch.id, required=True)
    lot_code = fields.Function(lambda t: t.batch.lot_code, required=True)
    taken = DecimalString(attribute="quantity", places=3, required=True)
    remaining = DecimalString(places=3, required=True)
    unit = fields.Function(lambda t: t.batch.unit, required=True)
    status = fields.Function(lambda t: t.batch.status, required=True)


class LineageEdgeOut(Schema):
    id = fields.Integer(required=True)
    source = fields.Integer(data_key="from", required=True)
    target = fields.Integer(data_key="to", required=True)
    quantity = DecimalString(places=3, required=True)
    unit = fields.String(required=True)
    kind = fields.String(required=True)
    occurred_at = fields.DateTime(required=True)
    transformation = fields.Integer(allow_none=True)


class TransformationOut(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    occurred_at = fields.DateTime(required=True)
    recorded_at = fields.DateTime(required=True)
    actor_org = fields.Function(lambda t: db.session.get(Organization, t.actor_org_id).code, required=True)
    process = fields.Dict(required=True)
    yield_pct = DecimalString(allow_none=True)


class LineageOut(Schema):
    transformation = fields.Nested(TransformationOut, required=True)
    inputs = fields.List(fields.Nested(LineageTakenOut), required=True)
    outputs = fields.List(fields.Nested(LineageBatchOut), required=True)
    edges = fields.List(fields.Nested(LineageEdgeOut), required=True)


class TransferOut(Schema):
    id = fields.Integer(required=True)
    batch = fields.Function(lambda t: t.batch_id, required=True)
    lot_code = fields.Function(lambda t: t.batch.lot_code, required=True)
    from_org = fields.Function(lambda t: t.from_org.code, required=True)
    to_org = fields.Function(lambda t: t.to_org.code, required=True)
    status = fields.String(required=True)
    occurred_at = fields.DateTime(required=True)
    transport = fields.Dict(required=True)
    created_at = fields.DateTime(required=True)
    decided_at = fields.DateTime(allow_none=True)
    reason = fields.String(allow_none=True)


class TransferList(Schema):
    items = fields.List(fields.Nested(TransferOut), required=True)
    meta = fields.Nested(PageMeta, required=True)


class TraceNodeOut(Schema):
    id = fields.Integer(required=True)
    lot_code = fields.String(required=True)
    product = fields.String(required=True)
    quantity = DecimalString(places=3, required=True)
    unit = fields.String(required=True)
    custodian = fields.String(required=True)
    status = fields.String(required=True)
    depth = fields.Integer(required=True)
    relation = fields.String(required=True)


class TraceOut(Schema):
    root = fields.Function(lambda t: t.root.id, required=True)
    direction = fields.String(required=True)
    depth = fields.Integer(required=True)
    truncated = fields.Boolean(required=True)
    nodes = fields.List(fields.Nested(TraceNodeOut), required=True)
    edges = fields.List(fields.Nested(LineageEdgeOut), required=True)


class LineageInputCheckOut(Schema):
    lot_code = fields.String(required=True)
    head_seq = fields.Integer(allow_none=True)
    head_hash = fields.String(required=True)
    found = fields.Boolean(required=True)
    chain_valid = fields.Boolean(required=True)
    ok = fields.Boolean(required=True)


class LineageLotCheckOut(Schema):
    batch = fields.Integer(attribute="batch_id", required=True)
    lot_code = fields.String(required=True)
    chain_valid = fields.Boolean(required=True)
    first_invalid_seq = fields.Integer(allow_none=True)
    reason = fields.String(allow_none=True)
    inputs = fields.List(fields.Nested(LineageInputCheckOut), required=True)
    ok = fields.Boolean(required=True)


class LineageReportOut(Schema):
    root = fields.String(required=True)
    valid = fields.Boolean(required=True)
    lots = fields.List(fields.Nested(LineageLotCheckOut), required=True)


# --- views ----------------------------------------------------------------------------------


def _lineage_body(result: lineage.LineageResult) -> dict[str, Any]:
    units = {t.batch.id: t.batch.unit for t in result.inputs}
    return {
        "transformation": result.transformation,
        "inputs": result.inputs,
        "outputs": result.outputs,
        "edges": [_edge(e, units[e.input_batch_id]) for e in result.edges],
    }


def _edge(edge: LineageEdge, unit: str) -> lineage.TraceEdge:
    return lineage.TraceEdge(
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
    transformation = db.session.get(Transformation, transformation_id) if transformation_id <= lineage.MAX_ID else None
    if transformation is None or not (who.oversees or transformation.actor_org_id == who.org.id):
        raise NotFound(f"no transformation with id {transformation_id}")
    return _lineage_body(lineage.load_transformation(transformation))


@blp.route("/batches/<int:batch_id>/transfers", methods=["POST"])
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
        transport=_json_safe(body["transport"]),
    )


def _json_safe(transport: dict[str, Any]) -> dict[str, Any]:
    return {k: str(v) if isinstance(v, Decimal) else v for k, v in transport.items()}


@blp.route("/transfers", methods=["GET"])
@blp.arguments(TransferListArgs, location="query")
@blp.response(200, TransferList)
@blp.doc(security=SECURITY)
@require_roles()
def list_transfers(args: dict[str, Any]) -> dict[str, Any]:
    """The caller's organization's incoming or outgoing transfers, newest first."""
    found = custody.list_transfers(
        actor(), direction=args["direction"], status=args.get("status"), page=args["page"], per_page=args["per_page"]
    )
    return page_of(found.items, args["page"], args["per_page"], found.total)


@blp.route("/transfers/<int:transfer_id>", methods=["GET"])
@blp.response(200, TransferOut)
@blp.doc(security=SECURITY)
@require_roles()
def get_transfer(transfer_id: int) -> Transfer:
    """One transfer (its two organizations, and oversight)."""
    return custody.get_transfer(actor(), transfer_id)


@blp.route("/transfers/<int:transfer_id>/accept", methods=["POST"])
@blp.arguments(TransferAccept)
@blp.response(200, TransferOut)
@blp.doc(security=SECURITY)
@require_roles()
def accept_transfer(body: dict[str, Any], transfer_id: int) -> Transfer:
    """Accept a batch shipped to the caller's organization: custody moves to it."""
    return custody.accept_transfer(actor(), transfer_id, occurred_at=body.get("occurred_at"))


@blp.route("/transfers/<int:transfer_id>/reject", methods=["POST"])
@blp.arguments(TransferReject)
@blp.response(200, TransferOut)
@blp.doc(security=SECURITY)
@require_roles()
def reject_transfer(body: dict[str, Any], transfer_id: int) -> Transfer:
    """Refuse a batch shipped to the caller's organization, saying why; custody stays with the sender."""
    return custody.reject_transfer(actor(), transfer_id, reason=body["reason"], occurred_at=body.get("occurred_at"))


@blp.route("/batches/<int:batch_id>/trace", methods=["GET"])
@blp.arguments(TraceArgs, location="query")
@blp.response(200, TraceOut)
@blp.doc(security=SECURITY)
@require_roles()
def trace(args: dict[str, Any], batch_id: int) -> lineage.Trace:
    """The lots a batch came from (upstream), went into (downstream), or both, up to ``depth`` steps."""
    service.get_readable_batch(batch_id, actor())
    return lineage.trace(batch_id, args["direction"], args["depth"])


@blp.route("/batches/<int:batch_id>/verify-lineage", methods=["GET"])
@blp.response(200, LineageReportOut)
@blp.doc(security=SECURITY)
@require_roles()
def verify_lineage(batch_id: int) -> lineage.LineageReport:
    """Recompute the chains of a batch and its ancestors, and check each output's commitment to its inputs."""
    return lineage.verify_lineage(service.get_readable_batch(batch_id, actor()))
