"""The field app's 承诺达标合格证: issue one for a batch, print it, and record one received.

The routes join the field blueprint (app/field/views.py); the service is app/commitments. Every
message is in the page's language: the service's field errors are replaced by this page's own.
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, redirect, render_template, request
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.exceptions import NotFound as PageNotFound

from app.commitments import pdf
from app.commitments import service as commitments
from app.compliance.models import Inspection
from app.db import db
from app.errors import Forbidden, NotFound
from app.field import views as field_views
from app.field.service import FormRefused
from app.sync import handlers
from app.units import STORED_NAMES

# Not ``bp``: create_app registers a module's ``bp``, and this is the field blueprint's own.
_routes = field_views.bp


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
    values = {
        "contact": who.org.contact_phone or who.user.phone or "",
        "basis": "quality_control",
        "idempotency_key": field_views.new_key(),
    }
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        values = {k: request.form.get(k, "").strip() for k in (*handlers.CERTIFICATE_FIELDS, "idempotency_key")}
        try:
            field_views.submit("certificate", batch=batch.id)
        except FormRefused as refused:
            errors, status = refused.errors, 422
        else:
            return redirect(field_views.field_url("field.batch_page", batch_id=batch.id, certified=1))
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
        done = field_views.submit("certificate_receipt", certificate=certificate_id)
    except NotFound:
        raise PageNotFound() from None
    return redirect(field_views.field_url("field.batch_page", batch_id=done.result["batch"], received=1))
