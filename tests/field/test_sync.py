"""POST /api/v1/sync and its page door /field/sync: queued writes, each stored once and on its own."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import func, select

from app.batches.models import Batch, Event
from app.db import db
from app.orgs.models import Organization, Site
from app.sync.models import ClientWrite
from tests.field.conftest import form_token, post_form

T = "2026-05-12T09:00"


def _batch_item(client_id, coop, **body):
    return {
        "client_id": client_id, "kind": "batch", "device_time": "2026-05-12T08:59:30+08:00",
        "body": {"product": "loquat", "quantity": "200", "unit": "斤", "producer": coop.members[0].code, **body},
    }  # fmt: skip


def _sync(client, headers, items, **kwargs):
    return client.post("/api/v1/sync", json={"writes": items}, headers=headers, **kwargs)


def _count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_each_item_is_created_once_and_a_bad_one_costs_none_of_the_others(client, coop, auth):
    headers = auth(user=coop.user)
    site = {"client_id": "c2", "kind": "site", "body": {"name": "隐水村枇杷园", "kind": "orchard", "village": "隐水村"}}
    bad = _batch_item("c3", coop, product="枇杷干")
    response = _sync(client, headers, [_batch_item("c1", coop), site, bad])
    assert response.status_code == 200, response.get_json()
    first, second, third = response.get_json()["results"]
    assert (first["client_id"], first["status"], second["status"]) == ("c1", "created", "created")
    assert third["status"] == "rejected" and third["client_id"] == "c3"
    assert third["error"]["code"] == 422 and third["error"]["errors"]["body"]["product"] == ["请选择产品"]
    batch = db.session.get(Batch, first["result"]["batch"])
    assert batch.lot_code == first["result"]["lot_code"] and batch.quantity == 100  # 200 斤 = 100 kg
    assert _count(Batch, Batch.custodian_org_id == coop.org.id) == 1
    assert _count(Site, Site.name == "隐水村枇杷园") == 1
    # The phone's clock beside the server's; a refused item left nothing behind, not even its id.
    stored = db.session.scalar(select(ClientWrite).where(ClientWrite.client_id == "c1"))
    assert stored.device_time == dt.datetime(2026, 5, 12, 0, 59, 30, tzinfo=dt.UTC)
    assert stored.received_at > stored.device_time
    assert db.session.scalar(select(ClientWrite).where(ClientWrite.client_id == "c3")) is None

    # Sent again (the reply was lost): the same result, nothing new; the corrected c3 is created;
    # a stage on the new lot in the same request.
    stage = {"client_id": "c4", "kind": "stage", "batch": batch.id, "stage": "storage",
             "body": {"occurred_at": T, "temperature_c": "4", "humidity_pct": "90"}}  # fmt: skip
    again = _sync(client, headers, [_batch_item("c1", coop), _batch_item("c3", coop), stage]).get_json()["results"]
    assert [r["status"] for r in again] == ["duplicate", "created", "created"]
    assert again[0]["result"] == first["result"]
    assert _count(Batch, Batch.custodian_org_id == coop.org.id) == 2
    assert _count(Event, Event.batch_id == batch.id, Event.stage == "storage") == 1
    assert again[2]["result"] == {"batch": batch.id, "seq": 2, "stage": "storage"}


def test_refusals_are_in_the_callers_language_and_name_the_field(client, coop, auth):
    headers = auth(user=coop.user)
    response = client.post(
        "/api/v1/sync", json={"writes": [_batch_item("e1", coop, product="")]},
        headers={**headers, "Accept-Language": "en"},
    )  # fmt: skip
    [result] = response.get_json()["results"]
    assert result["error"]["errors"]["body"] == {"product": ["Choose a product"]}
    assert result["error"]["status"] == "Unprocessable Entity"
    missing = _sync(client, headers, [{"client_id": "e2", "kind": "stage", "batch": 999999, "stage": "storage"}])
    [gone] = missing.get_json()["results"]
    assert gone["status"] == "rejected" and gone["error"]["code"] == 404


def test_an_id_reused_for_another_write_is_refused(client, coop, auth):
    headers = auth(user=coop.user)
    assert _sync(client, headers, [_batch_item("r1", coop)]).get_json()["results"][0]["status"] == "created"
    [reused] = _sync(client, headers, [_batch_item("r1", coop, quantity="300")]).get_json()["results"]
    assert reused["status"] == "rejected" and reused["error"]["code"] == 409
    assert "另一条记录" in reused["error"]["message"]
    assert _count(Batch, Batch.custodian_org_id == coop.org.id) == 1
    # Client ids are each user's own: another user's "r1" is a write of its own.
    other = auth(user=coop.member_user)
    own_lot = {**_batch_item("r1", coop), "body": {"product": "loquat", "quantity": "5", "unit": "公斤"}}
    [own] = _sync(client, other, [own_lot]).get_json()["results"]
    assert own["status"] == "created"


def test_more_than_500_items_is_refused_naming_the_limit(client, coop, auth):
    headers = auth(user=coop.user)
    items = [_batch_item(f"m{n}", coop) for n in range(501)]
    response = _sync(client, headers, items)
    assert response.status_code == 422
    assert "500" in str(response.get_json()["errors"]["json"]["writes"])
    assert _count(Batch) == 0
    assert _sync(client, headers, []).status_code == 422


def test_a_harvest_inside_an_interval_waits_for_confirmation(client, coop, auth):
    headers = auth(user=coop.user)
    [made] = _sync(client, headers, [_batch_item("h0", coop)]).get_json()["results"]
    lot = made["result"]["batch"]
    planting = {
        "client_id": "h1", "kind": "stage", "batch": lot, "stage": "planting",
        "body": {"occurred_at": "2026-05-01T08:00", "inputs-rows": "1", "inputs-0-kind": "pesticide",
                 "inputs-0-name": "吡虫啉", "inputs-0-registration_no": "PD20060001", "inputs-0-dose": "30",
                 "inputs-0-dose_unit": "毫升/亩", "inputs-0-applied_at": "2026-05-01T08:00", "inputs-0-phi_days": "14"},
    }  # fmt: skip
    harvest = {"client_id": "h2", "kind": "stage", "batch": lot, "stage": "harvest",
               "body": {"occurred_at": "2026-05-05T08:00", "quantity": "50", "quantity-unit": "斤"}}  # fmt: skip
    results = _sync(client, headers, [planting, harvest]).get_json()["results"]
    assert [r["status"] for r in results] == ["created", "rejected"]
    assert results[1]["error"]["code"] == 409 and "吡虫啉" in results[1]["error"]["message"]
    assert "还差 10 天" in results[1]["error"]["message"]
    assert _count(Event, Event.batch_id == lot, Event.stage == "harvest") == 0
    harvest["body"]["confirm_interval"] = "1"
    [stored] = _sync(client, headers, [harvest]).get_json()["results"]
    assert stored["status"] == "created"


def test_a_new_members_first_password_is_said_once(client, coop, auth):
    headers = auth(user=coop.user)
    item = {"client_id": "p1", "kind": "member", "body": {"name": "大畈镇 刘德华", "phone": "13900000001"}}
    [first] = _sync(client, headers, [item]).get_json()["results"]
    assert first["status"] == "created" and len(first["result"]["password"]) >= 8
    assert first["result"]["username"] == "13900000001" and first["result"]["password"] in first["message"]
    [again] = _sync(client, headers, [item]).get_json()["results"]
    assert again["status"] == "duplicate" and "password" not in again["result"]
    assert "password" not in str(db.session.scalar(select(ClientWrite.result).where(ClientWrite.client_id == "p1")))
    assert _count(Organization, Organization.name == "大畈镇 刘德华") == 1
    # A farmer is no cooperative: refused on its own, 403.
    [refused] = _sync(client, auth(user=coop.member_user), [{**item, "client_id": "p2"}]).get_json()["results"]
    assert refused["error"]["code"] == 403


def test_the_field_pages_door_takes_the_session_and_its_csrf_token(client, signed_in, coop):
    import json

    items = json.dumps([_batch_item("s1", coop)])
    assert client.post("/field/sync", data={"writes": items}).status_code in (400, 401)
    page_client = signed_in(coop.user)
    token = form_token(page_client, "/field/")
    assert page_client.post("/field/sync", data={"writes": items}).status_code == 400  # no CSRF token
    response = page_client.post("/field/sync", data={"csrf_token": token, "writes": items})
    assert response.status_code == 200 and response.get_json()["results"][0]["status"] == "created"
    again = page_client.post("/field/sync?lang=en", data={"csrf_token": token, "writes": items})
    assert again.get_json()["results"][0]["status"] == "duplicate"
    bad = page_client.post("/field/sync", data={"csrf_token": token, "writes": "not json"})
    assert bad.status_code == 422 and bad.get_json()["code"] == 422
    assert _count(Batch, Batch.custodian_org_id == coop.org.id) == 1


def test_a_form_posted_twice_with_its_key_stores_once(signed_in, coop):
    client = signed_in(coop.user)
    page = client.get("/field/batches/new").get_data(as_text=True)
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page)[1]
    form = {"product": "loquat", "quantity": "20", "unit": "公斤", "idempotency_key": key}
    first, second = post_form(client, "/field/batches/new", form), post_form(client, "/field/batches/new", form)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]  # the second lands on the same batch
    assert _count(Batch, Batch.custodian_org_id == coop.org.id) == 1
    # Every write form on the field pages carries its own key.
    for path in ("/field/sites/new", "/field/members/new", "/field/batches/new"):
        assert re.search(r'name="idempotency_key" value="field-[\w-]{20,}"', client.get(path).get_data(as_text=True))
