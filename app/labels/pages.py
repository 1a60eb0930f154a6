"""Labels in the web pages: label runs on the field app's batch page, and flags on the desk.

The field app starts a run (count and template), shows its progress as a bar (the page reloads
itself while the job runs; no script) and offers the files; a batch's flagged units show there
and on the desk's batch page, and the desk has a list of all alerts (``/desk/label-alerts``).
The two batch pages include ``labels/_field_runs.html`` and ``labels/_desk_flags.html``, which
call the template globals defined here.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from app.auth import current_actor
from app.clock import CHINA_TZ
from app.db import db
from app.errors import DomainError, NotFound
from app.field.views import _page_batch, field_actor, field_required, field_url
from app.i18n import N_
from app.jobs.models import JobStatus
from app.labels import flags, runs
from app.labels.models import FlagRule, LabelRun, UnitFlag
from app.web.views import _check_csrf, csrf_token, desk_actor, desk_required

bp = Blueprint("labels_pages", __name__, template_folder="templates")
bp.before_request(_check_csrf)
# The desk's layout, rendered from here, needs the session's form token.
bp.context_processor(lambda: {"csrf_token": csrf_token})

MIMETYPES = {"pdf": "application/pdf", "zpl": "text/plain", "tspl": "text/plain", "csv": "text/csv"}
RULE_NAMES = {
    FlagRule.burst: N_("24 小时内扫码过多"),
    FlagRule.travel: N_("两地扫码间隔过短"),
    FlagRule.pin_guessing: N_("验证码被反复猜测"),
    FlagRule.voided_scan: N_("已作废的码被扫描"),
}


@bp.app_template_global()
def label_runs_of(batch: Any) -> list[LabelRun]:
    """The batch's label runs, newest first (for the field app's batch page)."""
    return list(db.session.scalars(select(LabelRun).where(LabelRun.batch_id == batch.id).order_by(LabelRun.id.desc())))


@bp.app_template_global()
def label_flags_of(batch: Any) -> list[UnitFlag]:
    """The batch's flagged units, if the signed-in user may read the batch."""
    who = current_actor(optional=True)
    return [] if who is None else flags.flags_for(who, batch.id)


@bp.app_template_global()
def label_rule_name(rule: str) -> str:
    return _(RULE_NAMES[FlagRule(rule)])


@bp.app_template_global()
def label_run_running(run: LabelRun) -> bool:
    return run.job.status in (JobStatus.queued, JobStatus.running)


@bp.post("/field/batches/<id:batch_id>/label-runs")
@field_required
def field_start_run(batch_id: int) -> BaseResponse:
    """Start a label run from the field app's batch page."""
    batch = _page_batch(batch_id)
    try:
        count = int(request.form.get("count", ""))
    except ValueError:
        count = 0
    try:
        runs.create_run(field_actor(), batch.id, count, request.form.get("template", ""))
    except DomainError as exc:
        # Shown once on the batch page (a flash, not a query string anyone could craft a link with).
        flash(exc.message, "label_error")
    return redirect(field_url("field.batch_page", batch_id=batch.id) + "#labels")


@bp.get("/field/label-runs/<id:run_id>/<kind>")
@field_required
def field_run_file(run_id: int, kind: str) -> Response:
    """A run's labels (pdf, zpl, tspl) or its units CSV, for the organization that made it."""
    if kind not in MIMETYPES:
        raise NotFound(f"no file {kind!r}")
    run, content = runs.run_file(field_actor(), run_id, kind)
    response = Response(content, mimetype=MIMETYPES[kind])
    name = f"labels-{run.batch.lot_code}-run{run.id}.{kind}"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/desk/label-alerts")
@desk_required
def desk_alerts() -> str:
    """Every flagged unit, newest first: the desk's list of alerts."""
    who = desk_actor()
    assert who is not None
    return render_template("labels/desk_alerts.html", flags=flags.flags_for(who))


@bp.app_template_global()
def field_user_org_id() -> int | None:
    who = current_actor(optional=True)
    return who.org.id if who else None


@bp.app_template_filter("label_time")
def label_time(moment: dt.datetime) -> str:
    """A flag's time in China, to the minute."""
    return moment.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")
