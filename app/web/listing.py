"""The inspector's desk list, one page at a time, in a fixed number of queries however large the
database: the page's rows and their total in one statement, the verdicts shown from what is stored
(``verdicts.current_many``: a few queries for the whole page), and the counties a producer is in
(the filter's choices). Each row's open findings are counted in the page's statement.

The verdict filter reads the stored verdict, so the database pages it. A stored verdict whose
inputs changed some other way is shown as judged now (it may then differ from the filter);
``flask compliance refresh --stale`` stores it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from app import access
from app.auth import Actor
from app.batches.models import Batch
from app.catalog.products import PRODUCTS
from app.compliance import verdicts
from app.compliance.models import BatchVerdict, Finding
from app.compliance.rules import OVERALL_VERDICTS
from app.db import db
from app.orgs.models import Organization
from app.schemas import Page

PER_PAGE = 50


@dataclass(frozen=True)
class DeskList:
    page: Page  # items: {batch, producer, verdict, open_findings}
    counties: list[str]

    @property
    def pages(self) -> int:
        per_page = self.page.per_page or PER_PAGE
        return max(1, -(-self.page.total // per_page))


def desk_list(
    actor: Actor,
    *,
    product: str | None = None,
    county: str | None = None,
    verdict: str | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> DeskList:
    """A page of the batches ``actor`` may read, newest first, by product, the producer's county and
    the verdict; a page past the last is the last."""
    conditions: list[Any] = []
    readable = access.readable_batches(actor)
    if readable is not None:
        conditions.append(readable)
    if product in PRODUCTS:
        conditions.append(Batch.product_key == product)
    if county:
        conditions.append(Organization.county == county)
    if verdict in OVERALL_VERDICTS:
        conditions.append(Batch.id.in_(select(BatchVerdict.batch_id).where(BatchVerdict.verdict == verdict)))
    open_findings = (
        select(func.count(Finding.id))
        .where(Finding.batch_id == Batch.id, Finding.status != "closed")
        .correlate(Batch)
        .scalar_subquery()
    )
    query = (
        select(Batch, Organization, func.count().over().label("total"), open_findings.label("open_findings"))
        .join(Organization, Organization.id == Batch.producer_org_id)
        .where(*conditions)
        .order_by(Batch.created_at.desc(), Batch.id.desc())
    )
    page = max(1, page)
    rows = db.session.execute(query.limit(per_page).offset((page - 1) * per_page)).all()
    if rows:
        total = rows[0].total
    else:
        # Past the end (or nothing at all): count, and show the last page instead.
        total = db.session.scalar(
            select(func.count(Batch.id))
            .join(Organization, Organization.id == Batch.producer_org_id)
            .where(*conditions)
        ) or 0  # fmt: skip
        last = max(1, -(-total // per_page))
        if total and page > last:
            page = last
            rows = db.session.execute(query.limit(per_page).offset((page - 1) * per_page)).all()
    shown = verdicts.current_many([row.Batch for row in rows])
    items = [
        {
            "batch": row.Batch,
            "producer": row.Organization,
            "verdict": shown[row.Batch.id].verdict,
            "open_findings": row.open_findings,
        }
        for row in rows
    ]
    counties = sorted(
        c
        for c in db.session.scalars(
            select(Organization.county)
            .where(Organization.county.is_not(None), Organization.id.in_(select(Batch.producer_org_id)))
            .distinct()
        )
        if c
    )
    return DeskList(Page(items, total, page, per_page), counties)
