"""Request and response shapes for recalls."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.lineage.service import q3
from app.orgs.schemas import OrgRef
from app.recalls.service import SEVERITIES, STATUSES
from app.schemas import Id, ListMeta, PageArgs, PageMeta, StrictSchema


class RecallCreate(StrictSchema):
    batch = Id(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    severity = fields.String(
        required=True,
        validate=validate.OneOf(list(SEVERITIES)),
        metadata={"description": "I (一级: serious harm), II (二级: ordinary harm), III (三级: no harm, e.g. label)"},
    )


class RecallClose(StrictSchema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class RecallListArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(STATUSES))


class RecallTransferOut(Schema):
    id = fields.Integer(required=True)
    from_org = fields.Function(lambda t: t.from_org.code, required=True)
    to_org = fields.Function(lambda t: t.to_org.code, required=True)
    status = fields.String(required=True)
    occurred_at = fields.DateTime(required=True)


class RecallSaleOut(Schema):
    seq = fields.Integer(required=True)
    occurred_at = fields.DateTime(required=True)
    seller = fields.Function(lambda s: s.seller.code, required=True)
    channel = fields.String(allow_none=True)
    buyer = fields.String(allow_none=True)
    location = fields.String(allow_none=True)
    amended = fields.Boolean(required=True)


class RecallAffectedOut(Schema):
    batch = fields.Function(lambda a: a.batch.id, required=True)
    lot_code = fields.Function(lambda a: a.batch.lot_code, required=True)
    product = fields.Function(lambda a: a.batch.product_key, required=True)
    quantity = fields.Function(lambda a: q3(a.batch.quantity), required=True)
    unit = fields.Function(lambda a: a.batch.unit, required=True)
    status = fields.Function(lambda a: a.batch.status, required=True)
    previous_status = fields.String(required=True)
    depth = fields.Integer(required=True)
    holder = fields.Nested(OrgRef, required=True)
    location = fields.String(allow_none=True)
    source_lots = fields.List(fields.String(), required=True)
    transfers = fields.List(fields.Nested(RecallTransferOut), required=True)
    sales = fields.List(fields.Nested(RecallSaleOut), required=True)


class RecallHolderOut(Schema):
    org = fields.Nested(OrgRef, required=True)
    lots = fields.List(fields.String(), required=True)


class RecallSummaryOut(Schema):
    batches = fields.Integer(required=True)
    holders = fields.Integer(required=True)
    transfers = fields.Integer(required=True)
    sales = fields.Integer(required=True)


class RecallSeverityOut(Schema):
    zh = fields.String(required=True)
    en = fields.String(required=True)


class RecallBriefOut(Schema):
    id = fields.Integer(required=True)
    batch = fields.Integer(required=True)
    lot_code = fields.String(required=True)
    product = fields.String(required=True)
    reason = fields.String(required=True)
    severity = fields.String(required=True)
    severity_label = fields.Nested(RecallSeverityOut, required=True)
    status = fields.String(required=True)
    opened_at = fields.DateTime(required=True)
    opened_by = fields.String(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)
    closed_by = fields.String(allow_none=True)
    closed_reason = fields.String(allow_none=True)
    affected = fields.Integer(required=True)


class RecallList(Schema):
    items = fields.List(fields.Nested(RecallBriefOut), required=True)
    meta = fields.Nested(PageMeta, required=True)


class RecallReportOut(RecallBriefOut):
    summary = fields.Nested(RecallSummaryOut, required=True)
    holders = fields.List(fields.Nested(RecallHolderOut), required=True)
    items = fields.List(fields.Nested(RecallAffectedOut), required=True)
    meta = fields.Nested(ListMeta, required=True)
