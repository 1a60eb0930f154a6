"""Recalls: every descendant, who holds it and every sale; who may recall and close; the consumer notice."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from app.batches import service
from app.batches.models import Batch
from app.db import db
from app.errors import Conflict
from app.recalls.models import RecallItem
from tests.lineage.factories import T0, actor_of, expect, reload
from tests.recalls.helpers import open_recall


def test_a_recall_reaches_every_descendant_its_holders_and_sales(client, auth, chain):
    root = chain["lots"][0]
    before = {b.id: reload(b).status for b in (root, chain["merged"], chain["sold"], chain["moving"], chain["kept"])}
    body = expect(open_recall(client, auth("inspector"), root), 201)

    assert body["status"] == "open" and body["severity"] == "I" and body["severity_label"]["zh"] == "一级召回"
    assert body["lot_code"] == root.lot_code and body["affected"] == 5
    items = {i["lot_code"]: i for i in body["items"]}
    expected = {
        root.lot_code: 0,
        chain["merged"].lot_code: 1,
        chain["sold"].lot_code: 2,
        chain["moving"].lot_code: 2,
        chain["kept"].lot_code: 2,
    }
    assert {code: i["depth"] for code, i in items.items()} == expected
    # The other household's lot went into the same merge, but nothing of the recalled lot is in it.
    assert chain["lots"][1].lot_code not in items and chain["unrelated"].lot_code not in items

    sold = items[chain["sold"].lot_code]
    assert sold["holder"]["code"] == chain["retailer"].organization.code
    assert sold["holder"]["name"] == "咸宁优品超市" and sold["location"] == "咸安区"
    assert sold["source_lots"] == [chain["merged"].lot_code]
    assert sold["sales"] == [
        {
            "seq": chain["sale"].seq,
            "occurred_at": sold["sales"][0]["occurred_at"],
            "seller": chain["retailer"].organization.code,
            "channel": "门店 store",
            "buyer": "零售顾客",
            "location": "咸安区",
            "amended": False,
        }
    ]
    assert [t["status"] for t in sold["transfers"]] == ["accepted"]
    # On the road: still the cooperative's until the carrier accepts, and the pending shipment is listed.
    moving = items[chain["moving"].lot_code]
    assert moving["holder"]["code"] == chain["coop"].code
    assert [(t["id"], t["status"]) for t in moving["transfers"]] == [(chain["on_the_road"]["id"], "pending")]
    assert items[chain["merged"].lot_code]["source_lots"] == sorted(lot.lot_code for lot in chain["lots"])

    assert body["summary"] == {"batches": 5, "holders": 2, "transfers": 2, "sales": 1}
    holders = {h["org"]["code"]: set(h["lots"]) for h in body["holders"]}
    assert holders == {
        chain["coop"].code: {root.lot_code, chain["merged"].lot_code, chain["moving"].lot_code, chain["kept"].lot_code},
        chain["retailer"].organization.code: {chain["sold"].lot_code},
    }

    # Every affected lot is recalled, remembers what it was, and has the recall in its chain.
    stored = {i.batch_id: i.previous_status for i in db.session.scalars(select(RecallItem))}
    assert stored == before
    for batch_id in before:
        batch = reload(db.session.get(Batch, batch_id))
        assert batch.status == "recalled"
        record = service.events_of(batch)[-1]
        assert record.stage == "recall" and record.data["recall"] == body["id"] and record.data["root"] == root.lot_code
        assert service.verify_batch(batch).valid
    assert reload(chain["lots"][1]).status == "consumed" and reload(chain["unrelated"]).status == "active"
    # A recalled lot takes no more stage events.
    with pytest.raises(Conflict, match="recalled"):
        service.append_event(
            chain["kept"].id,
            actor_of(chain["coop_user"]),
            stage="storage",
            occurred_at=T0 + dt.timedelta(hours=6),
            data={"temperature_c": "4", "humidity_pct": "85"},
        )


def test_a_producer_recalls_its_own_lot_and_nobody_elses(client, auth, chain):
    root = chain["lots"][0]
    # The cooperative holds the lot but did not grow it; the retailer holds a descendant.
    assert "producer" in expect(open_recall(client, auth(user=chain["coop_user"]), root), 403)["message"]
    assert "batch" in expect(open_recall(client, auth(user=chain["retailer"]), root), 422)["errors"]["json"]
    assert reload(root).status == "consumed"
    body = expect(open_recall(client, auth(user=chain["farmer"]), root, severity="III", reason="标签错误"), 201)
    assert body["opened_by"] == chain["farmer"].username and body["affected"] == 5
    # One open recall per lot.
    again = expect(open_recall(client, auth("admin"), root), 409)
    assert str(body["id"]) in again["message"]


def test_recall_requests_are_checked(client, auth, chain):
    headers = auth("inspector")
    root = chain["lots"][0]
    assert "severity" in expect(open_recall(client, headers, root, severity="X"), 422)["errors"]["json"]
    assert "reason" in expect(open_recall(client, headers, root, reason=""), 422)["errors"]["json"]
    missing = client.post("/api/v1/recalls", json={"batch": 999999, "reason": "x", "severity": "II"}, headers=headers)
    assert "batch" in expect(missing, 422)["errors"]["json"]
    assert reload(root).status == "consumed"
    expect(client.post("/api/v1/recalls", json={"batch": root.id, "reason": "x", "severity": "II"}), 401)


def test_who_sees_a_recall(client, auth, chain):
    opened = expect(open_recall(client, auth("inspector"), chain["merged"]), 201)
    path = f"/api/v1/recalls/{opened['id']}"
    assert expect(client.get(path, headers=auth("admin")), 200)["id"] == opened["id"]
    assert expect(client.get(path, headers=auth(user=chain["retailer"])), 200)["affected"] == 4
    expect(client.get(path, headers=auth(user=chain["coop_user"])), 200)
    expect(client.get(path, headers=auth("processor")), 404)
    expect(client.get("/api/v1/recalls/999999", headers=auth("admin")), 404)

    listed = expect(client.get("/api/v1/recalls?status=open", headers=auth(user=chain["retailer"])), 200)
    assert [r["id"] for r in listed["items"]] == [opened["id"]] and listed["items"][0]["affected"] == 4
    assert expect(client.get("/api/v1/recalls", headers=auth("processor")), 200)["items"] == []
    assert expect(client.get("/api/v1/recalls?status=closed", headers=auth("inspector")), 200)["items"] == []
    assert (
        "status"
        in expect(client.get("/api/v1/recalls?status=maybe", headers=auth("inspector")), 422)["errors"]["query"]
    )


def test_closing_keeps_the_history_and_the_lots_recalled(client, auth, chain):
    inspector = auth("inspector")
    opened = expect(open_recall(client, inspector, chain["merged"], severity="II"), 201)
    path = f"/api/v1/recalls/{opened['id']}/close"
    assert "reason" in expect(client.post(path, json={}, headers=inspector), 422)["errors"]["json"]
    # The retailer sees the recall but did not open it.
    expect(client.post(path, json={"reason": "done"}, headers=auth(user=chain["retailer"])), 403)

    closed = expect(
        client.post(path, json={"reason": "全部下架销毁 all withdrawn and destroyed"}, headers=inspector), 200
    )
    assert closed["status"] == "closed" and closed["closed_reason"] == "全部下架销毁 all withdrawn and destroyed"
    assert closed["closed_at"] and closed["closed_by"]
    assert {i["lot_code"] for i in closed["items"]} == {i["lot_code"] for i in opened["items"]}
    for item in closed["items"]:
        batch = reload(db.session.get(Batch, item["batch"]))
        assert batch.status == "recalled"
        assert [e.stage for e in service.events_of(batch)][-2:] == ["recall", "recall_closed"]
    assert expect(client.post(path, json={"reason": "again"}, headers=inspector), 409)
    listed = expect(client.get("/api/v1/recalls?status=closed", headers=inspector), 200)
    assert opened["id"] in [r["id"] for r in listed["items"]]
    # Closed, so the lot may be recalled again should a new problem appear.
    expect(open_recall(client, inspector, chain["merged"], severity="I", reason="new finding"), 201)


def test_the_consumer_page_of_a_descendant_shows_the_recall(client, auth, chain):
    root = chain["lots"][0]
    sold = reload(chain["sold"])
    before = client.get(f"/api/v1/public/{sold.public_code}")
    assert before.status_code == 200 and before.get_json()["recall"] is None

    expect(open_recall(client, auth("inspector"), root, reason="农药残留超标"), 201)
    public = expect(client.get(f"/api/v1/public/{sold.public_code}"), 200)
    assert public["status"] == "recalled"
    assert public["recall"]["reason"] == "农药残留超标"
    assert public["recall"]["lot_code"] == root.lot_code and public["recall"]["inherited"] is True
    assert public["recall"]["notice"]["zh"]["title"] == "召回通知"
    assert "recalled" in public["recall"]["notice"]["en"]["text"]

    page = client.get(f"/t/{sold.public_code}", headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="recall"' in html
    assert "召回通知" in html and "This batch has been recalled" in html
    assert "农药残留超标" in html and root.lot_code in html


def test_ids_no_row_can_have_are_not_found(client, auth):
    headers = auth("inspector")
    huge = 10**20
    expect(client.get(f"/api/v1/recalls/{huge}", headers=headers), 404)
    expect(client.get(f"/api/v1/recalls/{huge}/export.csv", headers=headers), 404)
    expect(client.post(f"/api/v1/recalls/{huge}/close", json={"reason": "x"}, headers=headers), 404)
    refused = client.post("/api/v1/recalls", json={"batch": huge, "reason": "x", "severity": "I"}, headers=headers)
    assert "batch" in expect(refused, 422)["errors"]["json"]
