"""The certification registry as the desk lists it: each certification with its holder, its
status today (China time) and whether it runs out soon, in two queries however many there are.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from app.compliance import timing
from app.compliance.models import Certification
from app.db import db
from app.orgs.models import Organization

# A certification that runs out within this many days is marked on the desk (续展 takes time).
EXPIRING_DAYS = 60


def registry_rows(today: dt.date, *, kind: str | None = None, product: str | None = None) -> list[dict[str, Any]]:
    """Every certification (newest first), each with ``status`` on ``today`` and ``expiring``:
    valid today and valid_to within EXPIRING_DAYS days."""
    query = (
        select(Certification, Organization)
        .join(Organization, Organization.id == Certification.holder_org_id)
        .order_by(Certification.valid_to.is_(None), Certification.valid_to, Certification.id)
    )
    if kind:
        query = query.where(Certification.kind == kind)
    if product:
        query = query.where(Certification.product_key == product)
    rows = []
    for cert, holder in db.session.execute(query).all():
        status = timing.certification_status(cert.valid_from, cert.valid_to, today)
        days_left = (cert.valid_to - today).days if cert.valid_to is not None else None
        rows.append(
            {
                "certification": cert,
                "holder": holder,
                "status": status,
                "days_left": days_left,
                "expiring": status == "valid" and days_left is not None and days_left <= EXPIRING_DAYS,
            }
        )
    return rows
