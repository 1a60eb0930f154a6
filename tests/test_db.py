"""SQLite's transactions: WAL, readers that never queue, writers that still take turns.

These tests run on a file-backed SQLite database of their own (whatever TEST_DATABASE_URL says),
with one thread per request, so each request has its own connection and transaction as under
gunicorn. They commit for real into that throwaway database.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import create_engine, func, select, text

from app import create_app
from app.db import db
from app.orgs import service as orgs
from app.orgs.models import Organization

pytestmark = pytest.mark.committing

# How long a thread waits for its partner before the test gives up; far above what any of these
# steps takes, so it only bounds how long a regression takes to fail.
PATIENCE = 10


class Probe:
    """Test-only routes that hold a transaction open at a chosen point."""

    def __init__(self) -> None:
        self.readers = threading.Barrier(2, timeout=PATIENCE)
        self.first_wrote = threading.Event()
        self.release_first = threading.Event()
        self.second_began = threading.Event()
        self.log: list[str] = []


@pytest.fixture(scope="module")
def sqlite_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sqlite") / "trace.db"


@pytest.fixture(scope="module")
def probe() -> Probe:
    return Probe()


@pytest.fixture(scope="module")
def sqlite_app(sqlite_file: Path, probe: Probe) -> Iterator[Flask]:
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{sqlite_file}"})

    @app.get("/_probe/read")
    def read_twice() -> Any:
        # Both readers must be inside a transaction at once to pass the barrier.
        before = db.session.scalar(select(func.count()).select_from(Organization))
        probe.readers.wait()
        after = db.session.scalar(select(func.count()).select_from(Organization))
        return {"before": before, "after": after}

    @app.get("/_probe/count")
    def count() -> Any:
        return {"organizations": db.session.scalar(select(func.count()).select_from(Organization))}

    @app.post("/_probe/write/<name>")
    def write(name: str) -> Any:
        db.session.scalar(select(func.count()).select_from(Organization))  # begins the transaction
        probe.log.append(f"{name} began")
        if name == "second":
            probe.second_began.set()
        orgs.create_organization(code=f"PROBE-{name}", name=f"探针{name}", kind="regulator")
        db.session.flush()
        probe.log.append(f"{name} wrote")
        if name == "first":
            probe.first_wrote.set()
            assert probe.release_first.wait(PATIENCE)
        return {"name": name}, 201

    with app.app_context():
        upgrade()
        db.session.remove()
    yield app
    with app.app_context():
        db.engine.dispose()


def _get(app: Flask, path: str) -> Any:
    response = app.test_client().get(path)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_the_app_runs_sqlite_in_wal_mode_with_a_busy_timeout(sqlite_app, sqlite_file):
    with sqlite_app.app_context():
        assert db.session.scalar(text("PRAGMA journal_mode")) == "wal"
        assert db.session.scalar(text("PRAGMA busy_timeout")) == 30000
        db.session.remove()
    # The pragmas belong to the app's engine, not to every engine in the process.
    other = create_engine(f"sqlite:///{sqlite_file.with_name('other.db')}")
    with other.connect() as conn:
        assert conn.scalar(text("PRAGMA journal_mode")) == "delete"
    other.dispose()


def test_two_readers_are_inside_their_transactions_at_once(sqlite_app):
    with ThreadPoolExecutor(2) as pool:
        answers = [f.result() for f in [pool.submit(_get, sqlite_app, "/_probe/read") for _ in range(2)]]
    assert answers[0] == answers[1]


def test_a_reader_does_not_wait_for_an_open_write_transaction(sqlite_app, sqlite_file):
    committed = _get(sqlite_app, "/_probe/count")["organizations"]
    writer = sqlite3.connect(sqlite_file, isolation_level=None)
    pool = ThreadPoolExecutor(2)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute(
            "INSERT INTO organizations (code, name, kind, created_at) VALUES ('PROBE-OPEN', '未提交', 'regulator', "
            "'2026-01-01 00:00:00')"
        )
        pending = [pool.submit(_get, sqlite_app, path) for path in ("/_probe/count", "/healthz")]
        # Both answer while the write is still open, and see only what was committed.
        answers = [f.result(timeout=PATIENCE) for f in pending]
    finally:
        writer.rollback()  # first, so that a reader stuck behind it is let go at once
        writer.close()
        pool.shutdown()
    assert answers[0] == {"organizations": committed}
    assert answers[1]["database"]["ok"] is True


def test_writers_still_take_the_write_lock_in_turn(sqlite_app, probe):
    client = sqlite_app.test_client
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(lambda: client().post("/_probe/write/first"))
        assert probe.first_wrote.wait(PATIENCE)
        second = pool.submit(lambda: client().post("/_probe/write/second"))
        # The second writer's BEGIN must wait for the first to commit: give it a moment to jump the
        # queue if it could.
        jumped = probe.second_began.wait(0.5)
        probe.release_first.set()
        statuses = [first.result(timeout=PATIENCE).status_code, second.result(timeout=PATIENCE).status_code]
    assert not jumped
    assert statuses == [201, 201]
    assert probe.log == ["first began", "first wrote", "second began", "second wrote"]
    with sqlite_app.app_context():
        codes = db.session.scalars(select(Organization.code).where(Organization.code.like("PROBE-%"))).all()
        db.session.remove()
    assert sorted(codes) == ["PROBE-first", "PROBE-second"]
