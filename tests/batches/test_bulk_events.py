"""Bulk logging: a cooperative records a day's harvest for many member households at once."""

from __future__ import annotations

from sqlalchemy import func, select

from app.batches.models import Event
from app.db import db
from tests.batches.conftest import at


def _count() -> int:
    return db.session.scalar(select(func.count(Event.id)))


def _harvest(batch_id: int, kg: str, day: str = "2026-05-12") -> dict:
    return {"batch": batch_id, "stage": "harvest", "occurred_at": at(day), "data": {"quantity": kg, "unit": "kg"}}


def test_a_cooperative_logs_many_lots_in_one_request(client, party, make_batch):
    coop = party("cooperative")
    lots = [make_batch(coop, product="loquat") for _ in range(5)]
    rows = [_harvest(b.id, str(100 + n)) for n, b in enumerate(lots)]
    # Two records for one lot keep their order: harvest, then storage.
    rows.append(
        {"batch": lots[0].id, "stage": "storage", "occurred_at": at("2026-05-12", "16:00"),
         "data": {"temperature_c": "5", "humidity_pct": "90"}}
    )  # fmt: skip
    response = client.post("/api/v1/events/bulk", json={"events": rows}, headers=coop.headers)
    assert response.status_code == 201, response.get_json()
    items = response.get_json()["items"]
    assert [i["lot_code"] for i in items] == [b.lot_code for b in lots] + [lots[0].lot_code]
    assert [i["seq"] for i in items] == [2, 2, 2, 2, 2, 3]
    assert items[1]["data"]["quantity"] == "101"
    for lot in lots:
        assert client.get(f"/api/v1/batches/{lot.id}/verify", headers=coop.headers).get_json()["valid"] is True


def test_one_bad_row_stores_nothing_and_every_bad_row_is_named(client, party, make_batch):
    coop = party("cooperative")
    stranger = party("cooperative")
    mine = [make_batch(coop, product="loquat") for _ in range(3)]
    theirs = make_batch(stranger, product="loquat")
    before = _count()
    rows = [
        _harvest(mine[0].id, "120"),
        {"batch": mine[1].id, "stage": "harvest", "occurred_at": at("2026-05-12"), "data": {"unit": "kg"}},
        _harvest(theirs.id, "80"),
        _harvest(mine[2].id, "95"),
        {
            "batch": 2147483000,
            "stage": "harvest",
            "occurred_at": at("2026-05-12"),
            "data": {"quantity": "1", "unit": "kg"},
        },
    ]
    response = client.post("/api/v1/events/bulk", json={"events": rows}, headers=coop.headers)
    assert response.status_code == 422
    body = response.get_json()
    errors = body["errors"]["json"]["events"]
    assert set(errors) == {"1", "2", "4"}
    assert "quantity" in errors["1"]["data"]
    assert "batch" in errors["2"]  # not this cooperative's lot (read as not found: no existence leak)
    assert "batch" in errors["4"]
    assert "nothing was stored" in body["message"]
    assert _count() == before


def test_a_retried_bulk_request_stores_nothing_new(client, party, make_batch):
    coop = party("cooperative")
    lots = [make_batch(coop, product="loquat") for _ in range(2)]
    rows = [_harvest(b.id, "50") for b in lots]
    headers = {**coop.headers, "Idempotency-Key": "coop-2026-05-12-harvest"}
    first = client.post("/api/v1/events/bulk", json={"events": rows}, headers=headers)
    assert first.status_code == 201
    after_first = _count()
    again = client.post("/api/v1/events/bulk", json={"events": rows}, headers=headers)
    assert again.status_code == 200
    assert [i["hash"] for i in again.get_json()["items"]] == [i["hash"] for i in first.get_json()["items"]]
    assert _count() == after_first
    rows[1]["data"]["quantity"] = "55"
    changed = client.post("/api/v1/events/bulk", json={"events": rows}, headers=headers)
    assert changed.status_code == 422
    assert "Idempotency-Key" in str(changed.get_json()["errors"]["json"]["events"]["1"])
    assert _count() == after_first


def test_limits_on_the_request(client, party):
    coop = party("cooperative")
    empty = client.post("/api/v1/events/bulk", json={"events": []}, headers=coop.headers)
    assert empty.status_code == 422 and "events" in empty.get_json()["errors"]["json"]
    too_many = [_harvest(1, "1")] * 201
    response = client.post("/api/v1/events/bulk", json={"events": too_many}, headers=coop.headers)
    assert response.status_code == 422 and "events" in response.get_json()["errors"]["json"]


def test_a_long_idempotency_key_fits_and_does_not_clash_with_single_events(client, party, make_batch):
    coop = party("cooperative")
    lot = make_batch(coop, product="loquat")
    key = "k" * 100
    response = client.post(
        "/api/v1/events/bulk",
        json={"events": [_harvest(lot.id, "10")]},
        headers={**coop.headers, "Idempotency-Key": key},
    )
    assert response.status_code == 201, response.get_json()
    single = client.post(
        f"/api/v1/batches/{lot.id}/events",
        json={
            "stage": "storage",
            "occurred_at": at("2026-05-13"),
            "data": {"temperature_c": "5", "humidity_pct": "90"},
        },
        headers={**coop.headers, "Idempotency-Key": f"{key[:98]}#0"},
    )
    assert single.status_code == 201  # a new event, not a replay of the bulk row
