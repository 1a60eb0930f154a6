"""The desk's lists beyond batches: the findings of every readable batch, and the certification
registry (三品一标: who holds what, until when, and what runs out within 60 days).

Routes of the desk blueprint (app/web/views.py); read-only pages.
"""

from __future__ import annotations

from typing import Any

from flask import render_template, request

from app import clock
from app.catalog.products import PRODUCTS
from app.compliance import findings, presenters
from app.compliance.certifications import CERTIFICATION_KINDS
from app.compliance.finding_text import local_time
from app.compliance.findings import FINDING_STATUSES
from app.compliance.registry import EXPIRING_DAYS, registry_rows
from app.web import views as desk

# Not ``bp``: create_app registers a module's ``bp``, and this is the desk blueprint's own.
_routes = desk.bp


@_routes.context_processor
def _finding_helpers() -> dict[str, Any]:
    """What web/_finding.html needs: a finding kind's name and a moment in China time."""
    return {
        "finding_kind": lambda kind: presenters.name_in(presenters.FINDING_KIND_NAMES, kind),
        "local_time": local_time,
    }


@_routes.get("/desk/findings")
@desk.desk_required
def finding_list() -> str:
    """Findings of the batches the inspector may read, newest first, by status."""
    who = desk.desk_actor()
    assert who is not None
    status = request.args.get("status") or None
    if status not in FINDING_STATUSES:
        status = None
    listed = findings.list_findings(who, status=status)
    return render_template("web/findings.html", items=listed.items, status=status, statuses=FINDING_STATUSES)


@_routes.get("/desk/certifications")
@desk.desk_required
def certification_list() -> str:
    """The certification registry, by kind and product, each certification's status today."""
    kind = request.args.get("kind") or None
    product = request.args.get("product") or None
    kind = kind if kind in CERTIFICATION_KINDS else None
    product = product if product in PRODUCTS else None
    today = clock.china_date(clock.now())
    rows: list[dict[str, Any]] = registry_rows(today, kind=kind, product=product)
    return render_template(
        "web/certifications.html",
        rows=rows,
        today=today,
        expiring_days=EXPIRING_DAYS,
        kinds=CERTIFICATION_KINDS,
        products=PRODUCTS,
        selected={"kind": kind, "product": product},
    )
