"""Admin endpoints for organizations and users."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.api import Blueprint
from app.auth import require_roles
from app.db import db
from app.orgs import service
from app.orgs.models import Organization, Role, User
from app.orgs.schemas import (
    OrganizationCreate,
    OrganizationList,
    OrganizationOut,
    UserCreate,
    UserList,
    UserOut,
)

blp = Blueprint("orgs", __name__, url_prefix="/api/v1", description="Organizations and users (admin)")


@blp.route("/organizations", methods=["POST"])
@blp.arguments(OrganizationCreate)
@blp.response(201, OrganizationOut)
@blp.doc(security=[{"bearerAuth": []}])
@require_roles({Role.admin})
def create_organization(body: dict[str, Any]) -> Organization:
    """Register an organization."""
    cooperative = body.pop("cooperative", None)
    return service.create_organization(**body, cooperative_code=cooperative)


@blp.route("/organizations", methods=["GET"])
@blp.response(200, OrganizationList)
@blp.doc(security=[{"bearerAuth": []}])
@require_roles({Role.admin})
def list_organizations() -> dict[str, Any]:
    """List organizations."""
    return {"items": db.session.scalars(select(Organization).order_by(Organization.code)).all()}


@blp.route("/users", methods=["POST"])
@blp.arguments(UserCreate)
@blp.response(201, UserOut)
@blp.doc(security=[{"bearerAuth": []}])
@require_roles({Role.admin})
def create_user(body: dict[str, Any]) -> User:
    """Create a user in an organization."""
    org = body.pop("org")
    return service.create_user(org_code=org, **body)


@blp.route("/users", methods=["GET"])
@blp.response(200, UserList)
@blp.doc(security=[{"bearerAuth": []}])
@require_roles({Role.admin})
def list_users() -> dict[str, Any]:
    """List users."""
    return {"items": db.session.scalars(select(User).order_by(User.username)).all()}
