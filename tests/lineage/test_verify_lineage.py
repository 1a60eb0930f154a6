"""Rewriting an input's history is detectable from the lots made of it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from app.batches import service
from app.batches.models import Batch, Event
from app.db import db
from app.orgs.models import Organization, User
from tests.lineage.factories import T0, actor_of, expect, reload


def _merge_then_pack(client, auth, make_user, make_org, make_batch):
    """Two households' lots merged by their cooperative, the merged lot split into two packs."""
    coop = make_org(kind="cooperative")
    user = make_user("cooperative", org=coop)
    lots = []
    for quantity in ("40", "60"):
        household = make_org(kind="farm_household", cooperative_code=coop.code)
        lot = make_batch(user, quantity, "kg", producer=household.code)
        service.append_event(
            lot.id,
            actor_of(user),
            stage="harvest",
            occurred_at=T0,
            data={"quantity": quantity, "unit": "kg", "brix": "13.5"},
        )
        lots.append(lot)
    headers = auth(user=user)
    merged = expect(
        client.post(
            "/api/v1/transformations",
            json={
                "inputs": [{"batch": lot.id, "quantity": str(lot.quantity)} for lot in lots],
                "outputs": [{"product": "loquat", "quantity": "100", "unit": "kg"}],
                "occurred_at": (T0 + dt.timedelta(hours=2)).isoformat(),
            },
            headers=headers,
        ),
        201,
    )["outputs"][0]
    packs = expect(
        client.post(f"/api/v1/batches/{merged['id']}/split", json={"parts": [{"quantity": "50"}] * 2}, headers=headers),
        201,
    )["outputs"]
    return {"headers": headers, "lots": lots, "merged": merged, "packs": packs}


def _rewrite_and_rechain(batch: Batch) -> None:
    """What a forger with database access would do: change a record and recompute the whole chain."""
    events = list(db.session.scalars(select(Event).where(Event.batch_id == batch.id).order_by(Event.seq)))
    events[0].data = {**events[0].data, "brix": "16.0"}
    prev = events[0].prev_hash
    for event in events:
        org = db.session.get(Organization, event.actor_org_id).code
        user = db.session.get(User, event.actor_user_id).username if event.actor_user_id else None
        event.prev_hash = prev
        event.hash = service.chain_fields(event, batch.lot_code, org, user).digest()
        prev = event.hash
    batch.head_hash = prev
    db.session.flush()


def test_an_untouched_lineage_verifies(client, auth, make_user, make_org, make_batch):
    built = _merge_then_pack(client, auth, make_user, make_org, make_batch)
    pack = built["packs"][0]
    report = expect(client.get(f"/api/v1/batches/{pack['id']}/verify-lineage", headers=built["headers"]), 200)
    assert report["valid"] is True and report["root"] == pack["lot_code"]
    by_lot = {lot["lot_code"]: lot for lot in report["lots"]}
    assert set(by_lot) == {pack["lot_code"], built["merged"]["lot_code"], *(lot.lot_code for lot in built["lots"])}
    assert [i["lot_code"] for i in by_lot[pack["lot_code"]]["inputs"]] == [built["merged"]["lot_code"]]
    assert [i["lot_code"] for i in by_lot[built["merged"]["lot_code"]]["inputs"]] == [
        lot.lot_code for lot in built["lots"]
    ]
    assert all(i["ok"] for lot in report["lots"] for i in lot["inputs"])


def test_a_rewritten_household_record_shows_from_the_pack(client, auth, make_user, make_org, make_batch):
    built = _merge_then_pack(client, auth, make_user, make_org, make_batch)
    household_lot = reload(built["lots"][0])
    pack = built["packs"][1]

    # A crude edit: the household's chain no longer recomputes.
    db.session.execute(
        update(Event)
        .where(Event.batch_id == household_lot.id, Event.seq == 1)
        .values(data={"quantity": "40", "unit": "kg", "brix": "16.0"})
    )
    db.session.expire_all()
    report = expect(client.get(f"/api/v1/batches/{pack['id']}/verify-lineage", headers=built["headers"]), 200)
    assert report["valid"] is False
    lots = {lot["lot_code"]: lot for lot in report["lots"]}
    assert lots[household_lot.lot_code]["chain_valid"] is False
    assert lots[household_lot.lot_code]["first_invalid_seq"] == 1
    check = next(i for i in lots[built["merged"]["lot_code"]]["inputs"] if i["lot_code"] == household_lot.lot_code)
    assert check["chain_valid"] is False and check["ok"] is False
    assert lots[pack["lot_code"]]["ok"] is True  # the pack's own records are intact


def test_a_rewritten_and_rechained_input_is_still_caught_by_its_outputs(client, auth, make_user, make_org, make_batch):
    built = _merge_then_pack(client, auth, make_user, make_org, make_batch)
    household_lot = reload(built["lots"][1])
    _rewrite_and_rechain(household_lot)
    db.session.expire_all()
    # On its own the forged chain verifies...
    assert service.verify_batch(reload(household_lot)).valid
    # ...but the merged lot committed to the head it had, which no longer exists.
    report = expect(
        client.get(f"/api/v1/batches/{built['packs'][0]['id']}/verify-lineage", headers=built["headers"]), 200
    )
    assert report["valid"] is False
    lots = {lot["lot_code"]: lot for lot in report["lots"]}
    assert lots[household_lot.lot_code]["chain_valid"] is True
    check = next(i for i in lots[built["merged"]["lot_code"]]["inputs"] if i["lot_code"] == household_lot.lot_code)
    assert check["found"] is False and check["ok"] is False
    other = next(i for i in lots[built["merged"]["lot_code"]]["inputs"] if i["lot_code"] != household_lot.lot_code)
    assert other["ok"] is True


def test_verify_lineage_is_read_by_the_same_people_as_the_trace(client, auth, make_user, make_org, make_batch):
    built = _merge_then_pack(client, auth, make_user, make_org, make_batch)
    path = f"/api/v1/batches/{built['merged']['id']}/verify-lineage"
    expect(client.get(path, headers=auth("inspector")), 200)
    expect(client.get(path, headers=auth("processor")), 404)
