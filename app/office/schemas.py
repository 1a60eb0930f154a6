"""Request and response shapes of the office's API: the roster import, the audit log, the summary, the
register of standards."""

from __future__ import annotations

import datetime as dt

from marshmallow import Schema, fields, validate

from app.catalog.products import PRODUCTS
from app.office.models import LEVELS, STAGES
from app.office.service import ACTIONS
from app.schemas import ListMeta, PageArgs, StrictSchema


class RosterUpload(StrictSchema):
    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary", "description": "the roster, XLSX"})


class ImportOut(Schema):
    rows = fields.Integer(required=True, metadata={"description": "rows read (blank rows skipped)"})
    created = fields.Integer(required=True)
    updated = fields.Integer(required=True)
    unchanged = fields.Integer(required=True)
    sha256 = fields.String(required=True, metadata={"description": "SHA-256 of the file, as the audit log keeps it"})


class AuditArgs(PageArgs):
    action = fields.String(validate=validate.OneOf(list(ACTIONS)))


class AuditEntryOut(Schema):
    id = fields.Integer(required=True)
    at = fields.DateTime(required=True)
    actor = fields.String(required=True, attribute="actor_username")
    action = fields.String(required=True)
    action_zh = fields.Function(lambda e: ACTIONS.get(e.action, e.action), required=True)
    target = fields.String(required=True)
    details = fields.Dict(required=True)


class AuditList(Schema):
    items = fields.List(fields.Nested(AuditEntryOut), required=True)
    meta = fields.Nested(ListMeta, required=True)


class SummaryArgs(StrictSchema):
    pass


class SummaryOut(Schema):
    as_of = fields.String(required=True, metadata={"description": "the data's cut-off, China time"})
    adoption = fields.Dict(required=True)
    standards = fields.Dict(required=True)
    compliance = fields.Dict(required=True)
    certifications = fields.Dict(required=True)
    scans = fields.Dict(required=True, metadata={"description": "consumer scans by product line and week"})


class CompareArgs(StrictSchema):
    product = fields.String(required=True, validate=validate.OneOf(list(PRODUCTS)))
    # Lead is limited for every product line (GB 2762), so it is the comparison one starts from.
    parameter = fields.String(load_default="lead", validate=validate.Length(min=1, max=60))


class CompareRow(Schema):
    standard = fields.String(required=True)
    title_zh = fields.String(required=True)
    level = fields.String(required=True)
    mandatory = fields.Boolean(required=True)
    voluntary = fields.Boolean(required=True, metadata={"description": "a group or enterprise standard (T/, Q/)"})
    clause = fields.String(allow_none=True)
    parameter_zh = fields.String(required=True)
    scope = fields.String(allow_none=True, metadata={"description": "which form of the product the clause covers"})
    comparator = fields.String(required=True)
    limit = fields.String(allow_none=True, metadata={"description": "as the standard writes it"})
    unit_as_written = fields.String(allow_none=True)
    limit_in_unit = fields.String(
        allow_none=True, metadata={"description": "in the comparison's unit; null when not one number"}
    )
    provisional = fields.Boolean(required=True)
    strictest = fields.Boolean(required=True)


class StricterRow(Schema):
    standard = fields.String(required=True)
    clause = fields.String(allow_none=True)
    limit_in_unit = fields.String(allow_none=True)


class CompareOut(Schema):
    product = fields.String(required=True)
    parameter = fields.String(required=True)
    unit = fields.String(allow_none=True)
    rows = fields.List(fields.Nested(CompareRow), required=True)
    stricter_than_national = fields.List(fields.Nested(StricterRow), required=True)


class CoverageArgs(StrictSchema):
    product = fields.String(required=True, validate=validate.OneOf(list(PRODUCTS)))


class CoverageOut(Schema):
    product = fields.String(required=True)
    kinds = fields.List(fields.Dict(), required=True)
    rows = fields.List(
        fields.Dict(), required=True, metadata={"description": "per stage: each kind's cell with its standards"}
    )
    gaps = fields.List(fields.Dict(), required=True, metadata={"description": "the empty cells, {stage, kind}"})
    covered = fields.Integer(required=True)
    cells = fields.Integer(required=True)


# --- the register of standards ---------------------------------------------------------------------

_DAY = validate.Range(min=dt.date(1949, 10, 1), max=dt.date(2100, 12, 31))


class _StageDates(StrictSchema):
    proposed_on = fields.Date(allow_none=True, metadata={"description": "立项"}, validate=_DAY)
    consultation_on = fields.Date(allow_none=True, metadata={"description": "征求意见"}, validate=_DAY)
    published_on = fields.Date(allow_none=True, metadata={"description": "发布"}, validate=_DAY)
    filed_on = fields.Date(allow_none=True, metadata={"description": "备案"}, validate=_DAY)


class StandardRecordIn(_StageDates):
    code = fields.String(
        required=True, validate=validate.Length(min=2, max=60), metadata={"example": "DB4212/T 0001-2026"}
    )
    # "title", not "title_zh": a registration is not a catalog standard (StandardRef is that shape).
    title_zh = fields.String(data_key="title", required=True, validate=validate.Length(min=1, max=300))
    level = fields.String(required=True, validate=validate.OneOf(LEVELS))
    products = fields.List(
        fields.String(validate=validate.OneOf(list(PRODUCTS))), load_default=list, validate=validate.Length(max=6)
    )
    stage = fields.String(
        required=True,
        validate=validate.OneOf(STAGES),
        metadata={"description": "立项 proposed, 征求意见 consultation, 发布 published, 备案 filed"},
    )
    filing_no = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=60))
    notes = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=2000))


class StandardRecordChange(_StageDates):
    title_zh = fields.String(data_key="title", validate=validate.Length(min=1, max=300))
    products = fields.List(fields.String(validate=validate.OneOf(list(PRODUCTS))), validate=validate.Length(max=6))
    # The stage is always named (the one it stays at, or the one it moves to), so a change is never empty.
    stage = fields.String(required=True, validate=validate.OneOf(STAGES))
    filing_no = fields.String(allow_none=True, validate=validate.Length(max=60))
    notes = fields.String(allow_none=True, validate=validate.Length(max=2000))


class StandardRecordArgs(StrictSchema):
    level = fields.String(validate=validate.OneOf(LEVELS))
    stage = fields.String(validate=validate.OneOf(STAGES))


class StandardRecordOut(Schema):
    proposed_on = fields.Date(required=True, allow_none=True)
    consultation_on = fields.Date(required=True, allow_none=True)
    published_on = fields.Date(required=True, allow_none=True)
    filed_on = fields.Date(required=True, allow_none=True)
    id = fields.Integer(required=True)
    code = fields.String(required=True)
    title = fields.String(required=True, attribute="title_zh", metadata={"description": "in Chinese"})
    level = fields.String(required=True)
    products = fields.List(fields.String(), required=True)
    stage = fields.String(required=True)
    filing_no = fields.String(required=True, allow_none=True)
    notes = fields.String(required=True, allow_none=True)
    updated_at = fields.DateTime(required=True)


class StandardRecordList(Schema):
    items = fields.List(fields.Nested(StandardRecordOut), required=True)
    meta = fields.Nested(ListMeta, required=True)
