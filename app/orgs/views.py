"""Admin endpoints for organizations and users."""

from __future__ import annotations

from typing import Any

from app import access
from app.api import Blueprint
from app.auth import require_roles
from app.orgs import service
from app.orgs.models import Organization, User
from app.orgs.schemas import (
    OrganizationCreate,
    OrganizationList,
    OrganizationOut,
    OrganizationUpdate,
    UserCreate,
    UserList,
    UserOut,
)
from app.schemas import Page

blp = Blueprint("orgs", __name__, url_prefix="/api/v1", description="Organizations and users (admin)")


@blp.route("/organizations", methods=["POST"])
@blp.arguments(OrganizationCreate)
@blp.response(201, OrganizationOut)
@blp.doc(security=[{"bearerAuth": []}])
@require_roles(access.ADMIN_ROLES)
def create_organization(body: dict[str, Any]) -> Organization:
    """Register an organization."""
    cooperative = body.pop("cooperative", None)
    return service.create_organization(**body, cooperative_code=cooperative)


@blp.route("/organizations", methods=["GET"])
@blp.response(200, OrganizationList)
@blp.doc(security=[{"bearerAuth": []}])
@require_roles(access.ADMIN_ROLES)
def list_organizations() -> Page:
    """List organizations."""
    return service.list_organizations()


@blp.route("/organizations/<id:org_id>", methods=["PATCH"])
@blp.arguments(OrganizationUpdate)
@blp.response(200, OrganizationOut)
@blp.doc(security=[{"bearerAuth": []}])
@require_roles(access.ADMIN_ROLES)
def update_organization(body: dict[str, Any], org_id: int) -> Organization:
    """Change an organization's name or contact, or a lab's CMA certificate (number, validity, scope)."""
    return service.update_organization(org_id, **body)


@blp.route("/users", methods=["POST"])
@blp.arguments(UserCreate)
@blp.response(201, UserOut)
@blp.doc(security=[{"bearerAuth": []}])
@require_roles(access.ADMIN_ROLES)
def create_user(body: dict[str, Any]) -> User:
    """Create a user in an organization."""
    org = body.pop("org")
    return service.create_user(org_code=org, **body)


@blp.route("/users", methods=["GET"])
@blp.response(200, UserList)
@blp.doc(security=[{"bearerAuth": []}])
@require_roles(access.ADMIN_ROLES)
def list_users() -> Page:
    """List users."""
    return service.list_users()
