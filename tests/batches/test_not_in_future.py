"""Invariant 5's "not in the future": one refusal, naming the field, in the caller's language."""

from __future__ import annotations

import datetime as dt

import pytest

from app import clock

WORDS = {"zh": "不能晚于当前时间五分钟以上", "en": "cannot be more than five minutes in the future"}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_moment_in_the_future_is_refused_by_name(client, party, make_batch, lang):
    # Taken when the test runs, not when the module is collected: a loaded machine's suite may
    # reach this test more than five minutes after collecting it.
    future = (dt.datetime.now(dt.UTC) + clock.MAX_CLOCK_SKEW + dt.timedelta(minutes=5)).isoformat()
    farmer = party("farmer")
    headers = {**farmer.headers, "Accept-Language": lang}
    body = {"product": "brick_tea", "quantity": "5", "unit": "kg", "produced_at": future}
    created = client.post("/api/v1/batches", json=body, headers=headers)
    assert created.status_code == 422
    assert created.get_json()["errors"]["json"] == {"produced_at": [WORDS[lang]]}
    assert created.get_json()["message"] == f"produced_at: {WORDS[lang]}"

    batch = make_batch(farmer)
    event = {"stage": "seedling", "occurred_at": future, "data": {}}
    appended = client.post(f"/api/v1/batches/{batch.id}/events", json=event, headers=headers)
    assert appended.status_code == 422
    assert appended.get_json()["errors"]["json"] == {"occurred_at": [WORDS[lang]]}


def test_a_phone_clock_a_little_fast_is_not_refused():
    now = dt.datetime(2026, 5, 1, 8, tzinfo=dt.UTC)
    clock.refuse_future("occurred_at", now + clock.MAX_CLOCK_SKEW, now)
    clock.refuse_future("produced_at", None, now)
