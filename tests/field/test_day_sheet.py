"""A cooperative's day: one sheet records the same stage for many member lots, all or nothing."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.auth import Actor
from app.batches import service as batches
from app.batches.models import Batch, Event
from app.db import db
from app.field.models import EnteredQuantity
from tests.conftest import settle


@pytest.fixture
def ten_lots(coop, make_org):
    households = [
        make_org(kind="farm_household", name=f"农户{n:02d}", cooperative_code=coop.org.code) for n in range(10)
    ]
    actor = Actor(user=coop.user, org=coop.org)
    lots = [
        batches.create_batch(actor, product="loquat", quantity=Decimal(100), unit="kg", producer=h.code)
        for h in households
    ]
    settle()
    return lots


def _sheet(client, data):
    page = client.get("/field/day?product=loquat&stage=harvest").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page)[1]
    return page, client.post(
        "/field/day?product=loquat&stage=harvest", data={"csrf_token": token, "idempotency_key": key, **data}
    )


def _harvests():
    return db.session.scalar(select(func.count(Event.id)).where(Event.stage == "harvest"))


def test_ten_households_harvest_on_one_sheet(signed_in, coop, ten_lots):
    client = signed_in(coop.user)
    rows = {f"lot-{lot.id}-quantity": str(40 + n) for n, lot in enumerate(ten_lots)}
    rows |= {f"lot-{lot.id}-quantity-unit": "斤" for lot in ten_lots}
    page, response = _sheet(client, {"occurred_at": "2026-05-10T07:00", "grade": "一级", **rows})
    assert page.count("<fieldset data-lot=") == 10 and "农户00" in page
    assert response.status_code == 302 and "day_recorded=10" in response.headers["Location"]
    for n, lot in enumerate(ten_lots):
        created, event = db.session.scalars(select(Event).where(Event.batch_id == lot.id).order_by(Event.seq))
        assert (created.stage, event.stage, event.seq) == ("created", "harvest", 2)
        assert event.data == {"quantity": str(Decimal(40 + n) / 2 + Decimal("0.000")), "unit": "kg", "grade": "一级"}
    assert db.session.scalar(select(func.count(EnteredQuantity.id)).where(EnteredQuantity.unit == "斤")) == 10
    assert "已一起记录 10 个批次" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_one_bad_row_is_named_and_nothing_is_stored(signed_in, coop, ten_lots):
    client = signed_in(coop.user)
    first, second, third = ten_lots[:3]
    rows = {
        f"lot-{first.id}-quantity": "40", f"lot-{first.id}-quantity-unit": "斤",
        f"lot-{second.id}-quantity": "四十", f"lot-{second.id}-quantity-unit": "斤",
        f"lot-{third.id}-quantity": "30", f"lot-{third.id}-quantity-unit": "公斤",
    }  # fmt: skip
    _, response = _sheet(client, {"occurred_at": "2026-05-10T07:00", **rows})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and f"{second.lot_code} 采收量：请填写数字" in page
    assert 'value="四十"' in page  # what was typed is kept
    assert _harvests() == 0
    # A row the service refuses (here: a harvest dated after that lot's packing) is named too, and
    # still nothing is stored.
    batches.append_event(
        third.id, Actor(user=coop.user, org=coop.org), stage="packing",
        occurred_at=dt.datetime(2026, 5, 1, tzinfo=dt.UTC), data={"package": "箱", "count": 3},
    )  # fmt: skip
    settle()
    rows[f"lot-{second.id}-quantity"] = "40"
    _, response = _sheet(client, {"occurred_at": "2026-05-10T07:00", **rows})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and f"{third.lot_code}：按发生时间" in page
    assert _harvests() == 0


def test_only_lots_the_cooperative_holds_are_on_the_sheet(signed_in, coop, ten_lots, make_user):
    client = signed_in(coop.user)
    other = make_user("cooperative")
    theirs = batches.create_batch(
        Actor(user=other, org=other.organization), product="loquat", quantity=Decimal(5), unit="kg"
    )
    settle()
    page = client.get("/field/day?product=loquat&stage=harvest").get_data(as_text=True)
    assert theirs.lot_code not in page
    forged = _sheet(client, {"occurred_at": "2026-05-10T07:00", f"lot-{theirs.id}-quantity": "5"})[1]
    assert forged.status_code == 422 and db.session.scalar(select(func.count(Batch.id))) == 11
    assert _harvests() == 0
