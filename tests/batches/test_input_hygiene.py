"""Values a database cannot store as given are refused by name, and numbers hash as they come back."""

from __future__ import annotations

import json

from tests.batches.conftest import at


def _post_raw(client, url, text, headers):
    return client.post(url, data=text, content_type="application/json", headers=headers)


def test_whole_floats_and_negative_zero_still_verify(client, party, make_batch):
    """JSONB returns 1e16 as 10000000000000000 and -0.0 as 0: the chain must verify all the same."""
    owner = party("processor")
    batch = make_batch(owner)
    for stage, day in (("seedling", "2026-03-01"), ("planting", "2026-03-02"), ("harvest", "2026-03-03")):
        data = {"harvest": {"quantity": "5", "unit": "kg"}}.get(stage, {})
        assert client.post(
            f"/api/v1/batches/{batch.id}/events", json={"stage": stage, "occurred_at": at(day), "data": data},
            headers=owner.headers,
        ).status_code == 201  # fmt: skip
    step = {"name": "杀青", "started_at": at("2026-03-04"), "parameters": {"t": -0.0, "p": 1e16, "r": 0.1}}
    response = client.post(
        f"/api/v1/batches/{batch.id}/events",
        json={"stage": "processing", "occurred_at": at("2026-03-04"), "data": {"steps": [step]}},
        headers=owner.headers,
    )
    assert response.status_code == 201, response.get_json()
    verify = client.get(f"/api/v1/batches/{batch.id}/verify", headers=owner.headers).get_json()
    assert verify["valid"] is True, verify


def test_nan_nul_and_lone_surrogates_are_refused_by_field(client, party, make_batch):
    owner = party("processor")
    batch = make_batch(owner)
    url = f"/api/v1/batches/{batch.id}/events"
    surrogate = '{"stage": "seedling", "occurred_at": "2026-03-01T09:00:00+08:00", "data": {"note": "\\ud800"}}'
    response = _post_raw(client, url, surrogate, owner.headers)
    assert response.status_code == 422
    assert "data" in response.get_json()["errors"]["json"]
    nan = '{"stage": "seedling", "occurred_at": "2026-03-01T09:00:00+08:00", "data": {"count": NaN}}'
    response = _post_raw(client, url, nan, owner.headers)
    assert response.status_code == 422
    split = client.post(
        f"/api/v1/batches/{batch.id}/split", json={"parts": [{"quantity": "1", "lot_code": "A\u0000B"}]},
        headers=owner.headers,
    )  # fmt: skip
    assert split.status_code == 422
    assert "parts" in split.get_json()["errors"]["json"]
    # json.dumps writes NaN as a bare token, as a careless client would.
    body = json.dumps(
        {
            "inputs": [{"batch": batch.id, "quantity": "1"}],
            "outputs": [{"product": "brick_tea", "quantity": "1", "unit": "kg"}],
            "occurred_at": "2026-03-05T09:00:00+08:00",
            "process": {"x": float("nan")},
        }
    )
    response = _post_raw(client, "/api/v1/transformations", body, owner.headers)
    assert response.status_code == 422
    assert "process" in response.get_json()["errors"]["json"]
