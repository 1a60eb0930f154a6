"""Request and response shapes of the custody endpoints: transfers, their acceptance or rejection."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.batches.schemas import _plausible_moment
from app.custody import service as custody
from app.custody.models import TransferStatus
from app.schemas import DecimalIn, PageArgs, PageMeta, StrictSchema


class TransferTransport(StrictSchema):
    carrier = fields.String(validate=validate.Length(min=1, max=200))
    vehicle = fields.String(validate=validate.Length(min=1, max=60))
    waybill = fields.String(validate=validate.Length(min=1, max=60))
    origin = fields.String(validate=validate.Length(min=1, max=200))
    destination = fields.String(validate=validate.Length(min=1, max=200))
    temperature_c = DecimalIn(validate=validate.Range(min=-60, max=80))
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
