"""The pilot office's pages (admin): the dashboard, its drill-downs and downloads, onboarding, the audit log.

Server-rendered, Chinese first. Pages call the office's services, which the API calls too; the
desk's session login and its per-session CSRF token serve here as well.
"""

from __future__ import annotations

import datetime as dt
import hmac
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.exceptions import BadRequest
from werkzeug.wrappers import Response as BaseResponse

from app import access
from app.auth import Actor, current_actor
from app.catalog.models import Requirement
from app.catalog.products import PRODUCTS
from app.clock import CHINA_TZ
from app.db import db
from app.errors import Conflict, Forbidden, InvalidInput
from app.field.sites import SITE_KINDS
from app.office import charts, compare, coverage, dashboard, drill, report, roster, service, sites, standards
from app.office.export import table_csv, table_xlsx
from app.office.models import LEVELS, STAGES
from app.office.views import xlsx_response
from app.orgs.models import Organization, Role
from app.web.views import csrf_token

bp = Blueprint(
    "office",
    __name__,
    url_prefix="/office",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)
F = TypeVar("F", bound=Callable[..., Any])
ECHARTS = "echarts-6.1.0/echarts.common.min.js"


@bp.context_processor
def _inject() -> dict[str, Any]:
    return {
        "csrf_token": csrf_token,
        "kind_labels": roster.KIND_LABELS,
        "counties": roster.COUNTIES,
        "products": PRODUCTS,
        "roles": [r.value for r in Role],
        "actions": service.ACTIONS,
        "china_time": lambda moment: moment.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M"),
    }


@bp.before_request
def _check_csrf() -> None:
    """Every form POST returns this session's token (a cross-site form cannot read it)."""
    if request.method != "POST":
        return
    expected = session.get("csrf_token")
    if not expected or not hmac.compare_digest(request.form.get("csrf_token", ""), expected):
        raise BadRequest(_("表单已过期或来源不明，请刷新页面后重试。"))


def office_required(view: F) -> F:
    """Signed-in administrators only; others are sent to sign in, or refused."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        who = current_actor(optional=True)
        if who is None:
            return redirect(url_for("web.login", next=request.full_path.rstrip("?")))
        if not access.is_office(who):
            raise Forbidden(_("试点办页面仅供管理员使用。"))
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _actor() -> Actor:
    who = current_actor()
    assert who is not None
    return who


# --- the dashboard --------------------------------------------------------------------------------


@bp.get("")
@bp.get("/")
@office_required
def home() -> str:
    """The dashboard: adoption, standards, compliance and certifications against the plan's targets."""
    figures = dashboard.summary()
    return render_template("office/dashboard.html", figures=figures, charts=charts.charts(figures), echarts=ECHARTS)


def _drill_args(name: str) -> tuple[str | None, str | None]:
    if name not in drill.DRILLS:
        abort(404)
    return request.args.get("param") or None, request.args.get("key") or None


@bp.get("/drill/<name>")
@office_required
def drill_page(name: str) -> str:
    """The rows behind one bar of a chart (or the whole chart)."""
    param, key = _drill_args(name)
    table = drill.drill(name, param, key)
    return render_template("office/drill.html", table=table, name=name, param=param, key=key)


@bp.get("/drill/<name>.<any(csv, xlsx):fmt>")
@office_required
def drill_download(name: str, fmt: str) -> Response:
    """The same rows as CSV or XLSX."""
    param, key = _drill_args(name)
    table = drill.drill(name, param, key)
    filename = f"office-{name}.{fmt}"
    if fmt == "xlsx":
        return xlsx_response(table_xlsx(table, dashboard.summary()["as_of"]), filename)
    response = Response(table_csv(table), mimetype="text/csv")
    response.headers["Content-Disposition"] = f"attachment; filename={filename}"
    return response


@bp.get("/report.pdf")
@office_required
def report_pdf() -> Response:
    """The dashboard's figures as the acceptance review's PDF (创建资料汇编)."""
    response = Response(report.render(), mimetype="application/pdf")
    response.headers["Content-Disposition"] = "attachment; filename=office-report.pdf"
    return response


# --- organizations --------------------------------------------------------------------------------


def _org_list(problems: list[roster.RowError] | None = None, status: int = 200) -> tuple[str, int]:
    q = request.args.get("q") or None
    county = request.args.get("county") or None
    kind = request.args.get("kind") or None
    items = service.list_organizations(q=q, county=county, kind=kind)
    html = render_template(
        "office/organizations.html",
        items=items,
        problems=problems,
        selected={"q": q or "", "county": county, "kind": kind},
    )
    return html, status


@bp.get("/organizations")
@office_required
def organizations() -> tuple[str, int]:
    """Organizations, the roster import and the template."""
    return _org_list()


@bp.get("/organizations/template.xlsx")
@office_required
def roster_template() -> Response:
    return xlsx_response(roster.template_workbook(), "roster-template.xlsx")


@bp.post("/organizations/import")
@office_required
def import_roster() -> Any:
    """Import a roster workbook; on any bad row nothing is stored and every bad row is listed."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _org_list([roster.RowError(0, _("文件"), _("请选择要上传的 XLSX 文件"))], 422)
    try:
        result = service.import_roster(_actor(), upload.read(), upload.filename)
    except roster.RosterInvalid as exc:
        return _org_list(exc.problems, 422)
    flash(
        _(
            "导入完成：共 %(rows)s 行，新增 %(created)s 家，更新 %(updated)s 家，未变 %(unchanged)s 家。",
            rows=result.rows,
            created=len(result.created),
            updated=len(result.updated),
            unchanged=result.unchanged,
        ),
        "ok",
    )
    return redirect(url_for("office.organizations"))


def _org_form(org: Organization | None) -> dict[str, Any]:
    if org is None:
        return {key: "" for key, _title in roster.COLUMNS} | {"products": [], "production_licence": ""}
    return {
        "code": org.code,
        "name": org.name,
        "kind": org.kind,
        "county": org.county or "",
        "credit_code": org.credit_code or "",
        "masked_id": org.masked_id or "",
        "contact_phone": org.contact_phone or "",
        "cooperative": org.cooperative.code if org.cooperative else "",
        "production_licence": org.production_licence or "",
        "products": service.enrolled_products(org),
    }


def _org_page(
    org: Organization | None,
    form: dict[str, Any],
    errors: dict[str, Any],
    status: int = 200,
    *,
    site: Any | None = None,
    site_form: dict[str, Any] | None = None,
    site_errors: dict[str, Any] | None = None,
) -> tuple[str, int]:
    """The organization's form and, once it exists, its sites with a form to add or edit one."""
    html = render_template(
        "office/organization.html",
        org=org,
        form=form,
        errors=errors,
        sites=sites.sites_of(org) if org is not None else [],
        site=site,
        site_form=site_form or _site_form(site),
        site_errors=site_errors or {},
        site_kinds=SITE_KINDS,
    )
    return html, status


def _site_form(site: Any | None) -> dict[str, str]:
    if site is None:
        return {key: "" for key in sites.FIELDS}
    return {key: "" if getattr(site, key) is None else str(getattr(site, key)) for key in sites.FIELDS}


@bp.route("/organizations/<id:org_id>/sites", methods=["POST"])
@bp.route("/organizations/<id:org_id>/sites/<id:site_id>", methods=["GET", "POST"])
@office_required
def site_form(org_id: int, site_id: int | None = None) -> Any:
    """Add a site to an organization, or edit one (kind, county, township, village, coordinates)."""
    org = service.get_organization(org_id)
    site = sites.get_site(org, site_id) if site_id is not None else None
    if request.method == "GET":
        return _org_page(org, _org_form(org), {}, site=site)
    form = {key: request.form.get(key, "") for key in sites.FIELDS}
    try:
        saved = sites.save_site(_actor(), org, form, site)
    except InvalidInput as exc:
        errors = (exc.errors or {}).get("form", {})
        return _org_page(org, _org_form(org), {}, 422, site=site, site_form=form, site_errors=errors)
    flash(_("已保存场所 %(name)s。", name=saved.name), "ok")
    return redirect(url_for("office.organization_form", org_id=org.id) + "#sites")


@bp.route("/organizations/new", methods=["GET", "POST"])
@bp.route("/organizations/<id:org_id>", methods=["GET", "POST"])
@office_required
def organization_form(org_id: int | None = None) -> Any:
    """Create or edit an organization (credit code checked; a household's masked ID; its cooperative)."""
    org = service.get_organization(org_id) if org_id is not None else None
    if request.method == "GET":
        return _org_page(org, _org_form(org), {})
    form: dict[str, Any] = {key: request.form.get(key, "") for key, _title in roster.COLUMNS}
    form["products"] = request.form.getlist("products")
    form["production_licence"] = request.form.get("production_licence", "")
    try:
        saved = service.save_organization(_actor(), form, org)
    except InvalidInput as exc:
        errors = (exc.errors or {}).get("form", {})
        return _org_page(org, form, errors, 422)
    flash(_("已保存主体 %(code)s。", code=saved.code), "ok")
    return redirect(url_for("office.organizations"))


# --- users ----------------------------------------------------------------------------------------


@bp.get("/users")
@office_required
def users() -> str:
    q = request.args.get("q") or None
    return render_template("office/users.html", items=service.list_users(q=q), q=q or "")


@bp.route("/users/new", methods=["GET", "POST"])
@office_required
def user_new() -> Any:
    """Create a user; the one-time password is shown once."""
    form = {k: request.values.get(k, "") for k in ("username", "org", "role", "display_name")}
    if request.method == "GET":
        return render_template("office/user_new.html", form=form, errors={})
    try:
        user, password = service.create_user(
            _actor(), username=form["username"].strip(), org_code=form["org"].strip(), role=form["role"],
            display_name=form["display_name"].strip(),
        )  # fmt: skip
    except InvalidInput as exc:
        errors = (exc.errors or {}).get("form") or (exc.errors or {}).get("json") or {"username": [exc.message]}
        return render_template("office/user_new.html", form=form, errors=errors), 422
    return render_template("office/secret.html", user=user, secret=password, what=_("一次性密码"))


@bp.post("/users/<id:user_id>/reset")
@office_required
def user_reset(user_id: int) -> str:
    user = service.get_user(user_id)
    password = service.reset_password(_actor(), user)
    return render_template("office/secret.html", user=user, secret=password, what=_("新的一次性密码"))


@bp.post("/users/<id:user_id>/<any(deactivate, reactivate):change>")
@office_required
def user_active(user_id: int, change: str) -> BaseResponse:
    user = service.get_user(user_id)
    try:
        service.set_active(_actor(), user, change == "reactivate")
    except InvalidInput as exc:
        flash(exc.message, "error")
        return redirect(url_for("office.users"))
    done = _("已恢复用户 %(name)s。") if change == "reactivate" else _("已停用用户 %(name)s。")
    flash(done % {"name": user.username}, "ok")
    return redirect(url_for("office.users"))


@bp.post("/users/<id:user_id>/token")
@office_required
def user_token(user_id: int) -> Any:
    user = service.get_user(user_id)
    try:
        _token, secret = service.issue_token(_actor(), user)
    except InvalidInput as exc:
        flash(exc.message, "error")
        return redirect(url_for("office.users"))
    return render_template("office/secret.html", user=user, secret=secret, what=_("接口令牌（一年有效）"))


# --- standards: compare and coverage -------------------------------------------------------------


def _parameters() -> list[tuple[str, str]]:
    """Every parameter the catalog limits, as (key, Chinese name), for the comparison's picker."""
    found: dict[str, str] = {}
    for key, name in db.session.execute(select(Requirement.parameter_key, Requirement.parameter_zh)).all():
        found.setdefault(key, name)
    return sorted(found.items(), key=lambda kv: kv[0])


@bp.get("/standards/compare")
@office_required
def compare_page() -> str:
    """比较分析: a product and a parameter, every standard's limit side by side, the strictest marked."""
    product = request.args.get("product") or "mahua"
    parameter = request.args.get("parameter") or "lead"
    try:
        result = compare.compare(product, parameter)
    except InvalidInput:
        abort(404)
    return render_template("office/compare.html", result=result, parameters=_parameters())


@bp.get("/standards/coverage")
@office_required
def coverage_page() -> str:
    """The product line's standard system: stage x kind, each cell's standards, gaps shown."""
    product = request.args.get("product") or "loquat"
    try:
        result = coverage.coverage(product)
    except InvalidInput:
        abort(404)
    return render_template("office/coverage.html", result=result)


# --- standards: the register (stage and dates) -----------------------------------------------------


_RECORD_FIELDS = ("code", "title_zh", "level", "stage", "filing_no", "notes", *standards.DATE_FIELDS.values())


def _record_form(record: Any | None) -> dict[str, Any]:
    if record is None:
        return {key: "" for key in _RECORD_FIELDS} | {"products": [], "stage": "proposed"}
    form = {key: getattr(record, key) or "" for key in _RECORD_FIELDS}
    return form | {"products": list(record.products)}


def _parse_record_form() -> tuple[dict[str, Any], dict[str, Any], dict[str, list[str]]]:
    """The form as typed (to show again) and as values for the service; a date that is not one is named."""
    form: dict[str, Any] = {key: request.form.get(key, "") for key in _RECORD_FIELDS}
    form["products"] = request.form.getlist("products")
    values: dict[str, Any] = dict(form)
    errors: dict[str, list[str]] = {}
    for key in standards.DATE_FIELDS.values():
        raw = form[key].strip()
        try:
            values[key] = dt.date.fromisoformat(raw) if raw else None
        except ValueError:
            errors[key] = [_("日期格式应为 年-月-日，如 2026-03-01")]
    if form["level"] not in LEVELS:
        errors["level"] = [_("请选择层级")]
    if form["stage"] not in STAGES:
        errors["stage"] = [_("请选择阶段")]
    return form, values, errors


def _record_page(record: Any | None, form: dict[str, Any], errors: dict[str, list[str]], status: int = 200) -> Any:
    html = render_template(
        "office/standards.html",
        items=standards.list_records(),
        record=record,
        form=form,
        errors=errors,
        stage_labels=standards.STAGE_LABELS,
        level_labels=standards.LEVEL_LABELS,
    )
    return html, status


@bp.route("/standards", methods=["GET", "POST"])
@bp.route("/standards/<id:record_id>", methods=["GET", "POST"])
@office_required
def standards_page(record_id: int | None = None) -> Any:
    """The register of standards: the list, a new one, or one to edit (its stage and dates)."""
    record = standards.get_record(record_id) if record_id is not None else None
    if request.method == "GET":
        return _record_page(record, _record_form(record), {})
    form, values, errors = _parse_record_form()
    if record is not None:
        form["code"], form["level"] = record.code, record.level
        errors.pop("level", None)
    if errors:
        return _record_page(record, form, errors, 422)
    try:
        if record is None:
            saved = standards.register(_actor(), **values)
        else:
            changes = {k: v for k, v in values.items() if k not in ("code", "level")}
            saved = standards.update(_actor(), record, **changes)
    except (InvalidInput, Conflict) as exc:
        return _record_page(record, form, (exc.errors or {}).get("json", {}), 422)
    flash(_("已保存标准 %(code)s。", code=saved.code), "ok")
    return redirect(url_for("office.standards_page"))


# --- the audit log --------------------------------------------------------------------------------


@bp.get("/audit")
@office_required
def audit() -> str:
    try:
        page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        page = 1
    action = request.args.get("action") or None
    if action not in service.ACTIONS:
        action = None
    return render_template(
        "office/audit.html", log=service.audit_log(page=min(page, 100_000), action=action), action=action
    )
