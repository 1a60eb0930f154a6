"""Request and response shapes for the 承诺达标合格证."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.commitments.service import BASES
from app.schemas import DecimalIn, DecimalString, StrictSchema


class CertificateCreate(StrictSchema):
    contact = fields.String(required=True, validate=validate.Length(min=1, max=40))
    basis = fields.String(
        required=True,
        validate=validate.OneOf(list(BASES)),
        metadata={"description": "quality_control (质量安全控制), self_tested (自行检测), commissioned (委托检测)"},
    )
    report_no = fields.String(
        validate=validate.Length(max=60),
        metadata={"description": "the report relied on; required for commissioned, a report of this batch"},
    )
    quantity = DecimalIn(metadata={"description": "what the certificate covers; default the whole lot"})
    origin = fields.String(
        validate=validate.Length(max=200),
        metadata={"description": "default: the lot's site, else its producer's county"},
    )


class CertificateOut(Schema):
    id = fields.Integer(required=True)
    number = fields.String(required=True)
    batch = fields.Function(lambda c: c.batch_id, required=True)
    lot_code = fields.Function(lambda c: c.batch.lot_code, required=True)
    issuer = fields.Function(lambda c: c.issuer.code, required=True)
    issuer_name = fields.Function(lambda c: c.issuer.name, required=True)
    issued_at = fields.DateTime(required=True)
    product = fields.String(attribute="product_key", required=True)
    quantity = DecimalString(required=True)
    unit = fields.String(required=True)
    origin = fields.String(required=True)
    contact = fields.String(required=True)
    commitments = fields.List(fields.String(), required=True)
    basis = fields.String(required=True)
    report_no = fields.String(allow_none=True)
    came_from = fields.List(fields.String(), required=True)
    pdf = fields.Function(lambda c: f"/api/v1/commitment-certificates/{c.id}.pdf", required=True)


class ReceiptOut(Schema):
    number = fields.Function(lambda e: e.data["number"], required=True)
    batch = fields.Integer(attribute="batch_id", required=True)
    seq = fields.Integer(required=True)
    received_by = fields.Function(lambda e: e.actor_org.code if e.actor_org else None, required=True)
    recorded_at = fields.DateTime(required=True)
