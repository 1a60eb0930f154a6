"""The inspector's desk: session login, batches by product, county and verdict, a batch's clause
table, chain check, findings and certifications, the compliance PDF, and a form to record an
inspection.

Pages only: every rule lives in the compliance and batch services, which the API calls too.
Forms carry a per-session CSRF token, checked on every POST.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hmac
import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Blueprint, Response, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from marshmallow import ValidationError
from werkzeug.exceptions import BadRequest
from werkzeug.wrappers import Response as BaseResponse

from app import access, clock
from app.account import service as account
from app.account.limits import TooManyAttempts, too_many
from app.auth import Actor, current_actor
from app.batches import service as batches
from app.batches.models import Batch
from app.catalog.products import PRODUCTS
from app.compliance import certifications, evaluation, findings, inspections, presenters, reports, rules, verdicts
from app.compliance.finding_text import clause_shown
from app.compliance.schemas import InspectionCreate
from app.errors import Conflict, DomainError, Forbidden, InvalidInput
from app.security import control_character, normalize_newlines
from app.web import desk_batch, listing, report_fields, result_rows

bp = Blueprint("web", __name__, template_folder="templates")

VERDICTS = ("pass", "fail", "incomplete")
BLANK_RESULT_ROWS = 3
# The most result rows a posted form is read for, unless the batch's own form offers more.
MAX_FORM_ROWS = 50
F = TypeVar("F", bound=Callable[..., Any])


# --- session, CSRF, access ---------------------------------------------------------------------


def csrf_token() -> str:
    token = session.get("csrf_token")
    if not token:
        token = session["csrf_token"] = secrets.token_urlsafe(32)
    return token


@bp.context_processor
def _inject_csrf() -> dict[str, Any]:
    return {"csrf_token": csrf_token}


@bp.before_request
def _check_csrf() -> None:
    """Every form POST must return the token of this session (a cross-site form cannot read it)."""
    if request.method != "POST":
        return
    expected = session.get("csrf_token")
    sent = request.form.get("csrf_token", "")
    if not expected or not hmac.compare_digest(sent, expected):
        raise BadRequest(_("表单已过期或来源不明，请刷新页面后重试。"))


def desk_actor() -> Actor | None:
    return current_actor(optional=True)


def desk_required(view: F) -> F:
    """Signed-in inspectors and admins only; others are sent to sign in, or refused."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        who = desk_actor()
        if who is None:
            return redirect(url_for("web.login", next=request.full_path.rstrip("?")))
        if who.role not in access.DESK_ROLES:
            raise Forbidden(_("检查台仅供检查员、检测中心和管理员使用。"))
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _safe_next(target: str | None, home: str) -> str:
    # Only a path on this site: never an absolute or scheme-relative URL (open redirect).
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return home


def home_of(role: str) -> str:
    """Where a role lands after signing in: the office's dashboard for admins, the desk for
    inspectors and the lab, the field app for the rest."""
    lang = request.args.get("lang", "")
    keep: dict[str, Any] = {"lang": lang} if lang in ("zh", "en") else {}
    if role in access.OFFICE_ROLES:
        return url_for("office.home", **keep)
    return url_for("web.batch_list", **keep) if role in access.DESK_ROLES else url_for("field.home", **keep)


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """Sign in: every role, each to its own home (a one-time password first to the password page).

    Limited per client address and per account (app/account/limits.py wraps this view)."""
    next_url = request.values.get("next")
    if request.method == "GET":
        return render_template("web/login.html", next=next_url, error=None, username="")
    username = request.form.get("username", "").strip()
    try:
        user = account.sign_in(username, request.form.get("password", ""))
    except TooManyAttempts as exc:
        return too_many(exc.message, exc.retry_after)
    if user is None:
        error = _("用户名或密码不正确。")
        return render_template("web/login.html", next=next_url, error=error, username=username), 401
    # A fresh session on sign-in: nothing from before (a planted session id or token) carries over.
    account.end_session(session.get("sid"))
    session.clear()
    session["sid"] = account.start_session(user)
    session["csrf_token"] = secrets.token_urlsafe(32)
    if user.must_change_password:
        return redirect(url_for("account.password", **_lang_kept()))
    return redirect(_safe_next(next_url, home_of(user.role)))


def _lang_kept() -> dict[str, Any]:
    lang = request.args.get("lang", "")
    return {"lang": lang} if lang in ("zh", "en") else {}


@bp.post("/logout")
def logout() -> BaseResponse:
    """Sign out: the server-side session ends, so the cookie signs no one in again."""
    account.end_session(session.get("sid"))
    session.clear()
    return redirect(url_for("web.login"))


# --- batches --------------------------------------------------------------------------------------


@bp.get("/desk/")
@desk_required
def desk_home() -> BaseResponse:
    return redirect(url_for("web.batch_list"))


@bp.get("/desk/batches")
@desk_required
def batch_list() -> str:
    """Batches by product, the producer's county and the verdict, a page at a time."""
    product = request.args.get("product") or None
    county = request.args.get("county") or None
    verdict = request.args.get("verdict") or None
    # Like the field app's list: a page number that is not one shows the first page.
    page = request.args.get("page", 1, type=int)
    who = desk_actor()
    assert who is not None
    listed = listing.desk_list(who, product=product, county=county, verdict=verdict, page=page)
    return render_template(
        "web/batches.html",
        listed=listed,
        items=listed.page.items,
        products=PRODUCTS,
        counties=listed.counties,
        verdicts=VERDICTS,
        selected={"product": product, "county": county, "verdict": verdict},
    )


@bp.get("/desk/batches/<id:batch_id>")
@desk_required
def batch_page(batch_id: int) -> str:
    """One batch: verdict, clause table, pre-harvest intervals, findings, certifications, chain check."""
    who = desk_actor()
    assert who is not None
    batch = access.get_readable_batch(who, batch_id)
    verdict = verdicts.current(batch)
    view = _desk_view(presenters.compliance_view(batch, verdict.result, findings.findings_of(batch)))
    return render_template(
        "web/batch.html",
        batch=batch,
        view=view,
        chain=batches.verify_batch(batch),
        certifications=_desk_certifications(certifications.batch_certifications(batch, reference=verdict.reference)),
        can_act=access.can_act_on_finding(who, batch),
        can_close=access.can_close_finding(who),
        product=PRODUCTS[batch.product_key],
        **desk_batch.extras(who, batch),
    )


def _desk_view(view: dict[str, Any]) -> dict[str, Any]:
    """The compliance view as the desk shows it: row notes in the page's language, report dates in China time."""
    for row in view["rows"]:
        row["note"] = presenters.note_text(row["note"])
        row["clause"] = clause_shown(row["clause"])  # a placeholder clause ("4.x 表") shows as "—"
    for inspection in view["inspections"]:
        for name in ("sampled_at", "tested_at"):
            with contextlib.suppress(OverflowError):  # at the very end of the calendar: shown as stored
                inspection[name] = inspection[name].astimezone(clock.CHINA_TZ)
    return view


def _desk_certifications(found: list[certifications.BatchCertification]) -> list[dict[str, Any]]:
    """Certifications for the desk page: each kind by its name in the page's language, never its key."""
    shown = []
    for bc in found:
        cert = presenters.certification_view(bc.certification, bc.status)
        cert["kind_key"] = cert["kind"]
        cert["kind"] = certifications.kind_name(cert["kind"])
        shown.append({"certification": cert, "status": bc.status, "judged_on": bc.judged_on, "basis": bc.basis})
    return shown


@bp.get("/desk/batches/<id:batch_id>/compliance.pdf")
@desk_required
def batch_pdf(batch_id: int) -> Response:
    """The compliance report PDF, for a signed-in inspector."""
    who = desk_actor()
    assert who is not None
    return reports.compliance_pdf_response(who, batch_id)


# --- findings ---------------------------------------------------------------------------------------


def _finding_step(finding_id: int, step: Callable[[Actor, int, str], Any], done: str) -> BaseResponse:
    who = desk_actor()
    assert who is not None
    finding = access.get_readable_finding(who, finding_id)
    # A textarea sends CRLF; a control character is refused here as the API's schemas refuse it.
    note = normalize_newlines(request.form.get("note", "")).strip()
    target = url_for("web.batch_page", batch_id=finding.batch_id, _anchor=f"finding-{finding.id}")
    if not note:
        flash(_("请填写说明。"), "error")
        return redirect(target)
    if control_character(note):
        flash(_("说明不能包含控制字符。"), "error")
        return redirect(target)
    try:
        step(who, finding_id, note)
    except (Forbidden, Conflict) as exc:
        flash(exc.message, "error")
        return redirect(target)
    flash(done, "ok")
    return redirect(target)


@bp.post("/desk/findings/<id:finding_id>/close")
@desk_required
def finding_close(finding_id: int) -> BaseResponse:
    """Verify the corrective action and close the finding."""
    return _finding_step(finding_id, findings.close_finding, _("问题已核查关闭。"))


@bp.post("/desk/findings/<id:finding_id>/actions")
@desk_required
def finding_action(finding_id: int) -> BaseResponse:
    """Record the custodian's corrective action."""
    return _finding_step(finding_id, findings.record_action, _("整改措施已记录。"))


# --- recording an inspection -------------------------------------------------------------------------


def _form_rows(batch: Batch) -> list[dict[str, str]]:
    """One row per parameter the batch is held to (with its unit), then a few blank rows."""
    limits, _standards = evaluation.bound_limits(batch, clock.china_date(clock.now()))
    english = str(get_locale()) == "en"
    rows: dict[str, dict[str, str]] = {}
    for limit in limits:
        if limit.parameter in rows or not rules.judgeable(limit):
            continue
        rows[limit.parameter] = {
            "parameter": limit.parameter,
            "label": ((limit.parameter_en if english else None) or limit.parameter_zh or limit.parameter),
            "unit": limit.unit or "",
        }
    return [*rows.values(), *({"parameter": "", "label": "", "unit": ""} for _n in range(BLANK_RESULT_ROWS))]


def _local_moment(text: str) -> str | None:
    """A datetime-local field (China time) as an ISO 8601 moment with its offset."""
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=clock.CHINA_TZ)
    return moment.isoformat()


def _row_count(text: str, most: int = MAX_FORM_ROWS) -> int:
    """How many result rows the form says it has, read safely: a whole number from 0 to ``most``."""
    try:
        count = int(text.strip() or 0)
    except ValueError:  # not a number, or one too long to read
        return 0
    return max(0, min(count, most))


def _read_form(
    form: Any, most_rows: int = MAX_FORM_ROWS
) -> tuple[dict[str, Any], list[dict[str, str]], list[int], dict[str, str]]:
    """The posted form as the API's body, the rows as typed, and which form row each result came from."""
    errors: dict[str, str] = {}
    body: dict[str, Any] = {"report_no": form.get("report_no", ""), "lab": form.get("lab", "")}
    # Checked here too, so a blank one is named in the page's language beside the rows' own errors.
    if not body["report_no"].strip():
        errors["report_no"] = _("请填写报告编号。")
    if not body["lab"].strip() and not form.get("lab_org_id", "").strip():  # a lab chosen above names itself
        errors["lab"] = _("请填写检测机构。")
    for name in ("sampled_at", "tested_at"):
        moment = _local_moment(form.get(name, ""))
        if moment is None:
            errors[name] = _("请填写日期和时间。")
        body[name] = moment
    typed: list[dict[str, str]] = []
    index_map: list[int] = []
    results = []
    count = _row_count(form.get("row_count", ""), most_rows)
    for i in range(count):
        row = {
            key: form.get(f"results-{i}-{key}", "").strip()
            for key in ("parameter", "label", "value", "unit", "lod", "method")
        }
        row["not_detected"] = "1" if form.get(f"results-{i}-not_detected") else ""
        typed.append(row)
        # A row with no figure at all was not tested: it is left out, not refused (one with a figure
        # but no parameter picked is refused by the row checks, before the service sees it).
        if not (row["value"] or row["lod"] or row["not_detected"]):
            continue
        result = result_rows.for_service(row)
        results.append(result)
        index_map.append(i)
    body["results"] = results
    return body, typed, index_map, errors


def _flatten(errors: Any, index_map: list[int], prefix: str = "") -> dict[str, str]:
    """Nested API errors ({"results": {"1": {"unit": [...]}}}) as form field names (results-4-unit)."""
    flat: dict[str, str] = {}
    if isinstance(errors, list):
        flat[prefix or "_form"] = "; ".join(str(e) for e in errors)
        return flat
    for key, value in errors.items():
        if prefix == "results" and str(key).isdigit():
            name = f"results-{index_map[int(key)]}" if int(key) < len(index_map) else "results"
        elif prefix.startswith("results-") and isinstance(value, list):
            # What the service still refuses on a row: its reason, under the page's own words.
            flat[f"{prefix}-{key}"] = _("未被接受：%(reason)s", reason="; ".join(str(e) for e in value))
            continue
        else:
            name = f"{prefix}-{key}" if prefix else str(key)
        flat.update(_flatten(value, index_map, name))
    return flat


@bp.route("/desk/batches/<id:batch_id>/inspections/new", methods=["GET", "POST"])
@desk_required
def inspection_form(batch_id: int) -> Any:
    """Record a test report: every row is checked, and nothing is stored unless all are right."""
    who = desk_actor()
    assert who is not None
    batch = access.get_readable_batch(who, batch_id)
    form_rows = _form_rows(batch)
    choices = result_rows.parameter_choices(batch, {r["parameter"] for r in form_rows if r["parameter"]})
    english = str(get_locale()) == "en"
    picker = {"groups": result_rows.grouped(choices, english), "units": result_rows.SUGGESTED_UNITS}
    if request.method == "GET":
        return render_template(
            "web/inspection_form.html", batch=batch, rows=form_rows, values={}, errors={}, can_record=True,
            picker=picker, summary=[], **report_fields.choices(batch),
        )  # fmt: skip
    # Never fewer rows than this batch's own form offers, so no row typed into it is dropped.
    body, typed, index_map, errors = _read_form(request.form, max(MAX_FORM_ROWS, len(form_rows)))
    report_fields.read(request.form, body, errors, _)
    values = {k: request.form.get(k, "") for k in ("report_no", "lab", "sampled_at", "tested_at")}
    values.update(report_fields.values_of(request.form))
    if not body["results"]:
        errors["results"] = _("至少填写一项检测结果。")
    errors.update(result_rows.check_rows(typed, index_map, choices))
    if not errors:
        try:
            loaded = InspectionCreate().load(body)
            inspections.record_inspection(who, batch.id, **loaded)
        except ValidationError as exc:
            errors = _flatten(exc.normalized_messages(), index_map)
        except InvalidInput as exc:
            errors = _flatten((exc.errors or {}).get("json", {"_form": [exc.message]}), index_map)
        except DomainError as exc:
            errors = {"_form": exc.message}
    if errors:
        # 422 also rolls the request back: nothing of a refused report is kept.
        page = render_template(
            "web/inspection_form.html", batch=batch, rows=typed, values=values, errors=errors, can_record=True,
            picker=picker, summary=result_rows.summary(errors, typed, choices, english),
            **report_fields.choices(batch),
        )  # fmt: skip
        return page, 422
    flash(_("检测报告已记录。"), "ok")
    return redirect(url_for("web.batch_page", batch_id=batch.id))
