"""Response shapes for product lines and standards."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.catalog.models import BASES, STATUSES
from app.catalog.products import PRODUCTS
from app.catalog.service import KINDS, LEVELS
from app.schemas import DecimalString, ListMeta, StrictSchema


class RequirementOut(Schema):
    id = fields.Integer(required=True)
    clause = fields.String(allow_none=True)
    parameter = fields.String(attribute="parameter_key", required=True)
    parameter_zh = fields.String(required=True)
    parameter_en = fields.String(allow_none=True)
    scope = fields.String(allow_none=True)
    product = fields.String(attribute="product_key", allow_none=True)
    forms = fields.List(fields.String(), required=True, metadata={"description": "forms it binds (any); [] = all"})
    unit = fields.String(allow_none=True)
    comparator = fields.String(required=True)
    limit = DecimalString(attribute="limit_value", allow_none=True)
    limit_text = fields.String(allow_none=True)
    basis = fields.String(
        required=True,
        validate=validate.OneOf(BASES),
        metadata={"description": "as_is, dry_matter (以干样品计), fat (以脂肪计)"},
    )
    not_detected_below = DecimalString(
        allow_none=True, metadata={"description": "a detected value under this figure counts as not detected"}
    )
    grading = fields.Boolean(required=True, metadata={"description": "a grading item: a grade, never a safety fail"})
    temporary_mrl = fields.Boolean(required=True, metadata={"description": "an official temporary MRL (临时限量)"})
    provisional = fields.Boolean(required=True)
    method = fields.String(allow_none=True)
    verified = fields.Boolean(required=True)
    confidence = fields.String(allow_none=True)
    source = fields.String(allow_none=True)


class StandardRef(Schema):
    """A standard wherever another record names it (a batch's bound standards, a declaration).

    The one output shape of a standard reference; the catalog's summary and the consumer's
    entry are this with fields added or left out.
    """

    id = fields.Integer(required=True)
    code = fields.String(required=True)
    edition = fields.String(required=True, allow_none=True)
    title_zh = fields.String(required=True)
    title_en = fields.String(required=True, allow_none=True)
    level = fields.String(required=True)
    mandatory = fields.Boolean(required=True)
    kind = fields.String(required=True)


class StandardSummary(StandardRef):
    level_detail = fields.String(required=True)
    status = fields.String(
        required=True, validate=validate.OneOf(STATUSES), metadata={"description": "only a standard in force binds"}
    )
    status_note = fields.String(allow_none=True)
    issued = fields.Date(allow_none=True)
    effective = fields.Date(allow_none=True)
    effective_note = fields.String(allow_none=True)
    superseded_by = fields.String(allow_none=True)
    applies_to = fields.List(fields.String(), required=True)


class StandardOut(StandardSummary):
    replaces = fields.List(fields.String(), required=True)
    body = fields.String(allow_none=True)
    scope = fields.String(allow_none=True)
    certification_only = fields.String(allow_none=True)
    notes = fields.String(allow_none=True)
    provenance = fields.Function(lambda s: {"sources": s.sources, "confidence": s.confidence}, required=True)
    requirements = fields.List(fields.Nested(RequirementOut), required=True)


class StandardList(Schema):
    items = fields.List(fields.Nested(StandardSummary), required=True)
    meta = fields.Nested(ListMeta, required=True)


class StandardQuery(StrictSchema):
    product = fields.String(validate=validate.OneOf(list(PRODUCTS)))
    level = fields.String(validate=validate.OneOf(LEVELS))
    kind = fields.String(validate=validate.OneOf(KINDS))
    mandatory = fields.Boolean()
    status = fields.String(validate=validate.OneOf(STATUSES))
    q = fields.String(validate=validate.Length(min=1, max=100))


class StageOut(Schema):
    key = fields.String(required=True)
    name_zh = fields.String(required=True)
    name_en = fields.String(required=True)
    repeatable = fields.Boolean(required=True)
    fields_ = fields.List(fields.Dict(), data_key="fields", attribute="fields", required=True)


class ProductOut(Schema):
    key = fields.String(required=True)
    name_zh = fields.String(required=True)
    name_en = fields.String(required=True)
    county_zh = fields.String(required=True)
    county_en = fields.String(required=True)
    lot_prefix = fields.String(required=True)
    forms = fields.List(fields.String(), required=True, metadata={"description": "form tags a batch may carry"})
    stages = fields.List(fields.Nested(StageOut), required=True)
    default_standards = fields.List(fields.Nested(StandardSummary), required=True)
    mandatory_standards = fields.List(fields.Nested(StandardSummary), required=True)


class ProductList(Schema):
    items = fields.List(fields.Nested(ProductOut), required=True)
    meta = fields.Nested(ListMeta, required=True)
