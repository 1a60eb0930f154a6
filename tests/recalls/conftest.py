"""Recall test fixtures: a small supply chain with lineage, custody moves and a sale."""

from __future__ import annotations

import datetime as dt

import pytest

from app.batches import service
from app.batches.models import Batch
from app.db import db
from tests.lineage.factories import (
    T0,
    actor_of,
    expect,
    make_batch,  # noqa: F401  (a fixture)
)


def later(hours: float) -> str:
    return (T0 + dt.timedelta(hours=hours)).isoformat()


@pytest.fixture
def chain(client, auth, make_user, make_org, make_batch):  # noqa: F811  (make_batch: the fixture above)
    """Two households' loquats merged by their cooperative, the lot split into three: one sold
    by a retailer, one on its way to a logistics firm, one still at the cooperative."""
    coop = make_org(kind="cooperative", name="通山县大畈枇杷专业合作社")
    coop_user = make_user("cooperative", org=coop)
    households = [make_org(kind="farm_household", cooperative_code=coop.code, name=n) for n in ("陈家", "王家")]
    farmer = make_user("farmer", org=households[0])
    retailer = make_user("retailer", org=make_org(kind="retailer", name="咸宁优品超市", county="咸安区"))
    carrier = make_user("logistics", org=make_org(kind="logistics", name="通山冷链物流"))
    coop_headers = auth(user=coop_user)

    lots = [make_batch(coop_user, q, "kg", producer=h.code) for q, h in zip(("40", "60"), households, strict=True)]
    unrelated = make_batch(coop_user, "10", "kg", producer=households[1].code)
    merged = expect(
        client.post(
            "/api/v1/transformations",
            json={
                "inputs": [{"batch": lots[0].id, "quantity": "40"}, {"batch": lots[1].id, "quantity": "60"}],
                "outputs": [{"product": "loquat", "quantity": "100", "unit": "kg"}],
                "occurred_at": later(1),
            },
            headers=coop_headers,
        ),
        201,
    )["outputs"][0]
    packs = expect(
        client.post(
            f"/api/v1/batches/{merged['id']}/split",
            json={"parts": [{"quantity": "30"}, {"quantity": "30"}, {"quantity": "40"}], "occurred_at": later(2)},
            headers=coop_headers,
        ),
        201,
    )["outputs"]
    sold, moving, kept = (db.session.get(Batch, p["id"]) for p in packs)

    shipped = expect(
        client.post(
            f"/api/v1/batches/{sold.id}/transfers",
            json={"to_org": retailer.organization.code, "occurred_at": later(3), "transport": {"waybill": "WB-88"}},
            headers=coop_headers,
        ),
        201,
    )
    expect(client.post(f"/api/v1/transfers/{shipped['id']}/accept", json={}, headers=auth(user=retailer)), 200)
    sale = service.append_event(
        sold.id,
        actor_of(retailer),
        stage="sale",
        occurred_at=T0 + dt.timedelta(hours=5),
        data={"channel": "门店 store", "buyer": "零售顾客"},
    ).event
    on_the_road = expect(
        client.post(
            f"/api/v1/batches/{moving.id}/transfers",
            json={"to_org": carrier.organization.code, "occurred_at": later(4)},
            headers=coop_headers,
        ),
        201,
    )
    return {
        "coop": coop,
        "coop_user": coop_user,
        "farmer": farmer,
        "households": households,
        "retailer": retailer,
        "carrier": carrier,
        "lots": lots,
        "unrelated": unrelated,
        "merged": db.session.get(Batch, merged["id"]),
        "sold": sold,
        "moving": moving,
        "kept": kept,
        "sale": sale,
        "shipped": shipped,
        "on_the_road": on_the_road,
    }
