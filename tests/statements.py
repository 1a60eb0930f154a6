"""Counting the SQL statements a piece of work sends: how the tests hold a path to a fixed number
of queries (not a timing, which a test must never assert)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from app.db import db

# The test harness wraps each test in a transaction and each request in a savepoint: not the work's.
_HARNESS = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")
# The signed-in visitor's session: in Redis in production (REDIS_URL), in this table only in the
# fallback without it, where reading and touching it costs a page two statements of its own.
_SESSION_STORE = "web_sessions"


@contextmanager
def counted() -> Iterator[list[str]]:
    """The statements sent to the database inside the block, harness savepoints and the session
    store's fallback table left out."""
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.lstrip().upper().startswith(_HARNESS) and _SESSION_STORE not in statement:
            statements.append(statement)

    engine = db.session.get_bind().engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)
