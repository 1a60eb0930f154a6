"""Request and response shapes of the office's API: the roster import, the audit log, the summary."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

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
