"""The declarative base, the portable column types and the session.

Every model shares one metadata with a naming convention, so Alembic names constraints the same
way on SQLite and PostgreSQL. Datetimes are stored in UTC and always come back timezone-aware.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from flask import Flask, has_request_context, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import JSON, DateTime, MetaData, Numeric, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection
from sqlalchemy.orm import DeclarativeBase, ORMExecuteState, Session, SessionTransaction, registry
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware datetime stored as UTC; naive values are refused, not guessed."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; pass an aware datetime in any zone")
        value = value.astimezone(dt.UTC)
        # SQLite keeps no zone; store naive UTC there and re-attach the zone on the way out.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


# JSONB on PostgreSQL (indexable, compact), plain JSON text elsewhere.
PortableJSON = JSON().with_variant(JSONB(), "postgresql")

# Quantities: exact decimals, 3 places (grams of a kilogram, millilitres of a litre).
Quantity = Numeric(18, 3, asdecimal=True)


class Base(DeclarativeBase):
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={
            dt.datetime: UTCDateTime,
            Decimal: Quantity,
            dict[str, Any]: PortableJSON,
            list[Any]: PortableJSON,
        },
    )


db = SQLAlchemy(model_class=Base)

# The base every model subclasses. mypy cannot take an attribute such as ``db.Model`` as a base
# class (python/mypy#8603), so it checks against ``Base``, whose body Flask-SQLAlchemy copies
# into ``db.Model`` (same registry, same type map); at run time it is ``db.Model`` itself.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model


# Whether the session's transaction wrote anything: a flush, or a statement other than a SELECT
# run through the session (a bulk INSERT, UPDATE or DELETE). A read that wrote nothing is ended
# without a COMMIT. Listeners on the Session class, registered once for every session.
_WROTE = "youpin_wrote"


@event.listens_for(Session, "after_flush")
def _flushed(session: Session, _context: Any) -> None:
    session.info[_WROTE] = True


@event.listens_for(Session, "do_orm_execute")
def _executed(state: ORMExecuteState) -> None:
    statement = state.statement
    reads = state.is_select or (isinstance(statement, TextClause) and statement.text.lstrip()[:6].upper() == "SELECT")
    if not reads:
        state.session.info[_WROTE] = True


@event.listens_for(Session, "after_transaction_end")
def _ended(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_WROTE, None)


def wrote_in(session: Any) -> bool:
    """True when the current transaction flushed or executed a write, or holds pending changes."""
    return bool(session.info.get(_WROTE) or session.new or session.dirty or session.deleted)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# Requests that only read: on SQLite they begin deferred, so they share the database with each
# other and with a writer (WAL lets a reader see the last commit while a write is under way).
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def init_engines(app: Flask) -> None:
    """Give this app's own SQLite engines their pragmas and transaction handling.

    Bound per engine, not on the global ``Engine`` class, so engines made elsewhere in the process
    (another app in the tests, a script's admin connection) keep SQLAlchemy's defaults.
    """
    with app.app_context():
        engines = list(db.engines.values())
    for engine in engines:
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
            event.listen(engine, "begin", _sqlite_begin)


def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    """Make SQLite behave: foreign keys on, WAL, and transactions we control ourselves."""
    # pysqlite's own transaction handling would defeat BEGIN IMMEDIATE and SAVEPOINT.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    """Begin deferred for a request that only reads, and take the write lock at once otherwise.

    With a deferred BEGIN two appenders could both read a batch's head and then one would fail
    to upgrade its lock. BEGIN IMMEDIATE makes the second wait (busy timeout) instead, which is
    the SQLite half of invariant 3 (contiguous sequence numbers under concurrent writers). A
    reader needs no such lock, and taking it made every consumer page queue behind every write.
    Outside a request (the CLI, the loaders, the tests' own setup) the write lock is taken too.
    """
    reads_only = has_request_context() and request.method in READ_METHODS
    conn.exec_driver_sql("BEGIN" if reads_only else "BEGIN IMMEDIATE")


def is_postgres() -> bool:
    return db.engine.dialect.name == "postgresql"
