"""The field app's 承诺达标合格证: issue one for a batch, print it, and record one received.

The routes join the field blueprint (app/field/views.py); the service is app/commitments. Every
message is in the page's language: the service's field errors are replaced by this page's own.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Response, current_app, redirect, render_template, request
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.exceptions import NotFound as PageNotFound

from app.commitments import pdf
from app.commitments import service as commitments
from app.compliance.models import Inspection
from app.db import db
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.field import views as field_views
from app.units import STORED_NAMES

# Not ``bp``: create_app registers a module's ``bp``, and this is the field blueprint's own.
_routes = field_views.bp
FIELDS = ("contact", "basis", "report_no", "quantity")


def _reason(name: str) -> str:
    """The page's own words for what the service refused in field ``name``."""
    return {
        "contact": _("请填写买方能联系到您的电话"),
        "basis": _("请选择承诺依据"),
        "report_no": _("委托检测须选择本批次已登记的检测报告"),
        "quantity": _("数量须大于0，且不超过本批次的数量"),
    }.get(name, _("请检查此项"))


def _labels(batch: Any) -> dict[str, str]:
    unit = batch.unit if field_views._english() else STORED_NAMES.get(batch.unit, batch.unit)
    return {
        "contact": _("联系电话"),
        "basis": _("承诺依据"),
        "report_no": _("检测报告"),
        "quantity": _("数量（%(unit)s）", unit=unit),
        "_form": "",
    }


@_routes.route("/batches/<id:batch_id>/certificate", methods=["GET", "POST"])
@field_views.field_required
def issue_certificate(batch_id: int) -> Any:
    """Issue the batch's 承诺达标合格证: contact, basis (and the report for 委托检测)."""
    batch = field_views._page_batch(batch_id)
    who = field_views.field_actor()
    if who.org.id != batch.custodian_org_id:
        raise Forbidden(_("只有批次的持有方可以开具合格证。"))
    existing = commitments.certificate_of(batch.id)
    if existing is not None:
        return redirect(field_views.field_url("field.batch_page", batch_id=batch.id))
    values = {"contact": who.org.contact_phone or who.user.phone or "", "basis": "quality_control"}
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        values = {k: request.form.get(k, "").strip() for k in FIELDS}
        quantity: Decimal | None = None
        if values["quantity"]:
            try:
                quantity = Decimal(values["quantity"])
            except InvalidOperation:
                errors["quantity"] = _reason("quantity")
        if not errors:
            try:
                commitments.issue_certificate(
                    who, batch.id, contact=values["contact"], basis=values["basis"],
                    report_no=values["report_no"] or None, quantity=quantity,
                )  # fmt: skip
            except InvalidInput as exc:
                fields = (exc.errors or {}).get("json") or {}
                errors = {name: _reason(name) for name in fields} or {"_form": _("未能开具，请检查填写的内容。")}
            except Conflict:
                errors = {"_form": _("此批次现在不能开具合格证：可能已开具过，或因检测不合格已暂停。")}
            else:
                return redirect(field_views.field_url("field.batch_page", batch_id=batch.id, certified=1))
        status = 422
    reports = list(
        db.session.scalars(
            select(Inspection.report_no).where(Inspection.batch_id == batch.id).order_by(Inspection.sampled_at)
        )
    )
    page = render_template(
        "field/certificate.html",
        batch=batch,
        values=values,
        errors=errors,
        labels=_labels(batch),
        bases=commitments.BASES,
        commitments=commitments.COMMITMENTS,
        reports=reports,
        quantity_text=field_views.quantity_text,
    )
    return page, status


@_routes.get("/certificates/<id:certificate_id>.pdf")
@field_views.field_required
def certificate_pdf(certificate_id: int) -> Response:
    """The certificate as a printable label (PDF)."""
    try:
        certificate = commitments.get_certificate(field_views.field_actor(), certificate_id)
    except NotFound:
        raise PageNotFound() from None
    body = pdf.render(certificate, current_app.config["PUBLIC_BASE_URL"])
    disposition = f'inline; filename="{certificate.number}.pdf"'
    return Response(body, mimetype="application/pdf", headers={"Content-Disposition": disposition})


@_routes.post("/certificates/<id:certificate_id>/receipt")
@field_views.field_required
def record_receipt(certificate_id: int) -> Any:
    """The holder confirms the certificate that came with the lot."""
    try:
        certificate = commitments.get_certificate(field_views.field_actor(), certificate_id)
        commitments.record_receipt(field_views.field_actor(), certificate_id)
    except NotFound:
        raise PageNotFound() from None
    except (Conflict, Forbidden):
        raise Forbidden(_("只有现在持有批次、且不是开具方的单位可以确认收到合格证（每个单位一次）。")) from None
    return redirect(field_views.field_url("field.batch_page", batch_id=certificate.batch_id, received=1))
