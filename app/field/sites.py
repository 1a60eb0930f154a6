"""Sites (plots, ponds, tea gardens, orchards, workshops, warehouses): GET/POST /api/v1/sites and their rules.

A site belongs to one organization. Anyone in the field app registers sites of their own
organization, and a cooperative also of its member households; coordinates are optional (the field
page offers the phone's location when the user allows it).
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate
from sqlalchemy import func, or_, select

from app import access
from app.api import Blueprint
from app.auth import Actor, actor, require_roles
from app.db import db
from app.errors import Forbidden, InvalidInput
from app.i18n import N_
from app.orgs import service as orgs
from app.orgs.models import Organization, OrgKind, Site
from app.schemas import Page, PageArgs, PageMeta, StrictSchema

# The kinds a site may be, with the name the field pages show.
SITE_KINDS: dict[str, str] = {
    "plot": N_("地块"),
    "pond": N_("藕塘/鱼塘"),
    "tea_garden": N_("茶园"),
    "orchard": N_("果园"),
    "garden": N_("花木园"),
    "plantation": N_("种植基地"),
    "workshop": N_("加工车间"),
    "factory": N_("工厂"),
    "warehouse": N_("仓库/冷库"),
}
_text: dict[str, Any] = {"validate": validate.Length(min=1, max=60)}


class SiteCreate(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    name_en = fields.String(validate=validate.Length(max=200))
    kind = fields.String(required=True, validate=validate.OneOf(list(SITE_KINDS)))
    county = fields.String(validate=validate.Length(min=1, max=40))
    township = fields.String(**_text)
    village = fields.String(**_text)
    latitude = fields.Float(validate=validate.Range(min=-90, max=90))
    longitude = fields.Float(validate=validate.Range(min=-180, max=180))
    organization = fields.String(
        validate=validate.Length(min=2, max=40),
        metadata={"description": "code of a member household, when a cooperative registers the site for it"},
    )


class SiteOut(Schema):
    id = fields.Integer(required=True)
    organization = fields.String(attribute="organization.code", required=True)
    name = fields.String(required=True)
    name_en = fields.String(required=True, allow_none=True)
    kind = fields.String(required=True)
    county = fields.String(required=True, allow_none=True)
    township = fields.String(required=True, allow_none=True)
    village = fields.String(required=True, allow_none=True)
    latitude = fields.Decimal(places=6, as_string=True, required=True, allow_none=True, metadata={"type": "string"})
    longitude = fields.Decimal(places=6, as_string=True, required=True, allow_none=True, metadata={"type": "string"})


class SiteList(Schema):
    items = fields.List(fields.Nested(SiteOut), required=True)
    meta = fields.Nested(PageMeta, required=True)


def owners_for(who: Actor) -> list[Organization]:
    """Whose sites ``who`` registers and lists: their organization and, for a cooperative, its households."""
    if who.org.kind != OrgKind.cooperative:
        return [who.org]
    members = db.session.scalars(
        select(Organization).where(Organization.cooperative_id == who.org.id).order_by(Organization.name)
    )
    return [who.org, *members]


def sites_query(who: Actor) -> Any:
    query = select(Site)
    if not access.reads_all(who):
        members = select(Organization.id).where(Organization.cooperative_id == who.org.id)
        query = query.where(or_(Site.organization_id == who.org.id, Site.organization_id.in_(members)))
    return query


def sites_page(who: Actor, page: int, per_page: int) -> Page:
    """One page of the sites the actor may see, oldest first."""
    query = sites_query(who)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.session.scalars(query.order_by(Site.id).limit(per_page).offset((page - 1) * per_page)).all()
    return Page(list(rows), total, page, per_page)


def create_site(who: Actor, *, organization: str | None = None, **values: Any) -> Site:
    """Register a site of the actor's organization, or (a cooperative) of one of its member households."""
    if who.role not in access.SITE_ROLES:
        raise Forbidden(f"The role '{who.role}' may not register sites.")
    owner = who.org
    if organization is not None and organization != who.org.code:
        named = db.session.scalar(select(Organization).where(Organization.code == organization))
        if named is None or not (access.oversees(who) or named.cooperative_id == who.org.id):
            raise InvalidInput.field("organization", "only a cooperative registers sites for its member households")
        owner = named
    if values.get("county") is None:
        values["county"] = owner.county
    return orgs.create_site(owner, **values)


blp = Blueprint("sites", __name__, url_prefix="/api/v1", description="Sites: plots, ponds, gardens, workshops")


@blp.route("/sites", methods=["POST"])
@blp.arguments(SiteCreate)
@blp.response(201, SiteOut)
@blp.doc(security=[{"bearerAuth": []}])
@require_roles(access.SITE_ROLES)
def post_site(body: dict[str, Any]) -> Site:
    """Register a site of your organization (a cooperative: or of a member household)."""
    return create_site(actor(), **body)


@blp.route("/sites", methods=["GET"])
@blp.arguments(PageArgs, location="query")
@blp.response(200, SiteList)
@blp.doc(security=[{"bearerAuth": []}])
@require_roles()
def list_sites(args: dict[str, Any]) -> Page:
    """Your organization's sites and, for a cooperative, its member households'; everyone's for oversight."""
    return sites_page(actor(), args["page"], args["per_page"])
