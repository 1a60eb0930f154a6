"""HTTP for the 承诺达标合格证: issue for a batch, read, print (PDF), record its receipt."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app

from app.api import Blueprint
from app.auth import actor, require_roles
from app.commitments import pdf, service
from app.commitments.models import CommitmentCertificate
from app.commitments.schemas import CertificateCreate, CertificateOut, ReceiptOut

blp = Blueprint(
    "commitments", __name__, url_prefix="/api/v1", description="承诺达标合格证: the producer's certificate for a batch"
)
SECURITY: list[dict[str, list[str]]] = [{"bearerAuth": []}]


@blp.route("/batches/<id:batch_id>/commitment-certificates", methods=["POST"])
@blp.arguments(CertificateCreate)
@blp.response(201, CertificateOut)
@blp.doc(security=SECURITY)
@require_roles()
def issue_certificate(body: dict[str, Any], batch_id: int) -> CommitmentCertificate:
    """Issue the batch's 承诺达标合格证 (its custodian); one per batch, chained in its record."""
    return service.issue_certificate(
        actor(),
        batch_id,
        contact=body["contact"],
        basis=body["basis"],
        report_no=body.get("report_no"),
        quantity=body.get("quantity"),
        origin=body.get("origin"),
    )


@blp.route("/commitment-certificates/<id:certificate_id>", methods=["GET"])
@blp.response(200, CertificateOut)
@blp.doc(security=SECURITY)
@require_roles()
def get_certificate(certificate_id: int) -> CommitmentCertificate:
    """One certificate (whoever may read its batch)."""
    return service.get_certificate(actor(), certificate_id)


@blp.route("/commitment-certificates/<id:certificate_id>.pdf", methods=["GET"])
@blp.response(
    200,
    {"type": "string", "format": "binary"},
    content_type="application/pdf",
    description="The certificate as a 100 × 70 mm label: its facts, commitments, basis and QR code.",
)
@blp.doc(security=SECURITY)
@require_roles()
def certificate_pdf(certificate_id: int) -> Response:
    """The certificate as a printable 100 × 70 mm label with its QR code."""
    certificate = service.get_certificate(actor(), certificate_id)
    body = pdf.render(certificate, current_app.config["PUBLIC_BASE_URL"])
    return Response(
        body,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{certificate.number}.pdf"'},
    )


@blp.route("/commitment-certificates/<id:certificate_id>/receipts", methods=["POST"])
@blp.response(201, ReceiptOut)
@blp.doc(security=SECURITY)
@require_roles()
def record_receipt(certificate_id: int) -> Any:
    """The organization now holding the batch records the certificate it received with it."""
    return service.record_receipt(actor(), certificate_id)
