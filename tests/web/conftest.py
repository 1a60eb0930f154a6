"""Fixtures for the inspector's desk: users with passwords and a signed-in test client."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from app.orgs.models import User

PASSWORD = "desk-password-1"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    found = _TOKEN.search(html)
    assert found, "the page carries no CSRF token"
    return found.group(1)


def sign_in(client: FlaskClient, username: str, password: str = PASSWORD) -> Any:
    token = csrf_from(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})


@pytest.fixture
def inspector(make_user: Callable[..., User]) -> User:
    return make_user("inspector", password=PASSWORD, display_name="王检查员")


@pytest.fixture
def desk(client: FlaskClient, inspector: User) -> FlaskClient:
    """A test client signed in to the desk as an inspector."""
    response = sign_in(client, inspector.username)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client
