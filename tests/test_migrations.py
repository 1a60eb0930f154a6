"""Migrations: upgrade from empty to head and back, and the models match the migrations."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text

from app import create_app
from app.db import db

pytestmark = pytest.mark.committing


def test_models_match_migrations(app):
    """The suite's database was built by `upgrade()`; autogenerate must find nothing to add."""
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "render_as_batch": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == [], f"models and migrations drifted: {diff}"


def test_upgrade_from_empty_and_downgrade(database_url, tmp_path):
    """A second, empty database goes to head and back to base cleanly."""
    # Named after the suite's own database, so parallel runs on other databases never collide.
    scratch = database_url.rsplit("/", 1)[-1] + "_migrations"
    if database_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path}/empty.db"
    else:
        url = database_url.rsplit("/", 1)[0] + "/" + scratch
        admin = create_engine(database_url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}"'))
            conn.execute(text(f'CREATE DATABASE "{scratch}"'))
        admin.dispose()
    other = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    try:
        with other.app_context():
            upgrade()
            tables = set(inspect(db.engine).get_table_names())
            assert {"batches", "events", "standards", "requirements", "lineage_edges", "recalls"} <= tables
            downgrade(revision="base")
            assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
            db.engine.dispose()
    finally:
        if not url.startswith("sqlite"):
            admin = create_engine(database_url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
            admin.dispose()
