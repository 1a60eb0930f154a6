"""The office's API: the roster import and its template, the audit log, the dashboard's figures."""

from __future__ import annotations

from typing import Any

from flask import Response

from app import access
from app.api import Blueprint
from app.auth import actor, require_roles
from app.office import compare, coverage, dashboard, roster, service, standards
from app.office.models import StandardRecord
from app.office.schemas import (
    AuditArgs,
    AuditList,
    CompareArgs,
    CompareOut,
    CoverageArgs,
    CoverageOut,
    ImportOut,
    RosterUpload,
    StandardRecordArgs,
    StandardRecordChange,
    StandardRecordIn,
    StandardRecordList,
    StandardRecordOut,
    SummaryOut,
)
from app.schemas import Page

blp = Blueprint("office_api", __name__, url_prefix="/api/v1", description="The pilot office (admin)")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_response(data: bytes, filename: str) -> Response:
    response = Response(data, mimetype=XLSX)
    response.headers["Content-Disposition"] = f"attachment; filename={filename}"
    return response


@blp.route("/organizations/import", methods=["POST"])
@blp.arguments(RosterUpload, location="files")
@blp.response(201, ImportOut)
@blp.doc(security=[{"bearerAuth": []}])
@require_roles(access.OFFICE_ROLES)
def import_roster(files: dict[str, Any]) -> dict[str, Any]:
    """Import the pilot's roster (XLSX), all or nothing; a 422 names each bad row, column and reason."""
    upload = files["file"]
    return service.import_roster(actor(), upload.read(), upload.filename).as_dict()


@blp.route("/organizations/import/template.xlsx", methods=["GET"])
@blp.response(200, content_type=XLSX)
@blp.doc(security=[{"bearerAuth": []}])
@require_roles(access.OFFICE_ROLES)
def roster_template() -> Response:
    """The roster template to fill in."""
    return xlsx_response(roster.template_workbook(), "roster-template.xlsx")


@blp.route("/office/audit", methods=["GET"])
@blp.arguments(AuditArgs, location="query")
@blp.response(200, AuditList)
@blp.doc(security=[{"bearerAuth": []}])
@require_roles(access.OFFICE_ROLES)
def audit_log(args: dict[str, Any]) -> Page:
    """The audit log of onboarding: who did what, when; newest first."""
    return service.audit_log(**args)


@blp.route("/office/summary", methods=["GET"])
@blp.response(200, SummaryOut)
@blp.doc(security=[{"bearerAuth": []}])
@require_roles(access.OFFICE_ROLES)
def summary() -> dict[str, Any]:
    """The dashboard's figures: adoption, standards, compliance, certifications."""
    return dashboard.summary()


@blp.route("/standards/compare", methods=["GET"])
@blp.arguments(CompareArgs, location="query")
@blp.response(200, CompareOut)
def compare_standards(args: dict[str, Any]) -> dict[str, Any]:
    """For a product and a parameter, every standard's limit in one unit, the strictest marked (public)."""
    return compare.compare(args["product"], args["parameter"])


@blp.route("/standards/coverage", methods=["GET"])
@blp.arguments(CoverageArgs, location="query")
@blp.response(200, CoverageOut)
def standards_coverage(args: dict[str, Any]) -> dict[str, Any]:
    """For a product line, supply-chain stage x kind of standard, each cell with its standards; gaps listed (public)."""
    return coverage.coverage(args["product"])


@blp.route("/office/standards", methods=["POST"])
@blp.arguments(StandardRecordIn)
@blp.response(201, StandardRecordOut)
@blp.alt_response(409, description="A standard with this code is registered.")
@blp.doc(security=[{"bearerAuth": []}])
@require_roles(access.OFFICE_ROLES)
def register_standard(body: dict[str, Any]) -> StandardRecord:
    """Register a local, group or enterprise standard (or a national one proposed) at its stage, with its dates."""
    return standards.register(actor(), **body)


@blp.route("/office/standards", methods=["GET"])
@blp.arguments(StandardRecordArgs, location="query")
@blp.response(200, StandardRecordList)
@blp.doc(security=[{"bearerAuth": []}])
@require_roles(access.OFFICE_ROLES)
def list_standards(args: dict[str, Any]) -> Page:
    """The register of standards, by level and code (all of them: a few hundred at most)."""
    return Page.whole(standards.list_records(**args))


@blp.route("/office/standards/<id:record_id>", methods=["PATCH"])
@blp.arguments(StandardRecordChange)
@blp.response(200, StandardRecordOut)
@blp.doc(security=[{"bearerAuth": []}])
@require_roles(access.OFFICE_ROLES)
def change_standard(body: dict[str, Any], record_id: int) -> StandardRecord:
    """Move a registered standard to another stage (give that stage's date), or correct its details."""
    return standards.update(actor(), standards.get_record(record_id), **body)
