"""Request and response shapes for dispositions of held lots."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.holds.service import DISPOSITIONS
from app.recalls.service import SEVERITIES
from app.schemas import StrictSchema


class DispositionCreate(StrictSchema):
    kind = fields.String(
        required=True,
        validate=validate.OneOf(list(DISPOSITIONS)),
        metadata={"description": "destroyed, made_harmless, returned, relabelled, recalled or released"},
    )
    note = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    evidence = fields.String(
        validate=validate.Length(max=2000),
        metadata={"description": "required for destroyed and made_harmless: what proves it was done"},
    )
    severity = fields.String(
        validate=validate.OneOf(list(SEVERITIES)), metadata={"description": "required for recalled: I, II or III"}
    )


class DispositionLotOut(Schema):
    id = fields.Integer(required=True)
    lot_code = fields.String(required=True)
    status = fields.String(required=True)


class DispositionOut(Schema):
    batch = fields.Function(lambda d: d.batch.id, required=True)
    lot_code = fields.Function(lambda d: d.batch.lot_code, required=True)
    kind = fields.String(required=True)
    note = fields.String(required=True)
    evidence = fields.String(allow_none=True)
    recorded_at = fields.DateTime(required=True)
    lots = fields.List(fields.Nested(DispositionLotOut), required=True)
    recall = fields.Function(lambda d: d.recall.id if d.recall is not None else None, allow_none=True)
