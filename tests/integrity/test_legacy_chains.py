"""The migration that chains batch facts: older chains get a facts record appended, never re-hashed."""

from __future__ import annotations

import datetime as dt

import pytest
from flask_migrate import upgrade
from sqlalchemy import text

from app import create_app
from app.batches import chain
from app.batches.models import Batch
from app.batches.service import verify_batch
from app.db import db

pytestmark = pytest.mark.committing

BEFORE = "0ff1ce000001"  # the revision before 7c4e2f1a9b3d


def test_an_older_chain_keeps_its_history_and_gains_its_facts(tmp_path):
    other = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/legacy.db"})
    with other.app_context():
        upgrade(revision=BEFORE)
        aware = dt.datetime(2026, 5, 1, 8, 0, tzinfo=dt.UTC)
        at = aware.replace(tzinfo=None)  # SQLite keeps UTC naive (app.db.UTCDateTime)
        db.session.execute(text(
            "INSERT INTO product_lines (key, name_zh, name_en, county_zh, county_en, lot_prefix, stages, forms) "
            "VALUES ('loquat', '通山枇杷', 'Tongshan loquat', '通山县', 'Tongshan', 'LQ', '[]', '[]')"
        ))  # fmt: skip
        db.session.execute(text(
            "INSERT INTO organizations (id, code, name, kind, county, created_at) "
            "VALUES (1, 'HH1', '李家', 'farm_household', '通山县', '2026-01-01 00:00:00')"
        ))  # fmt: skip
        old = chain.ChainFields(
            lot_code="LQ-OLD-1", seq=1, stage="storage", occurred_at=aware,
            recorded_at=aware, actor_org="HH1", actor_user=None, site_id=None,
            data={"temperature_c": "4"}, amends_seq=None, prev_hash=chain.GENESIS,
        )  # fmt: skip
        db.session.execute(
            text(
                "INSERT INTO batches (id, lot_code, product_key, quantity, unit, status, public_code, "
                "custodian_org_id, producer_org_id, created_at, head_seq, head_hash) VALUES "
                "(1, 'LQ-OLD-1', 'loquat', 100, 'kg', 'active', 'pc-old-1', 1, 1, :at, 1, :h), "
                "(2, 'LQ-OLD-2', 'loquat', 5, 'kg', 'active', 'pc-old-2', 1, 1, :at, 0, :g)"
            ),
            {"at": at, "h": old.digest(), "g": chain.GENESIS},
        )
        db.session.execute(
            text(
                "INSERT INTO events (batch_id, seq, stage, occurred_at, recorded_at, actor_org_id, data, "
                "prev_hash, hash) VALUES (1, 1, 'storage', :at, :at, 1, :d, :p, :h)"
            ),
            {"at": at, "d": '{"temperature_c": "4"}', "p": chain.GENESIS, "h": old.digest()},
        )
        db.session.commit()
        upgrade()
        with_history, empty = db.session.get(Batch, 1), db.session.get(Batch, 2)
        # The old event is untouched (a checkpoint's anchor on it still holds); the facts follow it.
        first = with_history.events[0]
        assert (first.seq, first.stage, first.hash) == (1, "storage", old.digest())
        assert [e.stage for e in with_history.events] == ["storage", "created"]
        assert with_history.events[1].prev_hash == old.digest()
        assert verify_batch(with_history).valid and verify_batch(empty).valid
        assert [e.seq for e in empty.events] == [1]
        db.session.execute(text("UPDATE batches SET quantity = 1 WHERE id = 1"))
        db.session.commit()
        db.session.expire_all()
        report = verify_batch(db.session.get(Batch, 1))
        assert report.valid is False and report.first_invalid_seq == 2 and "quantity" in (report.reason or "")
        db.session.remove()
        db.engine.dispose()
