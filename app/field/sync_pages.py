"""POST /field/sync: the outbox's door to POST /api/v1/sync for a signed-in page.

The API takes a bearer token; a field page has its session and CSRF token instead, so the outbox
(static/outbox.js) posts the same writes here, form-encoded with the page's csrf_token, and gets the
same answer: one result per item, in the page's language.
"""

from __future__ import annotations

import json
from typing import Any

from flask import jsonify, request
from flask_babel import gettext as _
from marshmallow import ValidationError

from app.auth import current_actor
from app.errors import error_body
from app.field.pages import FIELD_ROLES, bp
from app.sync import service
from app.sync.schemas import SyncIn


@bp.post("/sync")
def sync_outbox() -> Any:
    """The outbox's queued writes (``writes``: the JSON list /api/v1/sync takes), each on its own."""
    who = current_actor(optional=True)
    if who is None:
        return jsonify(error_body(401, _("登录已过期，请重新登录后再上传。"))), 401
    if who.role not in FIELD_ROLES:
        return jsonify(error_body(403, _("田间记录仅供农户、合作社和经营主体使用。"))), 403
    try:
        body = SyncIn().load({"writes": json.loads(request.form.get("writes", ""))})
    except (ValueError, ValidationError) as exc:
        errors = exc.normalized_messages() if isinstance(exc, ValidationError) else {"writes": ["not JSON"]}
        return jsonify(error_body(422, _("上传的内容有误。"), {"form": errors})), 422
    return jsonify({"results": service.sync(who, body["writes"])})
