"""Labels in the web pages: the field app starts a run and shows its progress and files; flags on the desk."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from app.auth import Actor
from app.db import db
from app.labels import runs, scans
from app.labels.models import LabelRun, Unit
from tests.conftest import settle
from tests.web.conftest import PASSWORD, csrf_from, sign_in


def field_user(make_user, make_org):
    org = make_org(kind="cooperative")
    return make_user("cooperative", org=org, password=PASSWORD)


def test_the_field_app_starts_a_run_and_offers_its_files(client, make_user, make_org, make_labelled):
    from app.batches import service as batches

    user = field_user(make_user, make_org)
    actor = Actor(user=user, org=user.organization)
    from decimal import Decimal

    batch = batches.create_batch(actor, product="loquat", quantity=Decimal("10"), unit="box", gtin="6901234567892")
    settle()
    assert sign_in(client, user.username).status_code == 302
    page = client.get(f"/field/batches/{batch.id}").get_data(as_text=True)
    assert 'id="labels"' in page and "生成标签" in page
    started = client.post(f"/field/batches/{batch.id}/label-runs",
                          data={"csrf_token": csrf_from(page), "count": "30", "template": "a4_40"})  # fmt: skip
    assert started.status_code == 302 and started.headers["Location"].endswith("#labels")
    run = db.session.scalar(select(LabelRun).where(LabelRun.batch_id == batch.id))
    page = client.get(f"/field/batches/{batch.id}").get_data(as_text=True)
    assert '<progress value="30" max="30">' in page
    pdf = client.get(f"/field/label-runs/{run.id}/pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert client.get(f"/field/label-runs/{run.id}/csv").data.decode("utf-8-sig").count("\r\n") == 31
    refused = client.post(f"/field/batches/{batch.id}/label-runs",
                          data={"csrf_token": csrf_from(page), "count": "0", "template": "a4_40"})  # fmt: skip
    assert refused.status_code == 302
    shown = client.get(refused.headers["Location"]).get_data(as_text=True)
    assert 'id="label-error"' in shown and "count" in shown


def test_a_running_job_shows_a_progress_bar_that_refreshes(client, make_user, make_org, rq_queue):
    from decimal import Decimal

    from app.batches import service as batches

    user = field_user(make_user, make_org)
    actor = Actor(user=user, org=user.organization)
    batch = batches.create_batch(actor, product="loquat", quantity=Decimal("10"), unit="box")
    run = runs.create_run(actor, batch.id, 50, "zpl")
    settle()
    sign_in(client, user.username)
    page = client.get(f"/field/batches/{batch.id}").get_data(as_text=True)
    assert f'id="run-{run.id}-progress" value="0" max="50"' in page
    assert '<meta http-equiv="refresh"' in page


def test_flags_show_on_the_desk_list_its_batch_page_and_the_field_app(client, app, make_user, labelled, monkeypatch):
    run = runs.create_run(labelled.actor, labelled.batch.id, 1, "zpl")
    unit = db.session.scalar(select(Unit).where(Unit.run_id == run.id))
    runs.void_unit(labelled.actor, unit.serial, "印错", dt.datetime.now(dt.UTC))
    scans.log_scan(unit, scans.Client("192.0.2.0/24", None, "chrome", False), dt.datetime.now(dt.UTC))
    inspector = make_user("inspector", password=PASSWORD)
    settle()
    sign_in(client, inspector.username)
    alerts = client.get("/desk/label-alerts").get_data(as_text=True)
    assert unit.serial in alerts and "已作废的码被扫描" in alerts and labelled.batch.lot_code in alerts
    desk_page = client.get(f"/desk/batches/{labelled.batch.id}").get_data(as_text=True)
    assert 'id="label-flags"' in desk_page and unit.serial in desk_page
