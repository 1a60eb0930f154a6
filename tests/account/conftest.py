"""Fixtures for sign-in: a moving clock, the session stores (Redis and the database), form posts."""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import clock
from app.account import sessions

PASSWORD = "account-password-1"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def token_of(html: str) -> str:
    found = _TOKEN.search(html)
    assert found, "the page carries no CSRF token"
    return found.group(1)


def sign_in(client: FlaskClient, username: str, password: str = PASSWORD, path: str = "/login", **kw: Any) -> Any:
    token = token_of(client.get(path).get_data(as_text=True))
    return client.post(path, data={"username": username, "password": password, "csrf_token": token}, **kw)


def redis_url() -> str | None:
    """The Redis the suite may use; CI sets REQUIRE_REDIS=1 so a missing one fails instead of skipping."""
    url = os.environ.get("REDIS_URL")
    if not url and os.environ.get("REQUIRE_REDIS") == "1":
        raise RuntimeError("REQUIRE_REDIS=1 but REDIS_URL is unset")
    return url


class Clock:
    """``app.clock.now`` under the test's hand."""

    def __init__(self) -> None:
        self.moment = dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += dt.timedelta(**delta)


@pytest.fixture
def moving_clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    now = Clock()
    monkeypatch.setattr(clock, "now", now)
    return now


@pytest.fixture(params=["redis", "database"])
def session_store(request: pytest.FixtureRequest, app: Flask) -> Iterator[sessions.SessionStore]:
    """Each test twice: sessions in Redis and in the database (the fallback without REDIS_URL)."""
    store: sessions.SessionStore
    client = None
    prefix = f"youpin-test-{os.getpid()}-sessions:"
    if request.param == "redis":
        url = redis_url()
        if not url:
            pytest.skip("REDIS_URL is unset")
        import redis

        client = redis.Redis.from_url(url)
        store = sessions.RedisSessions(client, prefix)
    else:
        store = sessions.DatabaseSessions()
    before = app.extensions[sessions.EXTENSION]
    app.extensions[sessions.EXTENSION] = store
    try:
        yield store
    finally:
        app.extensions[sessions.EXTENSION] = before
        if client is not None:
            for key in client.scan_iter(match=prefix + "*"):
                client.delete(key)
