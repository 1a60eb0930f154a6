"""Pre-harvest intervals (安全间隔期): a harvest before a pesticide's interval has passed is a finding."""

from __future__ import annotations

import datetime as dt

from app.clock import CHINA_TZ as CST
from tests.compliance.factories import add_event, amend_event


def planting(*inputs):
    return {"inputs": list(inputs), "area_mu": "12"}


def pesticide(name, applied, phi_days, **kw):
    return {"kind": "pesticide", "name": name, "dose": "50", "dose_unit": "mL/亩", "applied_at": applied,
            "phi_days": phi_days, **kw}  # fmt: skip


def test_a_harvest_inside_the_interval_is_a_finding_named_in_the_verdict(
    client, producer, make_batch, inspector_headers
):
    batch = make_batch("loquat")
    add_event(
        batch, producer, "planting", dt.datetime(2026, 4, 1, 8, tzinfo=CST),
        planting(
            pesticide("多菌灵", "2026-04-01T08:00:00+08:00", 21, registration_no="PD20097415"),
            pesticide("吡虫啉", "2026-03-01T08:00:00+08:00", 14),
            {"kind": "fertilizer", "name": "有机肥", "dose": "200", "dose_unit": "kg/亩",
             "applied_at": "2026-03-20T08:00:00+08:00"},
        ),
    )  # fmt: skip
    add_event(batch, producer, "harvest", dt.datetime(2026, 4, 10, 8, tzinfo=CST), {"quantity": "500", "unit": "kg"})

    body = client.get(f"/api/v1/batches/{batch.id}/compliance", headers=inspector_headers).get_json()
    by_name = {c["pesticide"]: c for c in body["pre_harvest"]}
    assert set(by_name) == {"多菌灵", "吡虫啉"}  # the fertilizer has no interval
    early = by_name["多菌灵"]
    assert (early["breached"], early["phi_days"], early["days_short"]) == (True, 21, 12)
    assert early["registration_no"] == "PD20097415"
    assert by_name["吡虫啉"]["breached"] is False
    assert body["verdict"] == "fail"
    assert any("pre-harvest" in r for r in body["reasons"])
    [finding] = body["findings"]
    assert finding["kind"] == "pre_harvest_interval" and "多菌灵" in finding["subject"]
    assert finding["detail"]["days_short"] == 12
    listed = client.get(f"/api/v1/findings?batch={batch.id}&status=open", headers=inspector_headers).get_json()
    assert [f["id"] for f in listed["items"]] == [finding["id"]]


def test_the_interval_is_read_from_the_corrected_journey(client, producer, make_batch, inspector_headers):
    batch = make_batch("loquat")
    wrong = planting(pesticide("多菌灵", "2026-04-09T08:00:00+08:00", 21))
    planted = add_event(batch, producer, "planting", dt.datetime(2026, 4, 9, 8, tzinfo=CST), wrong)
    add_event(batch, producer, "harvest", dt.datetime(2026, 5, 10, 8, tzinfo=CST), {"quantity": "500", "unit": "kg"})
    body = client.get(f"/api/v1/batches/{batch.id}/compliance", headers=inspector_headers).get_json()
    assert [c["breached"] for c in body["pre_harvest"]] == [False]
    assert body["findings"] == []

    # The farmer corrects the application date: it was sprayed on 4 May, six days before harvest.
    corrected = planting(pesticide("多菌灵", "2026-05-04T08:00:00+08:00", 21))
    amend_event(batch, producer, planted.seq, dt.datetime(2026, 5, 11, 8, tzinfo=CST), "施药日期录错", corrected)
    body = client.get(f"/api/v1/batches/{batch.id}/compliance", headers=inspector_headers).get_json()
    [check] = body["pre_harvest"]
    assert (check["breached"], check["days_short"]) == (True, 15)
    assert [f["kind"] for f in body["findings"]] == ["pre_harvest_interval"]


def test_a_product_without_a_harvest_stage_has_no_interval_checks(client, make_batch, inspector_headers):
    batch = make_batch("mahua")
    body = client.get(f"/api/v1/batches/{batch.id}/compliance", headers=inspector_headers).get_json()
    assert body["pre_harvest"] == []


def test_the_finding_opens_when_the_early_harvest_is_recorded(producer, make_batch):
    """Nobody has to read the batch first: recording the harvest opens the finding."""
    from sqlalchemy import select

    from app.compliance.models import Finding
    from app.db import db

    batch = make_batch("loquat")
    add_event(
        batch, producer, "planting", dt.datetime(2026, 4, 1, 8, tzinfo=CST),
        planting(pesticide("多菌灵", "2026-04-01T08:00:00+08:00", 21)),
    )  # fmt: skip
    assert db.session.scalars(select(Finding).where(Finding.batch_id == batch.id)).all() == []
    add_event(batch, producer, "harvest", dt.datetime(2026, 4, 10, 8, tzinfo=CST), {"quantity": "500", "unit": "kg"})
    findings = db.session.scalars(select(Finding).where(Finding.batch_id == batch.id)).all()
    assert [f.kind for f in findings] == ["pre_harvest_interval"]
    assert findings[0].status == "open"
