"""Recording a stage: forms generated from the stage definitions, China time, the API's own rules."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import flask_babel
import pytest
from sqlalchemy import func, select

from app.batches.models import Batch, Event
from app.catalog.products import PRODUCTS
from app.compliance.models import Finding
from app.db import db
from app.field import forms
from app.field.models import EnteredQuantity
from tests.field.conftest import post_form

CST = dt.timezone(dt.timedelta(hours=8))


def _in_language(app, lang):
    context = app.test_request_context(f"/?lang={lang}")
    context.push()
    flask_babel.refresh()
    return context


@pytest.mark.parametrize("product", list(PRODUCTS))
def test_every_stage_of_every_product_has_a_form_with_labels(app, product):
    for stage in PRODUCTS[product].stages:
        for english in (False, True):
            context = _in_language(app, "en" if english else "zh")
            try:
                form = forms.stage_form(product, stage, english)
            finally:
                context.pop()
            for ff in form:
                for f in [ff, *ff.rows]:
                    # A key shown as itself means stages.py gained a field the form cannot name yet.
                    assert f.label != f.name, (product, stage, f.name)
                    if not english:
                        assert re.search(r"[\u4e00-\u9fff]", f.label), (product, stage, f.name, f.label)


def test_the_form_follows_the_stage_definition(app):
    context = _in_language(app, "zh")
    harvest = {f.name: f for f in forms.stage_form("osmanthus", "harvest")}
    assert harvest["quantity"].widget == "quantity" and harvest["quantity"].required
    assert {u.key for u in harvest["quantity"].units} >= {"斤", "公斤", "吨"}
    assert "unit" not in harvest  # drawn with the quantity
    assert harvest["variety"].widget == "choice" and [c for c, _ in harvest["variety"].choices] == [
        "金桂", "银桂", "丹桂", "四季桂",
    ]  # fmt: skip
    planting = {f.name: f for f in forms.stage_form("loquat", "planting")}
    inputs = {f.name: f for f in planting["inputs"].rows}
    assert planting["inputs"].widget == "list"
    assert inputs["kind"].choices == [("fertilizer", "肥料"), ("pesticide", "农药")]
    assert inputs["applied_at"].widget == "datetime" and inputs["phi_days"].widget == "integer"
    assert planting["area_mu"].widget == "area"
    context.pop()


@pytest.fixture
def loquat_lot(signed_in, coop):
    client = signed_in(coop.user)
    response = post_form(
        client,
        "/field/batches/new",
        {"product": "loquat", "quantity": "200", "unit": "斤", "producer": coop.members[0].code},
    )
    assert response.status_code == 302
    batch = db.session.scalar(select(Batch).order_by(Batch.id.desc()))
    return client, batch


def _stage(client, batch, stage, data, lang=""):
    path = f"/field/batches/{batch.id}/stages/{stage}" + (f"?lang={lang}" if lang else "")
    page = client.get(path).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page)[1]
    return client.post(path, data={"csrf_token": token, "idempotency_key": key, **data}), key


def _events(batch):
    """Every record of the batch's chain, the ``created`` record that opens it (seq 1) first."""
    return list(db.session.scalars(select(Event).where(Event.batch_id == batch.id).order_by(Event.seq)))


def _stages(batch):
    return [e.stage for e in _events(batch)]


def test_the_form_defaults_to_now_in_china_time(loquat_lot):
    client, batch = loquat_lot
    page = client.get(f"/field/batches/{batch.id}/stages/harvest").get_data(as_text=True)
    shown = re.search(r'name="occurred_at" type="datetime-local" value="([^"]+)"', page)[1]
    moment = dt.datetime.fromisoformat(shown).replace(tzinfo=CST)
    assert abs(moment - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=2)
    assert "采收量" in page and "北京时间" in page and 'value="斤"' in page


def test_planting_with_a_pesticide_then_a_harvest_in_jin(loquat_lot):
    client, batch = loquat_lot
    response, _ = _stage(
        client, batch, "planting",
        {
            "occurred_at": "2026-03-02T08:30", "area_mu": "2.5", "inputs-rows": "2",
            "inputs-0-kind": "pesticide", "inputs-0-name": "吡虫啉", "inputs-0-registration_no": "PD20060001",
            "inputs-0-dose": "30", "inputs-0-dose_unit": "毫升/亩", "inputs-0-applied_at": "2026-03-02T08:00",
            "inputs-0-phi_days": "14",
        },
    )  # fmt: skip
    assert response.status_code == 302
    response, _ = _stage(
        client, batch, "harvest", {"occurred_at": "2026-05-10T07:00", "quantity": "50", "quantity-unit": "斤"}
    )
    assert response.status_code == 302
    created, planting, harvest = _events(batch)
    assert (created.seq, created.stage, planting.seq, harvest.seq) == (1, "created", 2, 3)
    assert planting.occurred_at == dt.datetime(2026, 3, 2, 0, 30, tzinfo=dt.UTC)
    assert planting.data["area_mu"] == "2.500"
    [pesticide] = planting.data["inputs"]
    assert pesticide["kind"] == "pesticide" and pesticide["phi_days"] == 14
    assert dt.datetime.fromisoformat(pesticide["applied_at"]) == dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
    assert (harvest.data["quantity"], harvest.data["unit"]) == ("25.000", "kg")
    entered = db.session.scalar(select(EnteredQuantity).where(EnteredQuantity.event_id == harvest.id))
    assert (entered.quantity, entered.unit) == (Decimal("50.000"), "斤")
    page = client.get(f"/field/batches/{batch.id}").get_data(as_text=True)
    assert "种植" in page and "吡虫啉" in page and "安全间隔期 14 天" in page and "50 斤 (25 公斤)" in page


def test_a_refused_stage_names_the_field_and_stores_nothing(loquat_lot):
    client, batch = loquat_lot
    response, _ = _stage(
        client, batch, "harvest", {"occurred_at": "2026-05-10T07:00", "quantity": "", "quantity-unit": "斤"}
    )
    assert response.status_code == 422 and "采收量：必填" in response.get_data(as_text=True)
    response, _ = _stage(
        client, batch, "storage", {"occurred_at": "2026-05-10T07:00", "temperature_c": "500", "humidity_pct": ""}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "温度(℃)：应在 -60 到 80 之间" in page and "湿度(%)：必填" in page
    response, _ = _stage(
        client, batch, "packing", {"occurred_at": "2099-01-01T00:00", "package": "5斤装", "count": "10"}
    )
    assert response.status_code == 422 and "发生时间：不能晚于现在" in response.get_data(as_text=True)
    assert _stages(batch) == ["created"]


def test_the_stage_order_is_the_apis(loquat_lot):
    client, batch = loquat_lot
    assert (
        _stage(client, batch, "harvest", {"occurred_at": "2026-05-10T07:00", "quantity": "5", "quantity-unit": "公斤"})[
            0
        ].status_code
        == 302
    )
    response, _ = _stage(client, batch, "seedling", {"occurred_at": "2026-05-11T07:00", "count": "10"})
    assert response.status_code == 422 and "按发生时间，这个环节应在已记录的后面环节之前" in response.get_data(
        as_text=True
    )
    assert _stages(batch) == ["created", "harvest"]


def test_a_forgotten_planting_is_recorded_late_and_marked(loquat_lot):
    client, batch = loquat_lot
    harvest = {"occurred_at": "2026-05-10T07:00", "quantity": "5", "quantity-unit": "公斤"}
    assert _stage(client, batch, "harvest", harvest)[0].status_code == 302
    assert _stage(client, batch, "planting", {"occurred_at": "2026-03-02T08:00"})[0].status_code == 302
    assert _stages(batch) == ["created", "harvest", "planting"]
    page = client.get(f"/field/batches/{batch.id}").get_data(as_text=True)
    # Shown in the order it happened, the planting marked as entered late.
    assert page.index('data-stage="planting"') < page.index('data-stage="harvest"')
    assert re.search(r"补录（事后 \d+ 天记录）", page)


def test_a_double_tap_stores_once(loquat_lot):
    client, batch = loquat_lot
    path = f"/field/batches/{batch.id}/stages/packing"
    page = client.get(path).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page)[1]
    form = {
        "csrf_token": token,
        "idempotency_key": key,
        "occurred_at": "2026-05-12T09:00",
        "package": "5斤装",
        "count": "10",
    }
    assert client.post(path, data=form).status_code == 302
    assert client.post(path, data=form).status_code == 302
    assert _stages(batch) == ["created", "packing"]


def test_english_labels_and_errors(loquat_lot):
    client, batch = loquat_lot
    response, _ = _stage(client, batch, "harvest", {"occurred_at": "2026-05-10T07:00", "quantity": ""}, lang="en")
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "Harvest" in page and "Harvested: Required" in page


def test_only_the_custodian_records(loquat_lot, signed_in, coop):
    client, batch = loquat_lot
    client.post(
        "/logout",
        data={
            "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', client.get("/field/").get_data(as_text=True))[
                1
            ]
        },
    )
    member = signed_in(coop.member_user)  # the producer reads the lot, the cooperative holds it
    assert member.get(f"/field/batches/{batch.id}").status_code == 200
    assert member.get(f"/field/batches/{batch.id}/stages/harvest").status_code == 403
    assert _stages(batch) == ["created"]  # the chain as the lot was created: nothing recorded


def test_another_row_for_a_second_pesticide_saves_nothing(loquat_lot):
    client, batch = loquat_lot
    page = client.get(f"/field/batches/{batch.id}/stages/planting").get_data(as_text=True)
    assert 'name="inputs-0-name"' in page and 'name="inputs-1-name"' not in page
    response, _ = _stage(
        client, batch, "planting", {"inputs-rows": "1", "inputs-0-name": "吡虫啉", "add_row": "inputs"}
    )
    grown = response.get_data(as_text=True)
    assert response.status_code == 200 and 'name="inputs-1-name"' in grown and 'value="吡虫啉"' in grown
    assert _stages(batch) == ["created"]


def _plant(client, batch, applied="2026-05-01T08:00", phi_days="21"):
    planting = {
        "occurred_at": "2026-03-02T08:00", "inputs-rows": "1", "inputs-0-kind": "pesticide",
        "inputs-0-name": "多菌灵", "inputs-0-dose": "50", "inputs-0-dose_unit": "毫升/亩",
        "inputs-0-applied_at": applied, "inputs-0-phi_days": phi_days,
    }  # fmt: skip
    assert _stage(client, batch, "planting", planting)[0].status_code == 302


def test_a_harvest_inside_the_interval_warns_and_is_stored_only_when_confirmed(loquat_lot):
    client, batch = loquat_lot
    _plant(client, batch)
    harvest = {"occurred_at": "2026-05-10T07:00", "quantity": "40", "quantity-unit": "斤"}
    response, key = _stage(client, batch, "harvest", harvest)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="interval-warning"' in page
    warning = page[page.index('id="interval-warning"') : page.index("</ul>", page.index('id="interval-warning"'))]
    # 名称, 施药日期, 还差几天: intervals count calendar days in China time (issue 9): safe from
    # 22 May, harvested on 10 May, so 12 days short (the hour of day does not matter)
    assert "多菌灵" in warning and "2026-05-01" in warning and '<strong class="days-short">12</strong>' in warning
    assert _stages(batch) == ["created", "planting"]
    assert db.session.scalar(select(func.count(Finding.id)).where(Finding.batch_id == batch.id)) == 0
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
    assert re.search(r'name="idempotency_key" value="([^"]+)"', page)[1] == key  # the same write, confirmed
    confirmed = client.post(
        f"/field/batches/{batch.id}/stages/harvest",
        data={"csrf_token": token, "idempotency_key": key, "confirm_interval": "1", **harvest},
    )
    assert confirmed.status_code == 302
    assert _stages(batch) == ["created", "planting", "harvest", "hold"]  # a breach fails and holds the lot
    [finding] = db.session.scalars(select(Finding).where(Finding.batch_id == batch.id))
    assert finding.kind == "pre_harvest_interval" and finding.status == "open"


def test_a_harvest_after_the_interval_is_stored_without_a_warning(loquat_lot):
    client, batch = loquat_lot
    _plant(client, batch, applied="2026-04-01T08:00", phi_days="14")
    harvest = {"occurred_at": "2026-05-10T07:00", "quantity": "40", "quantity-unit": "斤"}
    assert _stage(client, batch, "harvest", harvest)[0].status_code == 302
    assert _stages(batch) == ["created", "planting", "harvest"]


def test_one_field_is_corrected_with_a_reason_and_the_record_keeps_both(loquat_lot):
    client, batch = loquat_lot
    harvest = {"occurred_at": "2026-05-10T07:00", "quantity": "50", "quantity-unit": "斤", "grade": "一级"}
    assert _stage(client, batch, "harvest", harvest)[0].status_code == 302
    created, recorded = _events(batch)
    assert (created.seq, recorded.seq, recorded.stage) == (1, 2, "harvest")
    # The created record (the lot's own facts) is no stage to correct; the harvest is seq 2.
    assert client.get(f"/field/batches/{batch.id}/events/{created.seq}/correct").status_code == 404
    choose = client.get(f"/field/batches/{batch.id}/events/{recorded.seq}/correct").get_data(as_text=True)
    assert "采收量" in choose and "25 公斤" in choose and "一级" in choose
    path = f"/field/batches/{batch.id}/events/{recorded.seq}/correct/quantity"
    form = client.get(path).get_data(as_text=True)
    assert 'value="25.000"' in form  # the stored figure, to change in any unit
    refused = post_form(client, path, {"quantity": "60", "quantity-unit": "斤", "reason": ""})
    assert refused.status_code == 422 and "更正原因：请选择更正原因" in refused.get_data(as_text=True)
    assert _stages(batch) == ["created", "harvest"]
    done = post_form(client, path, {"quantity": "60", "quantity-unit": "斤", "reason": "数量有误"})
    assert done.status_code == 302
    _, original, amendment = _events(batch)
    assert original.data["quantity"] == "25.000"  # never changed in place
    assert amendment.stage == "amendment" and amendment.amends_seq == recorded.seq
    assert amendment.data["reason"] == "数量有误"
    # Only the one field changed; the rest of the stage is carried over as it was.
    assert amendment.data["data"] == {**original.data, "quantity": "30.000", "unit": "kg"}
    page = client.get(f"/field/batches/{batch.id}").get_data(as_text=True)
    assert "已更正" in page and "更正原因：数量有误" in page and "30 公斤" in page
