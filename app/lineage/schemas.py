"""Request and response shapes of the lineage endpoints: split, transformations, trace, verify-lineage."""

from __future__ import annotations

from flask import current_app
from marshmallow import Schema, fields, validate

from app.batches import service as batches
from app.batches.models import Batch
from app.batches.schemas import LOT_CODE, _plausible_moment
from app.lineage import trace as tracing
from app.schemas import DecimalString, Id, StrictSchema, quantity_field
from app.security import MAX_SPLIT_PARTS, MAX_TRANSFORMATION_INPUTS, MAX_TRANSFORMATION_OUTPUTS
from app.units import BATCH_UNITS

# Row ids are 32-bit integers on every database we run on.


# --- requests -------------------------------------------------------------------------------


class SplitPart(StrictSchema):
    quantity = quantity_field(required=True)
    lot_code = fields.String(validate=LOT_CODE)


class SplitCreate(StrictSchema):
    parts = fields.List(fields.Nested(SplitPart), required=True, validate=validate.Length(min=1, max=MAX_SPLIT_PARTS))
    occurred_at = fields.AwareDateTime(validate=_plausible_moment)


class TransformationInput(StrictSchema):
    batch = Id(required=True)
    quantity = quantity_field(required=True)


class TransformationOutput(StrictSchema):
    product = fields.String(required=True, validate=validate.Length(min=1, max=20))
    quantity = quantity_field(required=True)
    unit = fields.String(required=True, validate=validate.OneOf(BATCH_UNITS))
    lot_code = fields.String(validate=LOT_CODE)


class TransformationCreate(StrictSchema):
    inputs = fields.List(
        fields.Nested(TransformationInput),
        required=True,
        validate=validate.Length(min=1, max=MAX_TRANSFORMATION_INPUTS),
    )
    outputs = fields.List(
        fields.Nested(TransformationOutput),
        required=True,
        validate=validate.Length(min=1, max=MAX_TRANSFORMATION_OUTPUTS),
    )
    occurred_at = fields.AwareDateTime(required=True, validate=_plausible_moment)
    # What was done: steps, machine, temperatures... kept as given in the transformation record.
    process = fields.Dict(keys=fields.String(), load_default=dict)


class TraceArgs(StrictSchema):
    direction = fields.String(load_default="both", validate=validate.OneOf(tracing.DIRECTIONS))
    depth = fields.Integer(
        load_default=tracing.DEFAULT_TRACE_DEPTH, validate=validate.Range(min=1, max=tracing.MAX_TRACE_DEPTH)
    )


# --- responses ------------------------------------------------------------------------------


def _public_url(batch: Batch) -> str:
    return batches.public_url(current_app.config["PUBLIC_BASE_URL"], batch)


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
    actor_org = fields.Function(lambda t: t.actor_org.code, required=True)
    process = fields.Dict(required=True)
    yield_pct = DecimalString(allow_none=True)


class LineageOut(Schema):
    transformation = fields.Nested(TransformationOut, required=True)
    inputs = fields.List(fields.Nested(LineageTakenOut), required=True)
    outputs = fields.List(fields.Nested(LineageBatchOut), required=True)
    edges = fields.List(fields.Nested(LineageEdgeOut), attribute="trace_edges", required=True)


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
