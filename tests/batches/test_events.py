"""Appending events: stage data per product, stage order, custody, idempotency and amendments."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from app.batches.models import Batch, BatchStatus, Event
from app.catalog.products import PRODUCTS
from app.db import db
from tests.batches.conftest import STAGE_DATA, at, post_event
from tests.conftest import settle


def _stored(batch_id: int) -> int:
    # Every batch's chain opens with its ``created`` record; count what was posted.
    return db.session.scalar(select(func.count(Event.id)).where(Event.batch_id == batch_id, Event.stage != "created"))


def _journey(client, who, batch_id, raw=False):
    response = client.get(f"/api/v1/batches/{batch_id}/events" + ("?raw=1" if raw else ""), headers=who.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


@pytest.mark.parametrize("product", sorted(PRODUCTS))
def test_every_product_takes_its_own_stages_in_order(client, party, make_batch, product):
    owner = party("processor")
    batch = make_batch(owner, product=product)
    stages = [s for s in PRODUCTS[product].stages if s != "after_sale"]
    for n, stage in enumerate(stages, start=1):
        response = post_event(client, owner, batch.id, stage, day=f"2026-05-{n:02d}")
        assert response.status_code == 201, (stage, response.get_json())
        event = response.get_json()
        assert event["seq"] == n + 1 and event["stage"] == stage  # seq 1: the created record
        assert event["actor_org"]["code"] == owner.org.code
        assert event["actor_user"] == owner.user.username
        assert len(event["hash"]) == 64
    journey = _journey(client, owner, batch.id)
    assert [e["stage"] for e in journey["items"]] == stages
    assert [e["seq"] for e in journey["items"]] == list(range(2, len(stages) + 2))
    assert journey["items"][0]["occurred_at"] == "2026-05-01T01:00:00+00:00"
    assert all(e["amended"] is False and e["amendments"] == [] for e in journey["items"])


@pytest.mark.parametrize(
    ("product", "stage", "data", "field"),
    [
        ("brick_tea", "harvest", {"unit": "kg"}, "quantity"),
        ("brick_tea", "harvest", {"quantity": "-3", "unit": "kg"}, "quantity"),
        ("loquat", "harvest", {"quantity": "90", "unit": "kg", "brix": "sweet"}, "brix"),
        ("osmanthus", "harvest", {"quantity": "90", "unit": "kg", "variety": "玫瑰"}, "variety"),
        ("lotus_root", "storage", {"temperature_c": "4"}, "humidity_pct"),
        ("camellia_oil", "transport", {"vehicle": "鄂L·12345", "origin": "通城县"}, "destination"),
        ("mahua", "packing", {"package": "袋", "count": 0}, "count"),
        ("loquat", "sale", {"channel": "超市", "price": "12.5"}, "price"),
        ("brick_tea", "planting", {"inputs": [{"kind": "herbicide", "name": "x", "dose": "1"}]}, "inputs"),
    ],
)
def test_stage_data_is_validated_per_product_naming_the_field(client, party, make_batch, product, stage, data, field):
    owner = party("processor")
    batch = make_batch(owner, product=product)
    response = client.post(
        f"/api/v1/batches/{batch.id}/events",
        json={"stage": stage, "occurred_at": at("2026-05-01"), "data": data},
        headers=owner.headers,
    )
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]["json"]["data"]
    assert _stored(batch.id) == 0


@pytest.mark.parametrize(("product", "stage"), [("loquat", "processing"), ("mahua", "planting"), ("mahua", "harvest")])
def test_a_stage_the_product_does_not_have_is_refused(client, party, make_batch, product, stage):
    owner = party("processor")
    batch = make_batch(owner, product=product)
    response = post_event(client, owner, batch.id, stage)
    assert response.status_code == 422
    assert "stage" in response.get_json()["errors"]["json"]


def test_a_brick_tea_processing_event_keeps_its_steps_and_parameters(client, party, make_batch):
    owner = party("processor")
    batch = make_batch(owner)
    steps = [
        {"name": name, "started_at": at(f"2026-06-{n:02d}"), "parameters": params}
        for n, (name, params) in enumerate(
            [
                ("杀青", {"temperature_c": 280, "minutes": 3}),
                ("揉捻", {"minutes": 25}),
                ("渥堆", {"days": 20, "temperature_c": "55-65"}),
                ("压制", {"pressure_mpa": 15, "brick_kg": 2}),
                ("干燥", {"days": 30, "temperature_c": 45}),
            ],
            start=1,
        )
    ]
    response = client.post(
        f"/api/v1/batches/{batch.id}/events",
        json={"stage": "processing", "occurred_at": at("2026-07-01"), "data": {"steps": steps}},
        headers=owner.headers,
    )
    assert response.status_code == 201, response.get_json()
    stored = _journey(client, owner, batch.id)["items"][0]["data"]["steps"]
    assert [s["name"] for s in stored] == ["杀青", "揉捻", "渥堆", "压制", "干燥"]
    assert stored[2]["parameters"] == {"days": 20, "temperature_c": "55-65"}


def test_an_earlier_stage_after_a_later_one_is_refused_but_storage_and_transport_repeat(client, party, make_batch):
    owner = party("cooperative")
    batch = make_batch(owner, product="loquat")
    for stage in ("harvest", "packing"):
        assert post_event(client, owner, batch.id, stage).status_code == 201
    late = post_event(client, owner, batch.id, "harvest")
    assert late.status_code == 422
    assert "packing" in late.get_json()["errors"]["json"]["stage"][0]
    for stage in ("storage", "transport", "storage", "transport", "sale", "storage"):
        response = post_event(client, owner, batch.id, stage)
        assert response.status_code == 201, (stage, response.get_json())
    assert post_event(client, owner, batch.id, "packing").status_code == 422
    assert [e["stage"] for e in _journey(client, owner, batch.id)["items"]] == [
        "harvest", "packing", "storage", "transport", "storage", "transport", "sale", "storage",
    ]  # fmt: skip


def test_occurred_at_must_carry_a_zone_and_not_be_in_the_future(client, party, make_batch):
    owner = party("farmer")
    batch = make_batch(owner, product="loquat")
    url = f"/api/v1/batches/{batch.id}/events"
    body = {"stage": "harvest", "data": STAGE_DATA["harvest"]}
    naive = client.post(url, json={**body, "occurred_at": "2026-05-01T09:00:00"}, headers=owner.headers)
    assert naive.status_code == 422
    assert "occurred_at" in naive.get_json()["errors"]["json"]
    future = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10)
    english = {**owner.headers, "Accept-Language": "en"}
    ahead = client.post(url, json={**body, "occurred_at": future.isoformat()}, headers=english)
    assert ahead.status_code == 422
    assert "future" in ahead.get_json()["errors"]["json"]["occurred_at"][0]
    # A phone clock a minute fast is within the five minutes' grace.
    skew = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)
    assert client.post(url, json={**body, "occurred_at": skew.isoformat()}, headers=owner.headers).status_code == 201
    assert _stored(batch.id) == 1


def test_unknown_fields_in_the_event_body_are_refused(client, party, make_batch):
    owner = party("farmer")
    batch = make_batch(owner, product="loquat")
    response = post_event(client, owner, batch.id, "harvest", weather="晴")
    assert response.status_code == 422
    assert "weather" in response.get_json()["errors"]["json"]
    assert _stored(batch.id) == 0


def test_only_the_custodian_writes(client, party, make_org, make_batch):
    coop = party("cooperative")
    member = party("farmer", org=make_org(kind="farm_household", cooperative_code=coop.org.code))
    batch = make_batch(coop, product="loquat", producer=member.org.code)
    # The producer and an inspector may read the batch, but neither holds it.
    for reader in (member, party("inspector")):
        refused = post_event(client, reader, batch.id, "harvest")
        assert refused.status_code == 403
        assert coop.org.code in refused.get_json()["message"]
    # Someone who may not even read it learns nothing about it.
    assert post_event(client, party("farmer"), batch.id, "harvest").status_code == 404
    assert _stored(batch.id) == 0
    assert post_event(client, coop, batch.id, "harvest").status_code == 201


def test_a_recalled_batch_takes_no_more_events(client, party, make_batch):
    owner = party("processor")
    batch = make_batch(owner, product="mahua")
    db.session.get(Batch, batch.id).status = BatchStatus.recalled
    settle()
    response = post_event(client, owner, batch.id, "processing")
    assert response.status_code == 409
    assert _stored(batch.id) == 0


def test_a_retry_with_the_same_idempotency_key_stores_nothing_new(client, party, make_batch):
    owner = party("farmer")
    batch = make_batch(owner, product="loquat")
    first = post_event(client, owner, batch.id, "harvest", key="phone-7f3a-0001")
    retry = post_event(client, owner, batch.id, "harvest", key="phone-7f3a-0001")
    assert first.status_code == 201
    assert retry.status_code == 200
    assert retry.get_json() == first.get_json()
    assert _stored(batch.id) == 1
    batch_out = client.get(f"/api/v1/batches/{batch.id}", headers=owner.headers).get_json()
    assert batch_out["events"] == 2 and batch_out["head_hash"] == first.get_json()["hash"]

    other_body = post_event(client, owner, batch.id, "harvest", key="phone-7f3a-0001", day="2026-05-02")
    assert other_body.status_code == 409
    assert "Idempotency-Key" in other_body.get_json()["message"]
    assert _stored(batch.id) == 1
    # Without a key, or with a fresh one, each request is a new event.
    assert post_event(client, owner, batch.id, "storage").status_code == 201
    assert post_event(client, owner, batch.id, "storage").status_code == 201
    assert post_event(client, owner, batch.id, "storage", key="phone-7f3a-0002").status_code == 201
    assert _stored(batch.id) == 4


def test_an_idempotency_key_is_one_batchs_and_one_organizations(client, party, make_batch):
    owner = party("processor")
    one, two = make_batch(owner, product="mahua"), make_batch(owner, product="mahua")
    assert post_event(client, owner, one.id, "processing", key="k-1").status_code == 201
    assert post_event(client, owner, two.id, "processing", key="k-1").status_code == 201
    # An inspector reusing the key gets no one's event back: it is refused as any write would be.
    other = post_event(client, party("inspector"), one.id, "processing", key="k-1")
    assert other.status_code == 403
    assert "hash" not in other.get_json()


def test_an_over_long_idempotency_key_is_refused(client, party, make_batch):
    owner = party("farmer")
    batch = make_batch(owner, product="loquat")
    response = post_event(client, owner, batch.id, "harvest", key="k" * 101)
    assert response.status_code == 422
    assert "Idempotency-Key" in response.get_json()["errors"]["headers"]
    assert _stored(batch.id) == 0


def _amend(client, owner, batch_id, seq, data, **extra):
    body = {"stage": "amendment", "occurred_at": at("2026-05-03"), "amends_seq": seq, "data": data, **extra}
    return client.post(f"/api/v1/batches/{batch_id}/events", json=body, headers=owner.headers)


def test_an_amendment_shows_the_corrected_value_and_keeps_the_history(client, party, make_batch):
    owner = party("cooperative")
    batch = make_batch(owner, product="loquat")
    post_event(client, owner, batch.id, "harvest", data={"quantity": "100", "unit": "kg", "variety": "白玉"})
    post_event(client, owner, batch.id, "storage")
    first = _amend(client, owner, batch.id, 2, {"reason": "过磅记错", "data": {"quantity": "120", "unit": "kg"}})
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["stage"] == "amendment" and first.get_json()["amends_seq"] == 2
    second = _amend(
        client, owner, batch.id, 2, {"reason": "补记品种", "data": {"quantity": "120", "unit": "kg", "variety": "白玉"}}
    )
    assert second.status_code == 201

    journey = _journey(client, owner, batch.id)
    assert [e["seq"] for e in journey["items"]] == [2, 3]  # amendments fold into what they correct
    harvest = journey["items"][0]
    assert harvest["amended"] is True
    assert harvest["data"] == {"quantity": "120", "unit": "kg", "variety": "白玉"}
    assert [a["seq"] for a in harvest["amendments"]] == [4, 5]
    assert [a["reason"] for a in harvest["amendments"]] == ["过磅记错", "补记品种"]
    assert harvest["amendments"][0]["data"] == {"quantity": "120", "unit": "kg"}
    assert journey["items"][1]["amended"] is False

    raw = _journey(client, owner, batch.id, raw=True)["events"]
    assert [e["stage"] for e in raw] == ["created", "harvest", "storage", "amendment", "amendment"]
    assert raw[1]["data"]["quantity"] == "100"  # the original is never rewritten
    assert [e["prev_hash"] for e in raw[1:]] == [e["hash"] for e in raw[:-1]]
    assert "events" not in _journey(client, owner, batch.id)


@pytest.mark.parametrize(
    ("seq", "data", "where"),
    [
        (2, {"data": {"quantity": "120", "unit": "kg"}}, ("data", "reason")),
        (2, {"reason": "  ", "data": {"quantity": "120", "unit": "kg"}}, ("data", "reason")),
        (2, {"reason": "过磅记错"}, ("data", "data")),
        (2, {"reason": "过磅记错", "data": {"quantity": "lots", "unit": "kg"}}, ("data", "data")),
        (2, {"reason": "过磅记错", "data": {"quantity": "1", "unit": "kg"}, "by": "me"}, ("data", "by")),
        (9, {"reason": "过磅记错", "data": {"quantity": "120", "unit": "kg"}}, ("amends_seq",)),
        (None, {"reason": "过磅记错", "data": {"quantity": "120", "unit": "kg"}}, ("amends_seq",)),
    ],
)
def test_a_bad_amendment_is_refused_naming_the_field(client, party, make_batch, seq, data, where):
    owner = party("farmer")
    batch = make_batch(owner, product="loquat")
    post_event(client, owner, batch.id, "harvest")
    extra = {} if seq is None else {"amends_seq": seq}
    body = {"stage": "amendment", "occurred_at": at("2026-05-03"), "data": data, **extra}
    response = client.post(f"/api/v1/batches/{batch.id}/events", json=body, headers=owner.headers)
    assert response.status_code == 422, response.get_json()
    errors = response.get_json()["errors"]["json"]
    for key in where:
        assert key in errors, errors
        errors = errors[key]
    assert _stored(batch.id) == 1


def test_only_an_amendment_names_a_seq(client, party, make_batch):
    owner = party("farmer")
    batch = make_batch(owner, product="loquat")
    post_event(client, owner, batch.id, "harvest")
    response = post_event(client, owner, batch.id, "storage", amends_seq=1)
    assert response.status_code == 422
    assert "amends_seq" in response.get_json()["errors"]["json"]


def test_a_system_record_cannot_be_posted_as_a_stage(client, party, make_batch):
    owner = party("farmer")
    batch = make_batch(owner, product="loquat")
    response = post_event(client, owner, batch.id, "recall", data={})
    assert response.status_code == 422
    assert "stage" in response.get_json()["errors"]["json"]


def test_nul_characters_are_refused_before_they_reach_the_database(client, party, make_batch):
    owner = party("farmer")
    batch = make_batch(owner, product="loquat")
    response = post_event(client, owner, batch.id, "sale", data={"channel": "超市\x00"})
    assert response.status_code == 422
    assert "data" in response.get_json()["errors"]["json"]
