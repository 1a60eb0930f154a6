"""A job as the API shows it: what it is and how far it got."""

from __future__ import annotations

from marshmallow import Schema, fields


class JobOut(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": "queued, running, done or failed"})
    done = fields.Integer(required=True)
    total = fields.Integer(required=True)
    attempts = fields.Integer(required=True)
    error = fields.String(allow_none=True)
    created_at = fields.DateTime(required=True)
    finished_at = fields.DateTime(allow_none=True)
    label_run = fields.Function(
        lambda j: j.params.get("run_id"),
        allow_none=True,
        metadata={"description": "the label run a label_run job makes"},
    )
