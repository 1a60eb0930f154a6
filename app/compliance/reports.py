"""Compliance as its readers get it: a batch's verdict view, its certifications, the PDF report,
the registry, and the inspector's desk list.

The API and the inspector's desk both serve these, so neither imports the other's views.
"""

from __future__ import annotations

from typing import Any

from flask import Response
from sqlalchemy import func, select

from app import access
from app.auth import Actor
from app.batches import service as batches
from app.batches.models import Batch
from app.catalog.products import PRODUCTS
from app.compliance import certifications, evaluation, findings, pdf, presenters, verdicts
from app.compliance.models import Finding
from app.compliance.rules import OVERALL_VERDICTS
from app.db import db
from app.orgs.models import Organization
from app.schemas import Page


def compliance_of(actor: Actor, batch_id: int) -> dict[str, Any]:
    """The compliance view of a batch the actor may read, from its stored verdict (a read writes nothing)."""
    batch = access.get_readable_batch(actor, batch_id)
    return presenters.compliance_view(batch, verdicts.current(batch).result, findings.findings_of(batch))


def compliance_pdf_response(actor: Actor, batch_id: int) -> Response:
    """The compliance report of a batch the actor may read, as an inline PDF that is never cached."""
    batch = access.get_readable_batch(actor, batch_id)
    verdict = verdicts.current(batch)
    body = pdf.render(
        batch,
        presenters.compliance_view(batch, verdict.result, findings.findings_of(batch)),
        batches.verify_batch(batch),
        certifications.batch_certifications(batch, reference=verdict.reference),
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


def desk_batches(
    actor: Actor, *, product: str | None = None, county: str | None = None, verdict: str | None = None
) -> tuple[list[dict[str, Any]], list[str]]:
    """The inspector's desk list: readable batches by product, the producer's county and the verdict.

    Returns the rows (batch, producer, verdict, open findings) and every county a producer is in.
    """
    query = (
        select(Batch, Organization)
        .join(Organization, Organization.id == Batch.producer_org_id)
        .order_by(Batch.created_at.desc(), Batch.id.desc())
    )
    readable = access.readable_batches(actor)
    if readable is not None:
        query = query.where(readable)
    if product in PRODUCTS:
        query = query.where(Batch.product_key == product)
    if county:
        query = query.where(Organization.county == county)
    counties = sorted(
        c
        for c in db.session.scalars(
            select(Organization.county)
            .join(Batch, Batch.producer_org_id == Organization.id)
            .where(Organization.county.is_not(None))
            .distinct()
        )
        if c
    )
    items: list[dict[str, Any]] = []
    # Each batch's stored verdict (its findings were opened when it was stored). Filtered here, not
    # in SQL: a verdict whose inputs changed since it was stored is shown as computed now.
    listed = db.session.execute(query).all()
    shown = verdicts.current_many([batch for batch, _producer in listed])
    for batch, producer in listed:
        judged = shown[batch.id].verdict
        if verdict in OVERALL_VERDICTS and judged != verdict:
            continue
        items.append({"batch": batch, "producer": producer, "verdict": judged})
    open_findings = dict(
        db.session.execute(
            select(Finding.batch_id, func.count()).where(Finding.status != "closed").group_by(Finding.batch_id)
        ).all()
    )
    for item in items:
        item["open_findings"] = open_findings.get(item["batch"].id, 0)
    return items, counties
