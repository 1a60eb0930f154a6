"""Compliance as its readers get it: a batch's verdict view, its certifications, the PDF report, the registry.

The API and the inspector's desk both serve these, so neither imports the other's views.
"""

from __future__ import annotations

from typing import Any

from flask import Response

from app import access
from app.auth import Actor
from app.batches import service as batches
from app.compliance import certifications, evaluation, findings, pdf, presenters
from app.compliance.evaluation import evaluate_batch
from app.schemas import Page


def compliance_of(actor: Actor, batch_id: int) -> dict[str, Any]:
    """The compliance view of a batch the actor may read; findings are brought up to date first."""
    batch = access.get_readable_batch(actor, batch_id)
    evaluation = evaluate_batch(batch)
    findings.sync_findings(evaluation)
    return presenters.compliance_view(evaluation, findings.findings_of(batch))


def compliance_pdf_response(actor: Actor, batch_id: int) -> Response:
    """The compliance report of a batch the actor may read, as an inline PDF that is never cached."""
    batch = access.get_readable_batch(actor, batch_id)
    evaluation = evaluate_batch(batch)
    findings.sync_findings(evaluation)
    body = pdf.render(
        batch,
        presenters.compliance_view(evaluation, findings.findings_of(batch)),
        batches.verify_batch(batch),
        certifications.batch_certifications(batch),
    )
    response = Response(body, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="compliance-{batch.lot_code}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def batch_certifications_of(actor: Actor, batch_id: int) -> dict[str, Any]:
    """Certifications covering a readable batch, each judged on the batch's own date."""
    batch = access.get_readable_batch(actor, batch_id)
    found = certifications.batch_certifications(batch)
    judged_on, basis = evaluation.reference_date(batch)
    items = [presenters.certification_view(bc.certification, bc.status) for bc in found]
    return {"batch_id": batch.id, "judged_on": judged_on, "basis": basis, "items": items, "meta": {"total": len(items)}}


def certification_registry(holder: str | None = None, product: str | None = None) -> Page:
    """The certification registry, by holder (organization code) and product: open to every user."""
    return Page.whole([presenters.certification_view(c) for c in certifications.list_certifications(holder, product)])
