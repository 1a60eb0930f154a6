"""An organization's sites (plots, ponds, tea gardens, workshops, warehouses) as the office enters them.

The office creates and edits the sites of any organization from its form, with the county, the
township (乡镇) and the village (村); each change is audited. The kinds and their names are the
field app's (app.field.sites), the records app.orgs'.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from app.auth import Actor
from app.db import db
from app.errors import InvalidInput, NotFound
from app.field.sites import SITE_KINDS
from app.office import service
from app.office.roster import COUNTIES
from app.orgs import service as orgs
from app.orgs.models import Organization, Site
from app.schemas import MAX_ID

FIELDS = ("name", "kind", "county", "township", "village", "latitude", "longitude")


def sites_of(org: Organization) -> list[Site]:
    return list(db.session.scalars(select(Site).where(Site.organization_id == org.id).order_by(Site.id)))


def get_site(org: Organization, site_id: int) -> Site:
    site = db.session.get(Site, site_id) if 0 < site_id <= MAX_ID else None
    if site is None or site.organization_id != org.id:
        raise NotFound(_("该主体没有编号为 %(id)s 的场所", id=site_id))
    return site


def _coordinate(raw: str, low: int, high: int) -> tuple[Decimal | None, str | None]:
    if not raw:
        return None, None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        return None, _("应为数字，如 29.532")
    if not value.is_finite() or not low <= value <= high:
        return None, _("应在 %(low)s 与 %(high)s 之间", low=low, high=high)
    return value.quantize(Decimal("0.000001")), None


def _values(org: Organization, form: dict[str, str]) -> dict[str, Any]:
    """The form's values as stored, or a 422 naming each bad field."""
    text = {key: (form.get(key) or "").strip() for key in FIELDS}
    errors: dict[str, list[str]] = {}
    if not text["name"]:
        errors["name"] = [_("请填写场所名称")]
    elif len(text["name"]) > 200:
        errors["name"] = [_("不超过 %(n)d 个字", n=200)]
    if text["kind"] not in SITE_KINDS:
        errors["kind"] = [_("请选择场所类型")]
    county = text["county"] or org.county or ""
    if county and county not in COUNTIES:
        errors["county"] = [_("请从列表中选择县（市、区）")]
    for key in ("township", "village"):
        if len(text[key]) > 60:
            errors[key] = [_("不超过 %(n)d 个字", n=60)]
    latitude, reason = _coordinate(text["latitude"], -90, 90)
    if reason:
        errors["latitude"] = [reason]
    longitude, reason = _coordinate(text["longitude"], -180, 180)
    if reason:
        errors["longitude"] = [reason]
    if errors:
        key = next(iter(errors))
        raise InvalidInput(f"{key}: {errors[key][0]}", {"form": errors})
    return {
        "name": text["name"],
        "kind": text["kind"],
        "county": county or None,
        "township": text["township"] or None,
        "village": text["village"] or None,
        "latitude": latitude,
        "longitude": longitude,
    }


def save_site(actor: Actor, org: Organization, form: dict[str, str], site: Site | None = None) -> Site:
    """Create a site of ``org`` or change one; audited. An edit that changes nothing leaves no entry."""
    values = _values(org, form)
    if site is None:
        lat, lon = values["latitude"], values["longitude"]
        created = orgs.create_site(
            org,
            name=values["name"],
            kind=values["kind"],
            county=values["county"],
            township=values["township"],
            village=values["village"],
            latitude=float(lat) if lat is not None else None,
            longitude=float(lon) if lon is not None else None,
        )
        service.record(actor, "site.create", f"{org.code} {created.name}", site=created.id, kind=created.kind)
        return created
    changed = {k: v for k, v in values.items() if getattr(site, k) != v}
    if changed:
        for key, value in changed.items():
            setattr(site, key, value)
        db.session.flush()
        service.record(
            actor, "site.update", f"{org.code} {site.name}", site=site.id,
            changed={k: (str(v) if isinstance(v, Decimal) else v) for k, v in changed.items()},
        )  # fmt: skip
    return site
