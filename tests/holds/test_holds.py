"""Held lots (不合格处置): a failed verdict holds the lot and what was made from it; dispositions."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.batches.models import Batch, Event
from app.db import db
from app.holds import service as holds
from app.lineage import service as lineage
from tests.compliance.factories import actor_of, add_event, amend_event, new_batch, post_inspection
from tests.conftest import settle

BAP_FAIL = [{"parameter": "benzo_a_pyrene", "value": "25", "unit": "µg/kg"}]  # GB 2716: ≤ 10 µg/kg
LEAD_FAIL = [{"parameter": "lead", "value": "8", "unit": "mg/kg"}]
LEAD_PASS = [{"parameter": "lead", "value": "0.5", "unit": "mg/kg"}]
MOMENT = dt.datetime(2026, 6, 2, 9, tzinfo=dt.UTC)


def _stages(batch: Batch) -> list[str]:
    return list(db.session.scalars(select(Event.stage).where(Event.batch_id == batch.id).order_by(Event.seq)))


@pytest.fixture
def failed_lot(client, make_user, auth):
    """A brick tea lot split into two, whose lead test failed: the lot, its children, the people."""
    producer = make_user("processor")
    lot = new_batch(producer, "brick_tea")
    split = lineage.split_batch(actor_of(producer), lot.id, parts=[Decimal("40"), Decimal("30")], occurred_at=MOMENT)
    settle()
    inspector = auth("inspector")
    response = post_inspection(client, inspector, lot.id, LEAD_FAIL)
    assert response.status_code == 201, response.get_json()
    children = [db.session.get(Batch, out.id) for out in split.outputs]
    return producer, lot, children, inspector


def test_a_failed_test_holds_the_lot_and_every_lot_made_from_it(client, failed_lot, auth):
    producer, lot, children, _ = failed_lot
    for batch in (lot, *children):
        db.session.refresh(batch)
        assert batch.status == "on_hold"
        assert _stages(batch)[-1] == "hold"
        hold = db.session.scalar(select(Event).where(Event.batch_id == batch.id, Event.stage == "hold"))
        assert hold.data["cause"] == lot.lot_code
        [failed] = hold.data["failed"]
        assert failed["parameter"] == "lead" and failed["value"] == "8" and failed["limit"] == "5"
    body = client.get(f"/api/v1/batches/{children[0].id}", headers=auth(user=producer)).get_json()
    assert body["status"] == "on_hold"
    # The hold is in each chain: the chain still verifies.
    assert client.get(f"/api/v1/batches/{lot.id}/verify", headers=auth("inspector")).get_json()["valid"] is True


def test_a_held_lot_refuses_sales_transfers_and_splits_but_keeps_storage(client, failed_lot, auth, make_org):
    producer, _lot, children, _ = failed_lot
    headers = auth(user=producer)
    child = children[0]
    at = "2026-06-03T10:00:00+08:00"
    sale = client.post(
        f"/api/v1/batches/{child.id}/events",
        json={"stage": "sale", "occurred_at": at, "data": {"channel": "经销商", "buyer": "某经销部"}},
        headers=headers,
    )
    assert sale.status_code == 409
    assert "on hold" in sale.get_json()["message"] and child.lot_code in sale.get_json()["message"]
    receiver = make_org(kind="retailer")
    transfer = client.post(
        f"/api/v1/batches/{child.id}/transfers", json={"to_org": receiver.code, "occurred_at": at}, headers=headers
    )
    assert transfer.status_code == 409
    split = client.post(
        f"/api/v1/batches/{child.id}/split", json={"parts": [{"quantity": "1"}], "occurred_at": at}, headers=headers
    )
    assert split.status_code == 409
    before = _stages(child)
    storage = client.post(
        f"/api/v1/batches/{child.id}/events",
        json={
            "stage": "storage",
            "occurred_at": at,
            "data": {"temperature_c": "4", "humidity_pct": "85", "warehouse": "冷库1号"},
        },
        headers=headers,
    )
    assert storage.status_code == 201, storage.get_json()
    assert _stages(child) == [*before, "storage"]


def _dispose(client, headers, batch_id, **body):
    return client.post(f"/api/v1/batches/{batch_id}/dispositions", json=body, headers=headers)


def test_destruction_needs_evidence_and_closes_the_lot_and_those_held_with_it(client, failed_lot):
    _, lot, children, inspector = failed_lot
    missing = _dispose(client, inspector, lot.id, kind="destroyed", note="监督销毁")
    assert missing.status_code == 422 and "evidence" in missing.get_json()["errors"]["json"]
    assert db.session.get(Batch, lot.id).status == "on_hold"  # a refused request changes nothing

    done = _dispose(
        client, inspector, lot.id, kind="destroyed", note="在市场监管所监督下粉碎销毁", evidence="销毁记录 XN-2026-031"
    )
    assert done.status_code == 201, done.get_json()
    body = done.get_json()
    assert body["kind"] == "destroyed" and body["evidence"] == "销毁记录 XN-2026-031"
    assert {item["lot_code"] for item in body["lots"]} == {lot.lot_code, *(c.lot_code for c in children)}
    for batch in (lot, *children):
        db.session.refresh(batch)
        assert batch.status == "disposed"
        record = db.session.scalar(select(Event).where(Event.batch_id == batch.id, Event.stage == "disposition"))
        assert record.data["kind"] == "destroyed" and record.data["root"] == lot.lot_code
    again = _dispose(client, inspector, lot.id, kind="returned", note="退回")
    assert again.status_code == 409  # disposed: nothing is on hold any more


def test_release_is_refused_while_the_verdict_still_fails(client, failed_lot):
    _, lot, _, inspector = failed_lot
    # A later passing test does not overturn the failure (a re-test, 复检, is what will).
    assert post_inspection(client, inspector, lot.id, LEAD_PASS).status_code == 201
    refused = _dispose(client, inspector, lot.id, kind="released", note="复检合格")
    assert refused.status_code == 409 and "still fails" in refused.get_json()["message"]
    assert db.session.get(Batch, lot.id).status == "on_hold"


def test_a_corrected_record_that_no_longer_fails_lets_the_inspector_release_the_lot(client, make_user, auth):
    farmer = make_user("cooperative")
    lot = new_batch(farmer, "loquat")
    pesticide = {
        "kind": "pesticide", "name": "多菌灵", "dose": "50", "dose_unit": "mL/亩",
        "applied_at": "2026-05-01T08:00:00+08:00", "phi_days": 21,
    }  # fmt: skip
    planting = add_event(lot, farmer, "planting", dt.datetime(2026, 4, 1, tzinfo=dt.UTC), {"inputs": [pesticide]})
    add_event(lot, farmer, "harvest", dt.datetime(2026, 5, 10, tzinfo=dt.UTC), {"quantity": "40", "unit": "kg"})
    db.session.refresh(lot)
    assert lot.status == "on_hold"  # sprayed 05-01 with a 21-day interval, harvested 05-10
    inspector = auth("inspector")
    assert _dispose(client, inspector, lot.id, kind="released", note="核实").status_code == 409
    # The farmer corrects a mistyped date (a correction stays possible on a held lot) ...
    amend_event(lot, farmer, planting.seq, dt.datetime(2026, 4, 1, tzinfo=dt.UTC), "施药日期录错，应为4月1日",
                {"inputs": [{**pesticide, "applied_at": "2026-04-01T08:00:00+08:00"}]})  # fmt: skip
    db.session.refresh(lot)
    assert lot.status == "on_hold"  # ... which does not release the lot by itself
    released = _dispose(client, inspector, lot.id, kind="released", note="核对农事记录原件，施药日期为4月1日")
    assert released.status_code == 201, released.get_json()
    db.session.refresh(lot)
    assert lot.status == "active"
    sale = client.post(
        f"/api/v1/batches/{lot.id}/events",
        json={"stage": "sale", "occurred_at": "2026-05-11T10:00:00+08:00", "data": {"channel": "集市"}},
        headers=auth(user=farmer),
    )
    assert sale.status_code == 201, sale.get_json()


def test_a_recall_disposition_opens_the_recall_linked(client, failed_lot):
    _, lot, children, inspector = failed_lot
    no_level = _dispose(client, inspector, lot.id, kind="recalled", note="苯并芘超标")
    assert no_level.status_code == 422 and "severity" in no_level.get_json()["errors"]["json"]
    done = _dispose(client, inspector, lot.id, kind="recalled", note="铅超标，召回已售产品", severity="II")
    assert done.status_code == 201, done.get_json()
    recall_id = done.get_json()["recall"]
    recall = client.get(f"/api/v1/recalls/{recall_id}", headers=inspector).get_json()
    assert recall["batch"] == lot.id
    for batch in (lot, *children):
        db.session.refresh(batch)
        assert batch.status == "recalled"
        record = db.session.scalar(select(Event).where(Event.batch_id == batch.id, Event.stage == "disposition"))
        assert record.data["recall"] == recall_id


def test_only_inspectors_and_admins_record_dispositions(client, failed_lot, auth):
    producer, lot, _, _ = failed_lot
    refused = _dispose(client, auth(user=producer), lot.id, kind="returned", note="退回供货方")
    assert refused.status_code == 403
    assert db.session.get(Batch, lot.id).status == "on_hold"


def test_a_passing_lot_is_not_held(client, make_user, auth):
    lot = new_batch(make_user("processor"), "brick_tea")
    assert post_inspection(client, auth("inspector"), lot.id, LEAD_PASS).status_code == 201
    db.session.refresh(lot)
    assert lot.status == "active" and "hold" not in _stages(lot)


def test_a_pre_harvest_breach_holds_the_lot(make_user):
    farmer = make_user("cooperative")
    lot = new_batch(farmer, "loquat")
    pesticide = {
        "kind": "pesticide", "name": "多菌灵", "dose": "50", "dose_unit": "mL/亩",
        "applied_at": "2026-05-01T08:00:00+08:00", "phi_days": 21,
    }  # fmt: skip
    add_event(lot, farmer, "planting", dt.datetime(2026, 4, 1, tzinfo=dt.UTC), {"inputs": [pesticide]})
    add_event(lot, farmer, "harvest", dt.datetime(2026, 5, 10, tzinfo=dt.UTC), {"quantity": "40", "unit": "kg"})
    db.session.refresh(lot)
    assert lot.status == "on_hold" and _stages(lot)[-1] == "hold"


def test_a_failure_stored_with_nobody_acting_is_reported_and_held_by_the_sweep(app, client, make_user, auth, tmp_path):
    producer = make_user("processor")
    lot = new_batch(producer, "brick_tea")
    assert post_inspection(client, auth("inspector"), lot.id, LEAD_PASS).status_code == 201
    # A catalog load lowers the tea lead limit below the result: every batch is re-judged with
    # nobody acting, which stores the fail but cannot chain a hold.
    runner = app.test_cli_runner()
    exported = tmp_path / "catalog.yaml"
    assert runner.invoke(args=["catalog", "export", str(exported)]).exit_code == 0
    text = exported.read_text(encoding="utf-8")
    tea_lead = re.compile(r"(scope: 茶叶\n    product: brick_tea\n(?:    .*\n)*?    limit: )5\n")
    assert tea_lead.search(text)
    exported.write_text(tea_lead.sub(r"\g<1>0.3\n", text, count=1), encoding="utf-8")
    loaded = runner.invoke(args=["catalog", "load", str(exported)])
    assert loaded.exit_code == 0, loaded.output
    assert "1 failed lot(s) not on hold" in loaded.output and lot.lot_code in loaded.output
    refreshed = runner.invoke(args=["compliance", "refresh"])
    assert refreshed.exit_code == 0, refreshed.output
    assert "1 failed lot(s) not on hold" in refreshed.output  # said again until someone holds it
    db.session.refresh(lot)
    assert lot.status == "active"
    assert [b.id for b in holds.unheld_failures()] == [lot.id]

    refused = runner.invoke(args=["holds", "sweep", "--as", producer.username])
    assert refused.exit_code != 0 and "inspector" in refused.output
    inspector = make_user("inspector")
    swept = runner.invoke(args=["holds", "sweep", "--as", inspector.username])
    assert swept.exit_code == 0, swept.output
    assert f"1 lot(s) put on hold: {lot.lot_code}" in swept.output
    db.session.refresh(lot)
    assert lot.status == "on_hold" and _stages(lot)[-1] == "hold"
    assert holds.unheld_failures() == []
