"""What lineage and custody requests refuse before anything is stored: moments outside 1970..2100,
lot codes that could not go on a label, and yields that can only be a slip of units."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.batches.models import Batch, Event
from app.custody.models import Transfer
from app.db import db
from app.lineage.models import LineageEdge, Transformation
from app.security import MAX_TRANSFORMATION_OUTPUTS
from tests.lineage.factories import T0, expect

# Far enough out that moving them to UTC overflows; a year no record can carry anyway.
IMPLAUSIBLE = [
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
    "1969-12-31T23:59:59+00:00",
    "2100-01-02T00:00:00+00:00",
]
SHIPPED = (T0 + dt.timedelta(hours=1)).isoformat()


def counts() -> tuple[int, ...]:
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (Batch, LineageEdge, Transformation, Event, Transfer)
    )


@pytest.mark.parametrize("moment", IMPLAUSIBLE)
def test_implausible_moments_are_refused_by_field_on_every_lineage_request(client, auth, make_user, make_batch, moment):
    owner, receiver = make_user("cooperative"), make_user("retailer")
    headers = auth(user=owner)
    lot = make_batch(owner, "100", "kg")
    before = counts()
    requests = [
        (f"/api/v1/batches/{lot.id}/split", {"parts": [{"quantity": "1"}], "occurred_at": moment}),
        (
            "/api/v1/transformations",
            {
                "inputs": [{"batch": lot.id, "quantity": "1"}],
                "outputs": [{"product": "loquat", "quantity": "1", "unit": "kg"}],
                "occurred_at": moment,
            },
        ),
        (
            f"/api/v1/batches/{lot.id}/transfers",
            {"to_org": receiver.organization.code, "occurred_at": moment},
        ),
    ]
    for path, body in requests:
        refused = expect(client.post(path, json=body, headers=headers), 422)
        assert refused["errors"]["json"] == {"occurred_at": ["must be between 1970 and 2100"]}, path
    assert counts() == before

    # Accepting and rejecting a shipment take a moment too.
    shipped = expect(
        client.post(
            f"/api/v1/batches/{lot.id}/transfers",
            json={"to_org": receiver.organization.code, "occurred_at": SHIPPED},
            headers=headers,
        ),
        201,
    )
    before = counts()
    for verb, body in (("accept", {"occurred_at": moment}), ("reject", {"reason": "破损", "occurred_at": moment})):
        refused = expect(
            client.post(f"/api/v1/transfers/{shipped['id']}/{verb}", json=body, headers=auth(user=receiver)), 422
        )
        assert refused["errors"]["json"] == {"occurred_at": ["must be between 1970 and 2100"]}, verb
    assert counts() == before


@pytest.mark.parametrize("code", ["   ", " LOT-1", "LOT 1", "批次一", "-LOT", "L" * 41, ""])
def test_lot_codes_of_parts_and_outputs_follow_the_batch_rule(client, auth, make_user, make_batch, code):
    owner = make_user("processor")
    headers = auth(user=owner)
    lot = make_batch(owner, "100", "kg")
    before = counts()
    split = expect(
        client.post(
            f"/api/v1/batches/{lot.id}/split",
            json={"parts": [{"quantity": "1", "lot_code": "XN-PART-1"}, {"quantity": "1", "lot_code": code}]},
            headers=headers,
        ),
        422,
    )
    assert list(split["errors"]["json"]) == ["parts"]
    assert list(split["errors"]["json"]["parts"]) == ["1"]
    assert list(split["errors"]["json"]["parts"]["1"]) == ["lot_code"]
    made = expect(
        client.post(
            "/api/v1/transformations",
            json={
                "inputs": [{"batch": lot.id, "quantity": "1"}],
                "outputs": [{"product": "loquat", "quantity": "1", "unit": "kg", "lot_code": code}],
                "occurred_at": SHIPPED,
            },
            headers=headers,
        ),
        422,
    )
    assert list(made["errors"]["json"]["outputs"]["0"]) == ["lot_code"]
    assert counts() == before


def test_a_lot_code_like_a_batch_code_is_kept(client, auth, make_user, make_batch):
    owner = make_user("processor")
    lot = make_batch(owner, "100", "kg")
    body = expect(
        client.post(
            f"/api/v1/batches/{lot.id}/split",
            json={"parts": [{"quantity": "1", "lot_code": "XN-2026/part_1.a"}]},
            headers=auth(user=owner),
        ),
        201,
    )
    assert body["outputs"][0]["lot_code"] == "XN-2026/part_1.a"


def test_an_absurd_yield_is_refused_as_a_slip_of_units(client, auth, make_user, make_batch):
    """One gram pressed into a billion tonnes: a 422 naming the outputs, not a numeric overflow."""
    owner = make_user("processor")
    headers = auth(user=owner)
    grams = make_batch(owner, "1", "g", product="camellia_oil")
    before = counts()
    refused = expect(
        client.post(
            "/api/v1/transformations",
            json={
                "inputs": [{"batch": grams.id, "quantity": "1"}],
                "outputs": [{"product": "camellia_oil", "quantity": "1000000000", "unit": "t"}],
                "occurred_at": SHIPPED,
            },
            headers=headers,
        ),
        422,
    )
    [reason] = refused["errors"]["json"]["outputs"]
    assert "check the units" in reason
    assert counts() == before

    # The most outputs a request may carry, each as large as a quantity may be, still refused cleanly.
    huge = [{"product": "camellia_oil", "quantity": "999999999999999", "unit": "t"}] * MAX_TRANSFORMATION_OUTPUTS
    refused = expect(
        client.post(
            "/api/v1/transformations",
            json={"inputs": [{"batch": grams.id, "quantity": "0.001"}], "outputs": huge, "occurred_at": SHIPPED},
            headers=headers,
        ),
        422,
    )
    assert "check the units" in refused["errors"]["json"]["outputs"][0]
    assert counts() == before

    # Below the bound the yield is recorded as given, however high.
    kept = expect(
        client.post(
            "/api/v1/transformations",
            json={
                "inputs": [{"batch": grams.id, "quantity": "1"}],
                "outputs": [{"product": "camellia_oil", "quantity": "999", "unit": "g"}],
                "occurred_at": SHIPPED,
            },
            headers=headers,
        ),
        201,
    )
    assert Decimal(kept["transformation"]["yield_pct"]) == Decimal("99900")
