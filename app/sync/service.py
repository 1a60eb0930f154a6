"""Store a client's write once under its client-made id, and the queued writes of POST /api/v1/sync.

``run_once`` is the one door: the field pages (a plain form post carries its idempotency_key), the
outbox and the API all go through it. The same id again returns the stored result ("duplicate")
and stores nothing; the same id for a different write is refused. Each write runs in a savepoint
of its own, so a refused one leaves nothing behind and the next item of a sync still runs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.auth import Actor
from app.db import db, utcnow
from app.errors import Conflict, DomainError
from app.field import clock, service
from app.sync.handlers import HANDLERS
from app.sync.models import ClientWrite

MAX_ITEMS = 500
# Form fields that are the transport's, not the write's: left out of the digest that tells a
# retry (same write) from a different write under a reused id.
_TRANSPORT = frozenset({"csrf_token", "idempotency_key", "device_time"})


@dataclass
class Outcome:
    status: str  # "created" or "duplicate"
    result: dict[str, Any]
    message: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


class KeyReused(Conflict):
    """The client id was already used for a different write."""


def digest(kind: str, target: dict[str, Any], body: dict[str, str]) -> str:
    kept = {k: v for k, v in body.items() if k not in _TRANSPORT}
    text = json.dumps([kind, target, kept], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _stored(who: Actor, client_id: str) -> ClientWrite | None:
    return db.session.scalar(
        select(ClientWrite).where(ClientWrite.user_id == who.user.id, ClientWrite.client_id == client_id)
    )


def _retry(row: ClientWrite, kind: str, wanted: str) -> Outcome:
    if row.kind != kind or row.digest != wanted:
        raise KeyReused(_("这个编号已用于另一条记录，请重新填写。"))
    return Outcome("duplicate", dict(row.result))


def run_once(
    who: Actor,
    client_id: str | None,
    kind: str,
    target: dict[str, Any],
    body: dict[str, str],
    device_time: dt.datetime | None = None,
) -> Outcome:
    """Run the write ``kind`` once for ``client_id``; raise the handler's refusal with nothing stored."""
    handler = HANDLERS[kind]
    client_id = (client_id or "").strip()[:100] or None
    body = dict(body)
    if client_id is None:  # a client that sends no id gets no retry protection, as the API's events
        return _run(handler, who, target, body)
    body["idempotency_key"] = client_id  # the stage's own Idempotency-Key on its batch
    wanted = digest(kind, target, body)
    row = _stored(who, client_id)
    if row is not None:
        return _retry(row, kind, wanted)
    savepoint = db.session.begin_nested()
    try:
        outcome = _run(handler, who, target, body)
    except BaseException:
        savepoint.rollback()
        raise
    try:
        db.session.add(
            ClientWrite(
                user_id=who.user.id, client_id=client_id, kind=kind, digest=wanted, result=outcome.result,
                device_time=device_time, received_at=utcnow(),
            )
        )  # fmt: skip
        db.session.flush()
    except IntegrityError:
        # Another request stored this id between our look and our write: its result stands.
        savepoint.rollback()
        row = _stored(who, client_id)
        if row is None:
            raise
        return _retry(row, kind, wanted)
    savepoint.commit()
    return outcome


def _run(handler: Any, who: Actor, target: dict[str, Any], body: dict[str, str]) -> Outcome:
    done = handler(who, target, body)
    return Outcome("created", done.result, done.message, done.extra)


# --- POST /api/v1/sync -----------------------------------------------------------------------------


def _error(code: int, message: str, errors: dict[str, str] | None = None) -> dict[str, Any]:
    """The project's error shape (app/errors.py), for one item; ``errors`` names the form fields."""
    body: dict[str, Any] = {"code": code, "status": HTTPStatus(code).phrase, "message": message}
    if errors:
        body["errors"] = {"body": {name: [reason] for name, reason in errors.items()}}
    return body


def _reasons(errors: dict[str, str]) -> str:
    return "；".join(f"{k}：{v}" if k not in ("_form", "") else v for k, v in errors.items())


def sync_item(who: Actor, item: dict[str, Any]) -> dict[str, Any]:
    """One queued write: created, duplicate, or rejected with its errors (nothing of it stored)."""
    target: dict[str, Any] = {
        k: item[k] for k in ("batch", "stage", "seq", "field", "certificate", "product") if k in item
    }
    body = {str(k): str(v) for k, v in (item.get("body") or {}).items()}
    answer: dict[str, Any] = {"client_id": item["client_id"], "kind": item["kind"]}
    try:
        outcome = run_once(who, item["client_id"], item["kind"], target, body, item.get("device_time"))
    except service.NeedsConfirmation as warning:
        names = "、".join(
            _("%(name)s（施药日期 %(day)s，还差 %(n)s 天）", name=b.use.name,
              day=clock.local(b.use.applied_at).strftime("%Y-%m-%d"), n=b.days_short)
            for b in warning.breaches
        )  # fmt: skip
        message = _("这次采收在农药安全间隔期内：%(names)s。请在记录页面确认后再保存。", names=names)
        return answer | {"status": "rejected", "error": _error(409, message, {"confirm_interval": message})}
    except service.FormRefused as refused:
        return answer | {"status": "rejected", "error": _error(422, _reasons(refused.errors), refused.errors)}
    except DomainError as exc:
        return answer | {"status": "rejected", "error": _error(exc.status_code, _domain_message(exc))}
    answer |= {"status": outcome.status, "result": outcome.result | outcome.extra}
    if outcome.message:
        answer["message"] = outcome.message
    return answer


def _domain_message(exc: DomainError) -> str:
    """A refusal's message in the caller's language: the field handlers' own, or a plain one per status."""
    if isinstance(exc, KeyReused) or (exc.message and not exc.message.isascii()):
        return exc.message
    return {
        403: _("您的账号不能做这项操作。"),
        404: _("没有找到这个批次或记录，或您无权查看。"),
        409: _("该批次现在不能记录：已转交待接收、已召回或已用完。"),
    }.get(exc.status_code, _("未能保存，请检查后重试。"))


def sync(who: Actor, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each queued write on its own, in the order sent: one refused costs none of the others."""
    return [sync_item(who, item) for item in items]
