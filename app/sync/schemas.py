"""POST /api/v1/sync: up to 500 queued writes in, one result per item out."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates

from app.schemas import Id, StrictSchema
from app.sync.handlers import HANDLERS
from app.sync.service import MAX_ITEMS


class SyncItemIn(StrictSchema):
    client_id = fields.String(
        required=True,
        validate=validate.Length(min=1, max=100),
        metadata={"description": "the write's client-made id (its Idempotency-Key): sent again, it is stored once"},
    )
    kind = fields.String(
        required=True,
        validate=validate.OneOf(sorted(HANDLERS)),
        metadata={"description": "what the write is: a batch, a stage, a correction, a site, a member household..."},
    )
    device_time = fields.AwareDateTime(
        metadata={"description": "the device's own clock when the entry was made; stored beside the server's time"}
    )
    batch = Id(metadata={"description": "stage, correction, certificate: the batch"})
    stage = fields.String(validate=validate.Length(min=1, max=20), metadata={"description": "stage, day_sheet"})
    seq = Id(metadata={"description": "correction: the recorded stage's seq"})
    field = fields.String(validate=validate.Length(min=1, max=40), metadata={"description": "correction: the field"})
    certificate = Id(metadata={"description": "certificate_receipt: the certificate"})
    product = fields.String(validate=validate.Length(min=1, max=40), metadata={"description": "day_sheet: product"})
    body = fields.Dict(
        keys=fields.String(validate=validate.Length(max=80)),
        values=fields.String(validate=validate.Length(max=2000)),
        load_default=dict,
        metadata={"description": "the field page's form fields as text (the same names and formats)"},
    )


class SyncIn(StrictSchema):
    writes = fields.List(fields.Nested(SyncItemIn), required=True, metadata={"description": "1-500 queued writes"})

    @validates("writes")
    def _count(self, writes: list[object], **_: object) -> None:
        if not 1 <= len(writes) <= MAX_ITEMS:
            raise ValidationError(f"Send between 1 and {MAX_ITEMS} writes; {len(writes)} were sent.")


class SyncResultOut(Schema):
    client_id = fields.String(required=True)
    kind = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": ["created", "duplicate", "rejected"]})
    result = fields.Dict(metadata={"description": "created, duplicate: what was stored (the same both times)"})
    message = fields.String(metadata={"description": "said once, on created (a new member's first password)"})
    error = fields.Dict(metadata={"description": "rejected: {code, status, message, errors}, the API's error shape"})


class SyncOut(Schema):
    results = fields.List(fields.Nested(SyncResultOut), required=True)
