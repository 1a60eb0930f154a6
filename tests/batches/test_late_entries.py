"""Late entries (补录): the stage order compares when things happened, not the order they were recorded."""

from __future__ import annotations

from tests.batches.conftest import at, post_event


def _journey(client, who, batch_id):
    response = client.get(f"/api/v1/batches/{batch_id}/events?raw=1", headers=who.headers)
    assert response.status_code == 200
    return response.get_json()


def test_a_forgotten_planting_is_accepted_before_the_harvest_and_marked_late(client, party, make_batch):
    owner = party("cooperative")
    batch = make_batch(owner, product="loquat")
    assert post_event(client, owner, batch.id, "harvest", day="2026-05-10").status_code == 201
    pesticide = {
        "kind": "pesticide", "name": "多菌灵", "dose": "50", "dose_unit": "mL/亩",
        "applied_at": at("2026-05-01"), "phi_days": 21,
    }  # fmt: skip
    late = post_event(client, owner, batch.id, "planting", day="2026-03-02", data={"inputs": [pesticide]})
    assert late.status_code == 201, late.get_json()
    journey = _journey(client, owner, batch.id)
    # Told in the order it happened, chained in the order it was recorded.
    assert [(e["stage"], e["seq"], e["late"]) for e in journey["items"]] == [
        ("planting", 3, True),
        ("harvest", 2, False),
        ("hold", 4, False),  # the planting puts the harvest inside its interval: the lot fails
    ]
    assert [e["stage"] for e in journey["events"]] == ["created", "harvest", "planting", "hold"]
    assert client.get(f"/api/v1/batches/{batch.id}/verify", headers=owner.headers).get_json()["valid"] is True


def test_the_late_planting_brings_the_lot_under_the_pre_harvest_check(client, party, make_batch, auth):
    owner = party("cooperative")
    batch = make_batch(owner, product="loquat")
    assert post_event(client, owner, batch.id, "harvest", day="2026-05-10").status_code == 201
    pesticide = {
        "kind": "pesticide", "name": "多菌灵", "dose": "50", "dose_unit": "mL/亩",
        "applied_at": at("2026-05-01"), "phi_days": 21,
    }  # fmt: skip
    assert (
        post_event(client, owner, batch.id, "planting", day="2026-03-02", data={"inputs": [pesticide]}).status_code
        == 201
    )
    body = client.get(f"/api/v1/batches/{batch.id}/compliance", headers=auth("inspector")).get_json()
    [check] = body["pre_harvest"]
    assert check["pesticide"] == "多菌灵" and check["breached"] is True
    assert [f["kind"] for f in body["findings"]] == ["pre_harvest_interval"]


def test_a_stage_dated_out_of_order_is_still_refused(client, party, make_batch):
    owner = party("cooperative")
    batch = make_batch(owner, product="loquat")
    assert post_event(client, owner, batch.id, "harvest", day="2026-05-10").status_code == 201
    after = post_event(client, owner, batch.id, "seedling", day="2026-05-11")
    assert after.status_code == 422 and "harvest" in after.get_json()["errors"]["json"]["stage"][0]
    before = post_event(client, owner, batch.id, "packing", day="2026-05-09")
    assert before.status_code == 422 and "harvest" in before.get_json()["errors"]["json"]["stage"][0]
    assert [e["stage"] for e in _journey(client, owner, batch.id)["events"]] == ["created", "harvest"]
