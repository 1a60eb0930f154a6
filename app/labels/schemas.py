"""What the labels API takes and gives: QR arguments, label runs, jobs, units, verification, flags."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.jobs.schemas import JobOut
from app.labels import qr
from app.schemas import Id, ListMeta, StrictSchema


class QrArgs(StrictSchema):
    size = fields.Integer(
        load_default=qr.DEFAULT_SIZE,
        validate=validate.Range(min=qr.MIN_SIZE, max=qr.MAX_SIZE),
        metadata={"description": f"Image width in pixels, {qr.MIN_SIZE} to {qr.MAX_SIZE}."},
    )


class LabelRunCreate(StrictSchema):
    count = fields.Integer(required=True, validate=validate.Range(min=1, max=100_000),
                           metadata={"description": "Units to make, 1 to 100,000."})  # fmt: skip
    template = fields.String(
        required=True,
        validate=validate.OneOf(["a4_24", "a4_40", "zpl", "tspl"]),
        metadata={"description": "a4_24 / a4_40: A4 PDF sheets of 24 or 40 labels; zpl, tspl: thermal printers."},
    )


class LabelRunOut(Schema):
    id = fields.Integer(required=True)
    batch = fields.Integer(required=True, attribute="batch_id")
    count = fields.Integer(required=True)
    template = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    job = fields.Nested(JobOut, required=True)
    files = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        required=True,
        metadata={"description": "print: the run's PDF, ZPL or TSPL; units: the CSV of serial, URI, PIN"},
    )


class VoidIn(StrictSchema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=200))


class VoidRangeIn(VoidIn):
    first = fields.Integer(required=True, validate=validate.Range(min=1, max=100_000))
    last = fields.Integer(required=True, validate=validate.Range(min=1, max=100_000))


class VoidRangeOut(Schema):
    voided = fields.Integer(required=True, metadata={"description": "units voided by this request"})


class UnitOut(Schema):
    serial = fields.String(required=True)
    batch = fields.Integer(required=True, attribute="batch_id")
    run = fields.Integer(required=True, attribute="run_id")
    seq = fields.Integer(required=True)
    uri = fields.String(required=True)
    voided_at = fields.DateTime(allow_none=True)
    void_reason = fields.String(allow_none=True)
    verified_at = fields.DateTime(allow_none=True)


class VerifyIn(StrictSchema):
    pin = fields.String(required=True, validate=validate.Regexp(r"^\d{8}$", error="8 digits"))


class VerifyOut(Schema):
    genuine = fields.Boolean(required=True, metadata={"description": "the PIN is right"})
    first = fields.Boolean(required=True, metadata={"description": "this was the unit's first correct PIN"})
    first_verified_at = fields.DateTime(allow_none=True)
    first_city = fields.String(allow_none=True)
    verifications = fields.Integer(required=True)
    message = fields.String(required=True)


class FlagOut(Schema):
    id = fields.Integer(required=True)
    serial = fields.Function(lambda f: f.unit.serial, required=True)
    batch = fields.Integer(required=True, attribute="batch_id")
    lot_code = fields.Function(lambda f: f.batch.lot_code, required=True)
    rule = fields.String(required=True)
    detail = fields.Dict(required=True)
    raised_at = fields.DateTime(required=True)
    last_seen_at = fields.DateTime(required=True)
    hits = fields.Integer(required=True)


class FlagArgs(StrictSchema):
    batch = Id()


class FlagList(Schema):
    items = fields.List(fields.Nested(FlagOut), required=True)
    meta = fields.Nested(ListMeta, required=True)
