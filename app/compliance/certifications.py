"""Certifications (三品一标): the registry and the ones that hold for a batch on its date."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext
from sqlalchemy import select

from app import access
from app.auth import Actor
from app.batches.models import Batch
from app.catalog.products import PRODUCTS
from app.compliance import timing
from app.compliance.evaluation import reference_date
from app.compliance.models import Certification
from app.db import db, utcnow
from app.errors import Conflict, InvalidInput
from app.i18n import N_
from app.orgs.models import Organization, Site

# The kinds a certification may be, each with its name (a Chinese source string; English in the catalog).
CERTIFICATION_KINDS: dict[str, str] = {
    "green_food": N_("绿色食品"),
    "organic": N_("有机产品"),
    "geographical_indication": N_("农产品地理标志"),
    "compliance_certificate": N_("承诺达标合格证"),
}


def kind_name(kind: str) -> str:
    """A certification kind's name in the current language; an unknown kind as it is."""
    name = CERTIFICATION_KINDS.get(kind)
    return gettext(name) if name is not None else kind


def create_certification(
    actor: Actor,
    *,
    kind: str,
    number: str,
    issuer: str,
    holder: str,
    product: str,
    valid_from: dt.date,
    valid_to: dt.date | None = None,
    site: int | None = None,
    scope: str | None = None,
    now: dt.datetime | None = None,
) -> Certification:
    now = now or utcnow()
    access.require_certifier(actor)
    if kind not in CERTIFICATION_KINDS:
        raise InvalidInput.field("kind", f"must be one of {', '.join(CERTIFICATION_KINDS)}")
    if product not in PRODUCTS:
        raise InvalidInput.field("product", f"must be one of {', '.join(PRODUCTS)}")
    number = number.strip()
    if not number:
        raise InvalidInput.field("number", "must not be blank")
    holder_org = db.session.scalar(select(Organization).where(Organization.code == holder))
    if holder_org is None:
        raise InvalidInput.field("holder", f"no organization with code {holder!r}")
    site_row = None
    if site is not None:
        site_row = db.session.get(Site, site)
        if site_row is None or site_row.organization_id != holder_org.id:
            raise InvalidInput.field("site", f"no site {site} belongs to {holder}")
    if valid_to is not None and valid_to < valid_from:
        raise InvalidInput.field("valid_to", "cannot be before valid_from")
    if db.session.scalar(select(Certification.id).where(Certification.number == number)):
        raise Conflict(f"number: certification {number!r} exists", {"json": {"number": ["already registered"]}})
    cert = Certification(
        kind=kind,
        number=number,
        issuer=issuer.strip(),
        holder_org_id=holder_org.id,
        product_key=product,
        site_id=site_row.id if site_row else None,
        scope=scope,
        valid_from=valid_from,
        valid_to=valid_to,
        created_at=now,
    )
    db.session.add(cert)
    db.session.flush()
    return cert


def list_certifications(holder: str | None = None, product: str | None = None) -> list[Certification]:
    """The registry (open to every signed-in user), by holder's organization code and product."""
    query = select(Certification).order_by(Certification.valid_from.desc(), Certification.id)
    if holder is not None:
        query = query.join(Organization, Organization.id == Certification.holder_org_id).where(
            Organization.code == holder
        )
    if product is not None:
        query = query.where(Certification.product_key == product)
    return list(db.session.scalars(query))


@dataclass(frozen=True)
class BatchCertification:
    certification: Certification
    status: str
    judged_on: dt.date
    basis: str


def batch_certifications(
    batch: Batch, journey: list[Any] | None = None, reference: tuple[dt.date, str] | None = None
) -> list[BatchCertification]:
    """Certifications of the producer or custodian covering the batch's product (and site, when scoped).

    Each is judged on the batch's own date (harvest, else production, else creation): an expired
    one is listed as expired, never as valid. A caller holding that date (a verdict's
    ``reference``) passes it instead of the journey.
    """
    on, basis = reference if reference is not None else reference_date(batch, journey)
    holders = {batch.producer_org_id, batch.custodian_org_id}
    certs = db.session.scalars(
        select(Certification)
        .where(Certification.holder_org_id.in_(holders), Certification.product_key == batch.product_key)
        .order_by(Certification.kind, Certification.valid_from, Certification.id)
    )
    out = []
    for cert in certs:
        if cert.site_id is not None and cert.site_id != batch.site_id:
            continue
        out.append(BatchCertification(cert, timing.certification_status(cert.valid_from, cert.valid_to, on), on, basis))
    return out
