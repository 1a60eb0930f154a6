"""Fixtures for the field app: a cooperative with member households, their users and sites."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask.testing import FlaskClient

from app.orgs import service as orgs
from app.orgs.models import Organization, Site, User
from tests.conftest import settle
from tests.web.conftest import PASSWORD, csrf_from, sign_in

__all__ = ["PASSWORD", "Coop", "csrf_from", "sign_in"]


@dataclass
class Coop:
    org: Organization
    user: User
    members: list[Organization]
    member_user: User
    site: Site
    member_site: Site


@pytest.fixture
def coop(make_org: Callable[..., Organization], make_user: Callable[..., User]) -> Coop:
    org = make_org(kind="cooperative", name="大畈枇杷合作社")
    user = make_user("cooperative", org=org, password=PASSWORD)
    members = [make_org(kind="farm_household", name=f"农户{n}", cooperative_code=org.code) for n in ("王", "陈")]
    member_user = make_user("farmer", org=members[0], password=PASSWORD)
    site = orgs.create_site(org, name="合作社分级冷库", kind="warehouse", county="通山县")
    member_site = orgs.create_site(members[0], name="王家枇杷园", kind="orchard", county="通山县")
    settle()
    return Coop(org, user, members, member_user, site, member_site)


@pytest.fixture
def signed_in(client: FlaskClient) -> Callable[[User], FlaskClient]:
    def sign(user: User) -> FlaskClient:
        response = sign_in(client, user.username)
        assert response.status_code == 302
        return client

    return sign


def form_token(client: FlaskClient, path: str) -> str:
    return csrf_from(client.get(path).get_data(as_text=True))


def post_form(client: FlaskClient, path: str, data: dict[str, Any]) -> Any:
    """GET the form (for its CSRF token and defaults), then POST ``data`` to it."""
    return client.post(path, data={"csrf_token": form_token(client, path), **data})
