"""Compliance over HTTP: standards declared and registered, inspections, verdicts, findings,
certifications and the compliance report PDF."""

from __future__ import annotations

from typing import Any

from flask import Response

from app import access
from app.api import Blueprint
from app.auth import actor, require_roles
from app.batches.models import BatchStandard
from app.catalog.models import Standard
from app.catalog.schemas import StandardOut
from app.compliance import certifications, findings, inspections, presenters, reports, reviews, standards
from app.compliance.schemas import (
    BatchCertificationList,
    CertificationCreate,
    CertificationList,
    CertificationOut,
    CertificationQuery,
    ComplianceOut,
    DeclaredStandardOut,
    FindingList,
    FindingNote,
    FindingOut,
    FindingQuery,
    InspectionCreate,
    InspectionOut,
    ReviewCreate,
    ReviewOut,
    StandardCreate,
    StandardDeclare,
)
from app.schemas import Page

blp = Blueprint(
    "compliance",
    __name__,
    url_prefix="/api/v1",
    description="Standards compliance: inspections, clause-by-clause verdicts, findings and certifications",
)

_BEARER: list[dict[str, list[str]]] = [{"bearerAuth": []}]


@blp.route("/batches/<id:batch_id>/standards", methods=["POST"])
@blp.arguments(StandardDeclare)
@blp.response(201, DeclaredStandardOut)
@blp.alt_response(409, description="The batch is already bound to this standard.")
@blp.doc(security=_BEARER)
@require_roles()
def declare_standard(body: dict[str, Any], batch_id: int) -> BatchStandard:
    """Declare a further standard (GB/T, NY/T, DB42, T/, Q/) the batch is held to, or its 执行标准."""
    return standards.declare_standard(
        actor(), batch_id, body["standard"], executive=body["executive"], filing_no=body["filing_no"]
    )


@blp.route("/batches/<id:batch_id>/reviews", methods=["POST"])
@blp.arguments(ReviewCreate)
@blp.response(201, ReviewOut)
@blp.doc(security=_BEARER)
@require_roles(access.REVIEWING_ROLES)
def record_review(body: dict[str, Any], batch_id: int) -> dict[str, Any]:
    """An inspector decides a detected result with no limit on record (待判定): pass or fail, and why."""
    return reviews.record_review(actor(), batch_id, **body)


@blp.route("/standards", methods=["POST"])
@blp.arguments(StandardCreate)
@blp.response(201, StandardOut)
@blp.alt_response(409, description="A standard with this code exists.")
@blp.doc(security=_BEARER)
@require_roles()
def register_standard(body: dict[str, Any]) -> Standard:
    """Register the caller's own enterprise standard; a limit looser than a mandatory one is refused."""
    return standards.register_standard(actor(), **body)


@blp.route("/batches/<id:batch_id>/inspections", methods=["POST"])
@blp.arguments(InspectionCreate)
@blp.response(201, InspectionOut)
@blp.alt_response(409, description="This report number is already recorded for the batch.")
@blp.doc(security=_BEARER)
@require_roles(access.INSPECTING_ROLES)
def record_inspection(body: dict[str, Any], batch_id: int) -> dict[str, Any]:
    """Record a test report: it enters the batch's chain, is judged, and opens findings."""
    return presenters.inspection_view(*inspections.record_inspection(actor(), batch_id, **body))


@blp.route("/batches/<id:batch_id>/compliance")
@blp.response(200, ComplianceOut)
@blp.doc(security=_BEARER)
@require_roles()
def get_compliance(batch_id: int) -> dict[str, Any]:
    """The verdict (pass, fail, incomplete) and one row per requirement, clause by clause."""
    return reports.compliance_of(actor(), batch_id)


@blp.route("/batches/<id:batch_id>/compliance.pdf")
@blp.response(
    200,
    {"type": "string", "format": "binary"},
    content_type="application/pdf",
    description="The compliance report: batch header, clause table, verdict, findings and chain check.",
)
@blp.doc(security=_BEARER)
@require_roles()
def get_compliance_pdf(batch_id: int) -> Response:
    """The compliance report as a PDF, in Chinese."""
    return reports.compliance_pdf_response(actor(), batch_id)


@blp.route("/findings")
@blp.arguments(FindingQuery, location="query")
@blp.response(200, FindingList)
@blp.doc(security=_BEARER)
@require_roles()
def list_findings(args: dict[str, Any]) -> Page:
    """Findings by status and batch, on the batches the caller may read."""
    return findings.list_findings(actor(), args.get("status"), args.get("batch"))


@blp.route("/findings/<id:finding_id>/actions", methods=["POST"])
@blp.arguments(FindingNote)
@blp.response(201, FindingOut)
@blp.alt_response(409, description="The finding is closed.")
@blp.doc(security=_BEARER)
@require_roles()
def record_action(body: dict[str, Any], finding_id: int) -> dict[str, Any]:
    """The batch's custodian records its corrective action."""
    return presenters.finding_view(findings.record_action(actor(), finding_id, body["note"]))


@blp.route("/findings/<id:finding_id>/close", methods=["POST"])
@blp.arguments(FindingNote)
@blp.response(200, FindingOut)
@blp.alt_response(409, description="Already closed, or no corrective action recorded yet.")
@blp.doc(security=_BEARER)
@require_roles(access.FINDING_CLOSING_ROLES)
def close_finding(body: dict[str, Any], finding_id: int) -> dict[str, Any]:
    """An inspector verifies the corrective action and closes the finding."""
    return presenters.finding_view(findings.close_finding(actor(), finding_id, body["note"]))


@blp.route("/certifications", methods=["POST"])
@blp.arguments(CertificationCreate)
@blp.response(201, CertificationOut)
@blp.alt_response(409, description="A certification with this number is registered.")
@blp.doc(security=_BEARER)
@require_roles(access.CERTIFYING_ROLES)
def create_certification(body: dict[str, Any]) -> dict[str, Any]:
    """Register a green food, organic, GI or compliance certificate."""
    return presenters.certification_view(certifications.create_certification(actor(), **body))


@blp.route("/certifications", methods=["GET"])
@blp.arguments(CertificationQuery, location="query")
@blp.response(200, CertificationList)
@blp.doc(security=_BEARER)
@require_roles()
def list_certifications(args: dict[str, Any]) -> Page:
    """The certification registry, by holder (organization code) and product."""
    return reports.certification_registry(args.get("holder"), args.get("product"))


@blp.route("/batches/<id:batch_id>/certifications")
@blp.response(200, BatchCertificationList)
@blp.doc(security=_BEARER)
@require_roles()
def batch_certifications(batch_id: int) -> dict[str, Any]:
    """Certifications covering the batch, each valid, expired or not yet valid on the batch's date."""
    return reports.batch_certifications_of(actor(), batch_id)
