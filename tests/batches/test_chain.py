"""Verifying a batch's hash chain: a valid chain, rows changed or removed behind the API's back,
and eight concurrent writers on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy import delete, select, update

from app.auth import Actor
from app.batches import chain, service
from app.batches.models import Batch, BatchStandard, Event
from app.db import db
from app.orgs import service as orgs
from app.orgs.models import ApiToken, Organization, User
from tests.batches.conftest import STAGE_DATA, post_event
from tests.conftest import valid_credit_code

EVENTS = Event.__table__


def _verify(client, who, batch_id):
    response = client.get(f"/api/v1/batches/{batch_id}/verify", headers=who.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


@pytest.fixture
def journey(client, party, make_batch):
    """A brick tea batch with four events, and its custodian."""
    owner = party("processor")
    batch = make_batch(owner)
    # The harvest comes after the planting's pesticide interval (10 days from 04-02): a breach
    # would fail the lot and hold it, and a held lot takes no processing.
    for stage, day in (("seedling", "01"), ("planting", "02"), ("harvest", "14"), ("processing", "15")):
        assert post_event(client, owner, batch.id, stage, day=f"2026-04-{day}").status_code == 201
    return owner, batch


def test_an_untouched_chain_verifies(client, party, journey):
    owner, batch = journey
    report = _verify(client, party("inspector"), batch.id)
    head = client.get(f"/api/v1/batches/{batch.id}", headers=owner.headers).get_json()["head_hash"]
    assert report == {"valid": True, "events": 5, "head_hash": head, "first_invalid_seq": None, "reason": None}
    assert head != chain.GENESIS


def test_a_new_batch_verifies_with_its_created_record(client, party, make_batch):
    owner = party("farmer")
    batch = make_batch(owner, product="loquat")
    report = _verify(client, owner, batch.id)
    assert report["valid"] is True and report["events"] == 1 and report["head_hash"] != chain.GENESIS


@pytest.mark.parametrize(
    ("seq", "column", "value"),
    [
        (2, "data", {"inputs": [], "note": "从未施药"}),
        (3, "data", {**STAGE_DATA["harvest"], "quantity": "1500"}),
        (1, "occurred_at", dt.datetime(2026, 3, 1, tzinfo=dt.UTC)),
        (3, "recorded_at", dt.datetime(2026, 4, 3, tzinfo=dt.UTC)),
        (2, "hash", "f" * 64),
        (4, "stage", "packing"),
        (3, "actor_org_id", None),
    ],
)
def test_a_row_changed_in_the_database_is_found(client, party, journey, seq, column, value):
    _, batch = journey
    if column == "actor_org_id":
        value = party("processor").org.id  # as if someone else had recorded it
    db.session.execute(update(EVENTS).where(EVENTS.c.batch_id == batch.id, EVENTS.c.seq == seq).values({column: value}))
    report = _verify(client, party("inspector"), batch.id)
    assert report["valid"] is False
    assert report["first_invalid_seq"] == seq
    assert report["reason"]


def test_a_rewritten_event_whose_hash_was_recomputed_breaks_the_next_link(client, party, journey):
    """A careful forger re-hashes the row they changed; the following event's prev_hash gives it away."""
    owner, batch = journey
    event = db.session.scalar(select(Event).where(Event.batch_id == batch.id, Event.seq == 2))
    forged = dict(event.data, inputs=[])
    fields = service.chain_fields(event, batch.lot_code, owner.org.code, owner.user.username)
    new_hash = chain.ChainFields(**{**fields.__dict__, "data": forged}).digest()
    db.session.execute(
        update(EVENTS).where(EVENTS.c.batch_id == batch.id, EVENTS.c.seq == 2).values(data=forged, hash=new_hash)
    )
    report = _verify(client, party("inspector"), batch.id)
    assert report["valid"] is False and report["first_invalid_seq"] == 3


def test_a_deleted_last_event_is_found(client, party, journey):
    owner, batch = journey
    db.session.execute(delete(EVENTS).where(EVENTS.c.batch_id == batch.id, EVENTS.c.seq == 5))
    report = _verify(client, owner, batch.id)
    assert report["valid"] is False
    assert report["first_invalid_seq"] == 5
    assert report["events"] == 4


def test_a_deleted_middle_event_is_found(client, party, journey):
    owner, batch = journey
    db.session.execute(delete(EVENTS).where(EVENTS.c.batch_id == batch.id, EVENTS.c.seq == 2))
    report = _verify(client, owner, batch.id)
    assert report["valid"] is False and report["first_invalid_seq"] == 3


WRITERS = 8
APPENDS_EACH = 50


@pytest.mark.committing
@pytest.mark.postgres
def test_eight_concurrent_writers_leave_contiguous_seqs_and_a_valid_chain(app: Flask):
    """Eight threads, each its own app context, session and transaction per append, on one batch."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("row locks under concurrent writers are tested on PostgreSQL")
    ids = _committed_batch(app)
    errors: list[BaseException] = []
    start = threading.Barrier(WRITERS)

    def writer(n: int) -> None:
        try:
            start.wait()
            for i in range(APPENDS_EACH):
                with app.app_context():
                    user = db.session.get(User, ids["user"])
                    who = Actor(user=user, org=user.organization)
                    service.append_event(
                        ids["batch"],
                        who,
                        stage="storage",
                        occurred_at=dt.datetime(2026, 6, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=i),
                        data={"temperature_c": "4", "humidity_pct": "90", "warehouse": f"冷库{n}"},
                        idempotency_key=f"writer-{n}-{i}",
                    )
                    db.session.commit()
        except BaseException as exc:  # reported in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        with app.app_context():
            seqs = db.session.scalars(select(Event.seq).where(Event.batch_id == ids["batch"]).order_by(Event.seq))
            assert list(seqs) == list(range(1, WRITERS * APPENDS_EACH + 2))  # seq 1: the created record
            report = service.verify_batch(db.session.get(Batch, ids["batch"]))
            assert report.valid, report
            assert report.events == WRITERS * APPENDS_EACH + 1
    finally:
        _clean_up(app, ids)


def _committed_batch(app: Flask) -> dict[str, int]:
    with app.app_context():
        org = orgs.create_organization(
            code="CONCURRENCY-COOP",
            name="并发测试合作社",
            kind="cooperative",
            credit_code=valid_credit_code(987654321),
        )
        user = orgs.create_user(username="concurrency-writer", org_code=org.code, role="cooperative")
        batch = service.create_batch(
            Actor(user=user, org=org), product="lotus_root", quantity=Decimal("5000"), unit="kg"
        )
        ids = {"org": org.id, "user": user.id, "batch": batch.id}
        db.session.commit()
        return ids


def _clean_up(app: Flask, ids: dict[str, int]) -> None:
    with app.app_context():
        db.session.rollback()
        db.session.execute(delete(Event).where(Event.batch_id == ids["batch"]))
        db.session.execute(delete(BatchStandard).where(BatchStandard.batch_id == ids["batch"]))
        db.session.execute(delete(Batch).where(Batch.id == ids["batch"]))
        db.session.execute(delete(ApiToken).where(ApiToken.user_id == ids["user"]))
        db.session.execute(delete(User).where(User.id == ids["user"]))
        db.session.execute(delete(Organization).where(Organization.id == ids["org"]))
        db.session.commit()


def test_every_kind_of_record_fits_the_events_stage_column():
    # SQLite does not enforce a VARCHAR's length; PostgreSQL refuses the insert.
    from app.batches.vocabulary import RECORD_NAMES

    width = Event.__table__.c.stage.type.length
    assert [kind for kind in RECORD_NAMES if len(kind) > width] == []
