"""The capture paths in a fixed number of statements: a bulk request costs the same however many
rows and lots it carries, and what one row of it may lean on (an event of the same request, the
verdict judged with every row in place) still holds."""

from __future__ import annotations

from sqlalchemy import select

from app.batches.models import Batch, Event
from app.compliance.models import BatchVerdict, Finding
from app.db import db
from tests.batches.conftest import at
from tests.statements import counted


def _storage(batch_id: int, n: int) -> dict:
    return {"batch": batch_id, "stage": "storage", "occurred_at": at("2026-05-12", f"{8 + n % 10:02d}:00"),
            "data": {"temperature_c": "5", "humidity_pct": "90"}}  # fmt: skip


def _bulk(client, owner, rows):
    return client.post("/api/v1/events/bulk", json={"events": rows}, headers=owner.headers)


def test_a_bulk_request_sends_as_many_statements_for_200_rows_on_20_lots_as_for_2_rows_on_one(
    client, party, make_batch
):
    coop = party("cooperative")
    few, many = make_batch(coop, product="loquat"), [make_batch(coop, product="loquat") for _ in range(20)]
    _bulk(client, coop, [_storage(few.id, 0)])  # the token and the app warm up outside the count
    ids = [b.id for b in many]
    two, two_hundred = [_storage(few.id, n) for n in range(2)], [_storage(ids[n % 20], n) for n in range(200)]

    with counted() as small:
        assert _bulk(client, coop, two).status_code == 201
    with counted() as large:
        response = _bulk(client, coop, two_hundred)
        assert response.status_code == 201
    assert len(large) == len(small), (len(small), len(large))
    inserts = [s for s in large if s.lstrip().upper().startswith("INSERT INTO EVENTS")]
    assert len(inserts) == 1  # the 200 events in one multi-row statement
    for lot in many:
        assert client.get(f"/api/v1/batches/{lot.id}/verify", headers=coop.headers).get_json()["valid"] is True
    seqs = [i["seq"] for i in response.get_json()["items"] if i["batch"] == ids[0]]
    assert seqs == list(range(2, 12))  # after the created record, in request order


def test_a_single_append_sends_as_many_statements_on_a_long_journey_as_on_a_new_lot(client, party, make_batch):
    coop = party("cooperative")
    fresh, long = make_batch(coop, product="loquat"), make_batch(coop, product="loquat")
    assert _bulk(client, coop, [_storage(long.id, n) for n in range(60)]).status_code == 201

    def one(batch: Batch) -> list[str]:
        body = {"stage": "harvest", "occurred_at": at("2026-05-13"), "data": {"quantity": "10", "unit": "kg"}}
        path = f"/api/v1/batches/{batch.id}/events"
        with counted() as statements:
            response = client.post(path, json=body, headers=coop.headers)
            assert response.status_code == 201, response.get_json()
        return statements

    one(make_batch(coop, product="loquat"))  # warm-up
    assert len(one(long)) == len(one(fresh))


def test_an_amendment_may_correct_an_event_of_the_same_bulk_request(client, party, make_batch):
    coop = party("cooperative")
    lot = make_batch(coop, product="loquat")
    rows = [
        {"batch": lot.id, "stage": "harvest", "occurred_at": at("2026-05-12"),
         "data": {"quantity": "120", "unit": "kg"}},
        {"batch": lot.id, "stage": "amendment", "occurred_at": at("2026-05-12", "18:00"), "amends_seq": 2,
         "data": {"reason": "过磅复核", "data": {"quantity": "118", "unit": "kg"}}},
    ]  # fmt: skip
    response = _bulk(client, coop, rows)
    assert response.status_code == 201, response.get_json()
    journey = client.get(f"/api/v1/batches/{lot.id}/events", headers=coop.headers).get_json()["items"]
    harvest = next(e for e in journey if e["stage"] == "harvest")
    assert harvest["data"]["quantity"] == "118" and harvest["amended"] is True


def test_a_refused_bulk_request_leaves_every_head_and_verdict_as_it_was(client, party, make_batch):
    coop = party("cooperative")
    lots = [make_batch(coop, product="loquat") for _ in range(3)]
    before = {b.id: (b.head_seq, b.head_hash) for b in lots}
    rows = [
        _storage(lots[0].id, 0),
        _storage(lots[1].id, 1),
        {**_storage(lots[2].id, 2), "data": {"humidity_pct": "x"}},
    ]
    assert _bulk(client, coop, rows).status_code == 422
    db.session.expire_all()
    after = {b.id: (b.head_seq, b.head_hash) for b in db.session.scalars(select(Batch).where(Batch.id.in_(before)))}
    assert after == before
    assert db.session.scalar(select(Event.id).where(Event.batch_id.in_(before), Event.seq > 1)) is None
    # The request's good rows go in once the bad one is fixed, chained on the heads as they were.
    rows[2] = _storage(lots[2].id, 2)
    assert _bulk(client, coop, rows).status_code == 201
    for lot in lots:
        assert client.get(f"/api/v1/batches/{lot.id}/verify", headers=coop.headers).get_json()["valid"] is True


def test_a_spraying_and_a_harvest_in_one_request_are_judged_together(client, party, make_batch):
    """The verdict is judged once per lot and request, with every row of the request in place."""
    coop = party("cooperative")
    lot = make_batch(coop, product="loquat")
    planting = {"inputs": [{"kind": "pesticide", "name": "吡虫啉", "registration_no": "PD20080001", "dose": "30",
                            "dose_unit": "g/亩", "applied_at": at("2026-05-01"), "phi_days": 14}]}  # fmt: skip
    rows = [
        {"batch": lot.id, "stage": "planting", "occurred_at": at("2026-05-01"), "data": planting},
        {
            "batch": lot.id,
            "stage": "harvest",
            "occurred_at": at("2026-05-05"),
            "data": {"quantity": "80", "unit": "kg"},
        },
    ]
    assert _bulk(client, coop, rows).status_code == 201
    stored = db.session.get(BatchVerdict, lot.id, populate_existing=True)
    assert stored is not None and stored.verdict == "fail"
    opened = db.session.scalars(select(Finding).where(Finding.batch_id == lot.id)).all()
    assert [f.kind for f in opened] == ["pre_harvest_interval"]
    compliance = client.get(f"/api/v1/batches/{lot.id}/compliance", headers=coop.headers).get_json()
    assert compliance["verdict"] == "fail"
