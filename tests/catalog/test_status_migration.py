"""The status migration keeps the old free text word for word and reads the new status from it."""

from __future__ import annotations

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from app import create_app
from app.db import db

pytestmark = pytest.mark.committing

INSERT = text(
    "INSERT INTO standards (code, base_code, title_zh, level, level_detail, mandatory, kind, status, "
    "replaces, applies_to, sources, extra) VALUES (:code, :code, 't', 'national', 'national', true, "
    "'safety_limit', :status, '[]', '[]', '[]', '{}')"
)


def test_status_text_moves_to_status_note(tmp_path):
    other = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/status.db"})
    with other.app_context():
        upgrade(revision="dac73e88a451")
        with db.engine.begin() as conn:
            for code, status in (("GB 1-2000", "current (per source)"), ("GB 2-2000", "UNCERTAIN - withdrawn?"),
                                 ("GB 3-2000", "UNVERIFIED - not found"), ("GB 4-2000", None)):  # fmt: skip
                conn.execute(INSERT, {"code": code, "status": status})
        upgrade()
        with db.engine.connect() as conn:
            got = dict(
                (code, (status, note))
                for code, status, note in conn.execute(text("SELECT code, status, status_note FROM standards"))
            )
        assert got == {
            "GB 1-2000": ("in_force", "current (per source)"),
            "GB 2-2000": ("uncertain", "UNCERTAIN - withdrawn?"),
            "GB 3-2000": ("uncertain", "UNVERIFIED - not found"),
            "GB 4-2000": ("in_force", None),
        }
        downgrade(revision="dac73e88a451")
        with db.engine.connect() as conn:
            back = dict(conn.execute(text("SELECT code, status FROM standards")).all())
        assert back == {
            "GB 1-2000": "current (per source)",
            "GB 2-2000": "UNCERTAIN - withdrawn?",
            "GB 3-2000": "UNVERIFIED - not found",
            "GB 4-2000": "in_force",
        }
        db.engine.dispose()
