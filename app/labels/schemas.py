"""Query arguments of the QR endpoints."""

from __future__ import annotations

from marshmallow import fields, validate

from app.labels import qr
from app.schemas import StrictSchema


class QrArgs(StrictSchema):
    size = fields.Integer(
        load_default=qr.DEFAULT_SIZE,
        validate=validate.Range(min=qr.MIN_SIZE, max=qr.MAX_SIZE),
        metadata={"description": f"Image width in pixels, {qr.MIN_SIZE} to {qr.MAX_SIZE}."},
    )
