"""A household's or cooperative's sites: the list, and registering one."""

from typing import Any

from flask import redirect, render_template, request
from flask_babel import gettext as _

from app.db import db
from app.field import service, sites
from app.field.pages import (
    bp,
    field_actor,
    field_required,
    field_url,
    new_key,
    submit,
)
from app.orgs.models import Site
from app.sync import handlers

# --- sites -----------------------------------------------------------------------------------------


@bp.get("/sites")
@field_required
def site_list() -> str:
    """The organization's sites (a cooperative's: and its member households')."""
    who = field_actor()
    rows = list(db.session.scalars(sites.sites_query(who).order_by(Site.organization_id, Site.id)))
    return render_template("field/sites.html", who=who, sites=rows, kinds=sites.SITE_KINDS)


@bp.route("/sites/new", methods=["GET", "POST"])
@field_required
def site_create() -> Any:
    """Register a site: name, kind, township and village, and the phone's location if allowed."""
    who = field_actor()
    values: dict[str, str] = {"county": who.org.county or "", "idempotency_key": new_key()}
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        values = {k: request.form.get(k, "").strip() for k in (*handlers.SITE_FIELDS, "idempotency_key")}
        try:
            submit("site")
        except service.FormRefused as refused:
            errors, status = refused.errors, 422
        else:
            return redirect(field_url("field.site_list", created=1))
    labels = {
        "name": _("场所名称"),
        "kind": _("类型"),
        "organization": _("属于"),
        "county": _("县（市、区）"),
        "township": _("乡镇"),
        "village": _("村"),
        "latitude": _("纬度"),
        "longitude": _("经度"),
        "_form": "",
    }
    page = render_template(
        "field/site_form.html",
        who=who,
        owners=sites.owners_for(who),
        kinds=sites.SITE_KINDS,
        values=values,
        errors=errors,
        labels=labels,
    )
    return page, status
