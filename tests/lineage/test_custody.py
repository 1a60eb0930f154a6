"""Custody: only the custodian writes, nothing is written while a transfer is pending, and only the
receiver accepts (custody moves) or rejects (custody stays)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from app.batches import service
from app.custody.models import Transfer
from app.db import db
from app.errors import Conflict, Forbidden
from tests.lineage.factories import T0, actor_of, expect, reload

SHIPPED = (T0 + dt.timedelta(hours=1)).isoformat()
ARRIVED = (T0 + dt.timedelta(hours=5)).isoformat()


def harvest(user, batch):
    return service.append_event(
        batch.id,
        actor_of(user),
        stage="harvest",
        occurred_at=T0,
        data={"quantity": "100", "unit": "kg", "variety": "白玉"},
    )


def store(user, batch):
    return service.append_event(
        batch.id,
        actor_of(user),
        stage="storage",
        occurred_at=T0 + dt.timedelta(hours=6),
        data={"temperature_c": "4", "humidity_pct": "90"},
    )


@pytest.fixture
def shipment(client, auth, make_user, make_batch):
    """A cooperative's loquat lot shipped to a retailer, the transfer pending."""
    sender, receiver = make_user("cooperative"), make_user("retailer")
    batch = make_batch(sender, "100", "kg")
    harvest(sender, batch)
    body = expect(
        client.post(
            f"/api/v1/batches/{batch.id}/transfers",
            json={
                "to_org": receiver.organization.code,
                "occurred_at": SHIPPED,
                "transport": {
                    "carrier": "通山冷链物流",
                    "vehicle": "鄂L·12345",
                    "waybill": "WB-0001",
                    "temperature_c": 4,
                },
            },
            headers=auth(user=sender),
        ),
        201,
    )
    return {"sender": sender, "receiver": receiver, "batch": batch, "transfer": body}


def test_shipping_records_a_pending_transfer_in_the_chain(shipment):
    transfer, batch, sender = shipment["transfer"], reload(shipment["batch"]), shipment["sender"]
    assert transfer["status"] == "pending"
    assert transfer["from_org"] == sender.organization.code
    assert transfer["to_org"] == shipment["receiver"].organization.code
    assert transfer["transport"]["temperature_c"] == "4"
    assert batch.custodian_org_id == sender.organization.id
    record = service.events_of(batch)[-1]
    assert record.stage == "transfer"
    assert record.data["transfer"] == transfer["id"]
    assert record.data["transport"]["waybill"] == "WB-0001"
    assert service.verify_batch(batch).valid


def test_only_the_custodian_ships(client, auth, make_user, make_org, make_batch):
    coop = make_org(kind="cooperative")
    household = make_org(kind="farm_household", cooperative_code=coop.code)
    owner = make_user("cooperative", org=coop)
    member = make_user("farmer", org=household)
    batch = make_batch(owner, "10", "kg", producer=household.code)
    path = f"/api/v1/batches/{batch.id}/transfers"
    # A stranger cannot tell the batch exists: the same 404 as for a missing one, naming nothing.
    hidden = expect(
        client.post(path, json={"to_org": owner.organization.code, "occurred_at": SHIPPED}, headers=auth("processor")),
        404,
    )
    assert hidden["message"] == f"no batch with id {batch.id}"
    assert batch.lot_code not in str(hidden) and coop.code not in str(hidden)
    # The producing household reads the batch but does not hold it: refused, and told who does.
    refused = expect(
        client.post(path, json={"to_org": make_user("retailer").organization.code, "occurred_at": SHIPPED},
                    headers=auth(user=member)),
        403,
    )  # fmt: skip
    assert "custodian" in refused["message"] and coop.code in refused["message"]
    assert db.session.scalars(select(Transfer).where(Transfer.batch_id == batch.id)).all() == []
    assert reload(batch).head_seq == 1  # its created record only


def test_bad_transfers_are_refused_by_field(client, auth, make_user, make_batch):
    owner = make_user("farmer")
    headers = auth(user=owner)
    batch = make_batch(owner, "10", "kg")
    path = f"/api/v1/batches/{batch.id}/transfers"
    assert (
        "to_org"
        in expect(client.post(path, json={"to_org": "NOBODY", "occurred_at": SHIPPED}, headers=headers), 422)["errors"][
            "json"
        ]
    )
    to_self = {"to_org": owner.organization.code, "occurred_at": SHIPPED}
    assert "to_org" in expect(client.post(path, json=to_self, headers=headers), 422)["errors"]["json"]
    other = make_user("retailer").organization.code
    future = {"to_org": other, "occurred_at": "2999-01-01T00:00:00+08:00"}
    assert "occurred_at" in expect(client.post(path, json=future, headers=headers), 422)["errors"]["json"]
    odd = {"to_org": other, "occurred_at": SHIPPED, "transport": {"colour": "red"}}
    assert "colour" in expect(client.post(path, json=odd, headers=headers), 422)["errors"]["json"]["transport"]
    assert reload(batch).head_seq == 1  # its created record only


def test_nothing_is_written_while_a_transfer_is_pending(client, auth, shipment, make_user):
    sender, receiver, batch = shipment["sender"], shipment["receiver"], shipment["batch"]
    head = reload(batch).head_seq
    with pytest.raises(Conflict, match="pending"):
        store(sender, batch)
    with pytest.raises(Forbidden, match="custodian"):
        store(receiver, batch)
    # A second shipment waits for the first to be decided.
    again = expect(
        client.post(
            f"/api/v1/batches/{batch.id}/transfers",
            json={"to_org": make_user("logistics").organization.code, "occurred_at": SHIPPED},
            headers=auth(user=sender),
        ),
        409,
    )
    assert "pending" in again["message"]
    assert reload(batch).head_seq == head


def test_only_the_receiver_accepts_and_custody_moves(client, auth, shipment):
    sender, receiver, batch, transfer = (
        shipment["sender"],
        shipment["receiver"],
        shipment["batch"],
        shipment["transfer"],
    )
    path = f"/api/v1/transfers/{transfer['id']}/accept"
    assert "receiving" in expect(client.post(path, json={}, headers=auth(user=sender)), 403)["message"]
    assert "receiving" in expect(client.post(path, json={}, headers=auth("inspector")), 403)["message"]
    expect(client.post(path, json={}, headers=auth("retailer")), 404)  # a third party does not see it
    before_shipping = (T0 + dt.timedelta(minutes=30)).isoformat()
    early = expect(client.post(path, json={"occurred_at": before_shipping}, headers=auth(user=receiver)), 422)
    assert "occurred_at" in early["errors"]["json"]
    assert reload(batch).custodian_org_id == sender.organization.id

    accepted = expect(client.post(path, json={"occurred_at": ARRIVED}, headers=auth(user=receiver)), 200)
    assert accepted["status"] == "accepted" and accepted["decided_at"]
    batch = reload(batch)
    assert batch.custodian_org_id == receiver.organization.id
    receipt = service.events_of(batch)[-1]
    assert receipt.stage == "receipt" and receipt.data["transfer"] == transfer["id"]
    assert receipt.actor_org_id == receiver.organization.id
    assert service.verify_batch(batch).valid

    # The receiver now writes; the sender no longer does.
    assert store(receiver, batch).created
    with pytest.raises(Forbidden):
        store(sender, batch)
    assert "already accepted" in expect(client.post(path, json={}, headers=auth(user=receiver)), 409)["message"]


def test_a_rejected_transfer_leaves_custody_where_it_was(client, auth, shipment):
    sender, receiver, batch, transfer = (
        shipment["sender"],
        shipment["receiver"],
        shipment["batch"],
        shipment["transfer"],
    )
    path = f"/api/v1/transfers/{transfer['id']}/reject"
    assert "reason" in expect(client.post(path, json={}, headers=auth(user=receiver)), 422)["errors"]["json"]
    assert (
        "reason" in expect(client.post(path, json={"reason": "  "}, headers=auth(user=receiver)), 422)["errors"]["json"]
    )
    expect(client.post(path, json={"reason": "no"}, headers=auth(user=sender)), 403)

    rejected = expect(client.post(path, json={"reason": "果实软烂 fruit bruised"}, headers=auth(user=receiver)), 200)
    assert rejected["status"] == "rejected" and rejected["reason"] == "果实软烂 fruit bruised"
    batch = reload(batch)
    assert batch.custodian_org_id == sender.organization.id
    record = service.events_of(batch)[-1]
    assert record.stage == "transfer_rejected" and record.data["reason"] == "果实软烂 fruit bruised"
    # Back in the sender's hands: it writes again, the would-be receiver does not.
    assert store(sender, batch).created
    with pytest.raises(Forbidden):
        store(receiver, batch)
    expect(client.post(f"/api/v1/transfers/{transfer['id']}/accept", json={}, headers=auth(user=receiver)), 409)


def test_each_side_lists_its_transfers(client, auth, shipment):
    sender, receiver, transfer = shipment["sender"], shipment["receiver"], shipment["transfer"]
    incoming = expect(client.get("/api/v1/transfers?direction=incoming", headers=auth(user=receiver)), 200)
    assert [t["id"] for t in incoming["items"]] == [transfer["id"]] and incoming["meta"]["total"] == 1
    assert expect(client.get("/api/v1/transfers?direction=outgoing", headers=auth(user=receiver)), 200)["items"] == []
    outgoing = expect(client.get("/api/v1/transfers?direction=outgoing&status=pending", headers=auth(user=sender)), 200)
    assert [t["id"] for t in outgoing["items"]] == [transfer["id"]]
    done = expect(client.get("/api/v1/transfers?direction=outgoing&status=accepted", headers=auth(user=sender)), 200)
    assert done["items"] == []
    assert "direction" in expect(client.get("/api/v1/transfers", headers=auth(user=sender)), 422)["errors"]["query"]
    assert expect(client.get(f"/api/v1/transfers/{transfer['id']}", headers=auth(user=sender)), 200) == transfer
    expect(client.get(f"/api/v1/transfers/{transfer['id']}", headers=auth("retailer")), 404)
    expect(client.get(f"/api/v1/transfers/{transfer['id']}", headers=auth("inspector")), 200)


def test_a_former_holder_still_traces_what_it_shipped(client, auth, shipment):
    sender, receiver, batch, transfer = (
        shipment["sender"],
        shipment["receiver"],
        shipment["batch"],
        shipment["transfer"],
    )
    expect(client.post(f"/api/v1/transfers/{transfer['id']}/accept", json={}, headers=auth(user=receiver)), 200)
    expect(client.get(f"/api/v1/batches/{batch.id}/trace", headers=auth(user=sender)), 200)
    expect(client.get(f"/api/v1/batches/{batch.id}/trace", headers=auth(user=receiver)), 200)
