"""Shared fixtures: one migrated database per run, each test in a rolled-back transaction.

The suite runs on SQLite by default and on PostgreSQL when ``TEST_DATABASE_URL`` is set.
Factories end with ``settle()``: inside the test's outer transaction a commit only releases a
savepoint, so what a factory made survives a request that fails and rolls back, as rows committed
before the request would in production; the outer transaction still discards everything.
"""

from __future__ import annotations

import itertools
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import Connection, create_engine, make_url, text
from sqlalchemy.orm import Session, scoped_session, sessionmaker

from app import create_app
from app.catalog.service import default_catalog_path, load_catalog_file
from app.config import normalize_database_url
from app.db import db
from app.demo import load_demo
from app.orgs import service as orgs
from app.orgs.credit_code import check_character
from app.orgs.models import Organization, User

PUBLIC_BASE_URL = "https://trace.example.cn"


def _reset_postgres(url: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def _worker_database(url: str, worker: str) -> str:
    """``url``'s database with the worker's name appended (``test_gw0``), created when missing."""
    base = make_url(url)
    name = f"{base.database}_{worker}"
    engine = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}) is None:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        url = normalize_database_url(url)
        worker = os.environ.get("PYTEST_XDIST_WORKER")
        if worker:
            # Under pytest -n each worker has a database of its own, beside the one named.
            url = _worker_database(url, worker)
        _reset_postgres(url)
        yield url
        return
    with tempfile.TemporaryDirectory(prefix="youpin-test-") as tmp:
        yield "sqlite:///" + str(Path(tmp) / "test.db")


def _checkpoint_test_key() -> str:
    key = Ed25519PrivateKey.generate()
    return key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()


@pytest.fixture(scope="session")
def app(database_url: str) -> Iterator[Flask]:
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
            "SECRET_KEY": "test-secret",
            # argon2's lowest cost: the tests check passwords, not the hash's strength.
            "PASSWORD_HASH_TIME_COST": 1,
            "PASSWORD_HASH_MEMORY_COST": 8,
            "PASSWORD_HASH_PARALLELISM": 1,
            # A key of the run's own, so signing never depends on a key file left in instance/.
            "CHECKPOINT_SIGNING_KEY": _checkpoint_test_key(),
            # With REDIS_URL (CI), this run's sessions and login counts stay apart from any other's.
            "REDIS_KEY_PREFIX": f"youpin-test-{os.getpid()}:",
        }
    )
    with app.app_context():
        upgrade()  # the real migrations, never create_all: they are under test too
        load_catalog_file(default_catalog_path())
        db.session.commit()
        yield app
        db.session.remove()
        db.engine.dispose()


class _SharedTransaction:
    """A connection whose transaction holds what a module's tests share (the demo)."""

    def __init__(self, connection: Connection, summary: str) -> None:
        self.connection = connection
        self.summary = summary


def _bind_session(connection: Connection) -> scoped_session[Session]:
    # A plain session bound to this connection (Flask-SQLAlchemy's own would pick the engine
    # again and escape the transaction); its commits become savepoints.
    return scoped_session(sessionmaker(bind=connection, join_transaction_mode="create_savepoint"))


@pytest.fixture(scope="module")
def _demo_for_module(app: Flask) -> Iterator[_SharedTransaction]:
    """Load the demo once for the module that asks, in a transaction rolled back after its last test."""
    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        original = db.session
        db.session = _bind_session(connection)
        try:
            summary = load_demo()
            db.session.commit()
        finally:
            db.session.remove()
            db.session = original
    try:
        yield _SharedTransaction(connection, summary)
    finally:
        outer.rollback()
        connection.close()


@pytest.fixture
def demo(_demo_for_module: _SharedTransaction) -> str:
    """The demo data for all six product lines (loaded once per module); its load summary."""
    return _demo_for_module.summary


@pytest.fixture(autouse=True)
def _transaction(request: pytest.FixtureRequest) -> Iterator[None]:
    """Wrap each test in a transaction that is rolled back; commits become savepoints.

    A test that uses ``demo`` runs in a savepoint of the module's transaction instead, so the
    demo it finds is the one loaded for the module, untouched by the module's other tests.
    """
    if request.node.get_closest_marker("committing"):
        yield
        return
    app: Flask = request.getfixturevalue("app")
    shared: _SharedTransaction | None = None
    if "demo" in request.fixturenames:
        shared = request.getfixturevalue("_demo_for_module")
    with app.app_context():
        connection = shared.connection if shared else db.engine.connect()
        outer = connection.begin_nested() if shared else connection.begin()
        original = db.session
        db.session = _bind_session(connection)
        try:
            yield
        finally:
            db.session.remove()
            db.session = original
            outer.rollback()
            if not shared:
                connection.close()


@pytest.fixture(autouse=True)
def _fresh_login_limits(request: pytest.FixtureRequest) -> None:
    """Every test starts with no sign-in counted: the suite signs in from one address all the time."""
    if "app" in request.fixturenames or "client" in request.fixturenames:
        app: Flask = request.getfixturevalue("app")
        app.extensions["youpin.limiter"].reset()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


_counter = itertools.count(1)


def settle() -> None:
    """Make what the test has built so far outlive a failed request's rollback (see above)."""
    db.session.commit()


def valid_credit_code(serial: int) -> str:
    """A well-formed credit code for tests: 9142 12 (Xianning) + serial + check character."""
    body = f"914212{serial:011d}"[:17]
    # Position 9-17 may hold letters; digits keep it simple and valid.
    return body + check_character(body)


@pytest.fixture
def make_org() -> Callable[..., Organization]:
    def make(**overrides: Any) -> Organization:
        n = next(_counter)
        kind = overrides.pop("kind", "cooperative")
        values: dict[str, Any] = {
            "code": f"ORG{n:05d}",
            "name": f"测试主体{n}",
            "kind": kind,
            "county": "通山县",
        }
        if kind not in ("farm_household", "regulator"):
            values["credit_code"] = valid_credit_code(n)
        values.update(overrides)
        org = orgs.create_organization(**values)
        settle()
        return org

    return make


@pytest.fixture
def make_user(make_org: Callable[..., Organization]) -> Callable[..., User]:
    def make(role: str = "farmer", org: Organization | None = None, **overrides: Any) -> User:
        if org is None:
            kind = {
                "farmer": "farm_household",
                "cooperative": "cooperative",
                "processor": "processor",
                "logistics": "logistics",
                "retailer": "retailer",
                "inspector": "regulator",
                "lab": "lab",
                "admin": "regulator",
            }[role]
            org = make_org(kind=kind)
        n = next(_counter)
        return orgs.create_user(
            username=overrides.pop("username", f"user{n}"), org_code=org.code, role=role, **overrides
        )

    return make


@pytest.fixture
def auth(make_user: Callable[..., User]) -> Callable[..., dict[str, str]]:
    """``auth("farmer")`` -> headers with a fresh user's bearer token; ``auth(user=u)`` for a given one."""

    def make(role: str = "farmer", user: User | None = None, **kwargs: Any) -> dict[str, str]:
        user = user or make_user(role, **kwargs)
        _, secret = orgs.create_token(user.username)
        settle()
        return {"Authorization": f"Bearer {secret}"}

    return make
