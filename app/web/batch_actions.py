"""The desk's actions on one batch: record a held lot's disposition, open a recall, find a lot by code.

Routes of the desk blueprint (app/web/views.py); the services are app/holds and app/recalls.
Each answers with a redirect to the batch page and a message in the page's language.
"""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from app import access
from app.batches.models import Batch
from app.db import db
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.holds import service as holds
from app.recalls import service as recalls
from app.security import control_character, normalize_newlines
from app.web import views as desk

# Not ``bp``: create_app registers a module's ``bp``, and this is the desk blueprint's own.
_routes = desk.bp

_REASONS = {
    "note": lambda: _("请填写处置说明：做了什么、由谁、在哪里。"),
    "evidence": lambda: _("销毁或无害化处理须填写证明材料（记录编号、文件）。"),
    "severity": lambda: _("召回须选择召回级别。"),
    "kind": lambda: _("请选择处置方式。"),
    "reason": lambda: _("请填写召回原因。"),
}


def _text(name: str) -> str:
    return normalize_newlines(request.form.get(name, "")).strip()


def _refused(exc: InvalidInput) -> str:
    fields = list((exc.errors or {}).get("json") or {})
    return "；".join(_REASONS[f]() if f in _REASONS else f for f in fields) or _("未保存，请检查填写的内容。")


@_routes.post("/desk/batches/<id:batch_id>/dispositions")
@desk.desk_required
def disposition(batch_id: int) -> BaseResponse:
    """Record what was done with a held lot (inspector, administrator)."""
    who = desk.desk_actor()
    assert who is not None
    target = url_for("web.batch_page", batch_id=batch_id, _anchor="hold")
    values = {name: _text(name) for name in ("kind", "note", "evidence", "severity")}
    if any(control_character(v) for v in values.values()):
        flash(_("说明不能包含控制字符。"), "error")
        return redirect(target)
    try:
        result = holds.record_disposition(
            who, batch_id, kind=values["kind"], note=values["note"],
            evidence=values["evidence"] or None, severity=values["severity"] or None,
        )  # fmt: skip
    except InvalidInput as exc:
        flash(_refused(exc), "error")
        return redirect(target)
    except Conflict as exc:
        flash(exc.message, "error")
        return redirect(target)
    except Forbidden:
        flash(_("只有检查员或管理员可以记录处置。"), "error")
        return redirect(target)
    flash(_("处置已记录，涉及 %(n)s 个批次。", n=len(result.lots)), "ok")
    return redirect(target)


@_routes.post("/desk/batches/<id:batch_id>/recall")
@desk.desk_required
def open_recall(batch_id: int) -> BaseResponse:
    """Open a recall of this lot and every lot made from it."""
    who = desk.desk_actor()
    assert who is not None
    target = url_for("web.batch_page", batch_id=batch_id, _anchor="recall")
    reason, severity = _text("reason"), _text("severity")
    if control_character(reason):
        flash(_("说明不能包含控制字符。"), "error")
        return redirect(target)
    try:
        recall = recalls.open_recall(who, batch_id=batch_id, reason=reason, severity=severity)
    except InvalidInput as exc:
        flash(_refused(exc), "error")
        return redirect(target)
    except (Conflict, Forbidden) as exc:
        flash(exc.message, "error")
        return redirect(target)
    flash(_("召回 #%(id)s 已发起，涉及 %(n)s 个批次。", id=recall.id, n=len(recall.items)), "ok")
    return redirect(target)


@_routes.get("/desk/find")
@desk.desk_required
def find() -> BaseResponse:
    """Open a batch by its lot code (as printed on the label)."""
    who = desk.desk_actor()
    assert who is not None
    code = request.args.get("lot", "").strip()
    batch = db.session.scalar(select(Batch).where(Batch.lot_code == code)) if code else None
    if batch is not None:
        try:
            access.get_readable_batch(who, batch.id)
        except NotFound:
            batch = None
    if batch is None:
        flash(_("没有批次号为 %(code)s 的批次。", code=code or "—"), "error")
        return redirect(url_for("web.batch_list"))
    return redirect(url_for("web.batch_page", batch_id=batch.id))
