"""Consumer scans by product and week on the dashboard: the figure, the chart, its drill-down and download."""

from __future__ import annotations

import csv
import datetime as dt
import io

from sqlalchemy import select

from app.clock import CHINA_TZ
from app.db import db, utcnow
from app.labels import scans
from app.labels.models import ScanDay, Unit
from app.office import dashboard
from tests.compliance.factories import new_batch
from tests.conftest import settle
from tests.labels.conftest import _inline_jobs, make_labelled  # noqa: F401 - pytest fixtures
from tests.labels.test_resolver import make_units
from tests.office.test_pages import sign_in


def test_scans_by_product_and_week_drill_down_to_the_week(client, make_user, auth):
    batch = new_batch(make_user("processor"), product="brick_tea")
    today = utcnow().astimezone(CHINA_TZ).date()
    monday = today - dt.timedelta(days=today.weekday())
    before = dashboard.summary()["scans"]
    db.session.add_all(
        [
            ScanDay(batch_id=batch.id, day=monday, scans=7),
            ScanDay(batch_id=batch.id, day=monday - dt.timedelta(days=7), scans=3),
            ScanDay(batch_id=batch.id, day=monday - dt.timedelta(weeks=20), scans=50),  # before the chart's weeks
        ]
    )
    settle()
    figures = client.get("/api/v1/office/summary", headers=auth("admin")).get_json()["scans"]
    assert figures["weeks"][-1] == monday.isoformat() and len(figures["weeks"]) == 12
    assert figures["by_product"]["brick_tea"][-1] == before["by_product"]["brick_tea"][-1] + 7
    assert figures["by_product"]["brick_tea"][-2] == before["by_product"]["brick_tea"][-2] + 3
    assert figures["total"] == before["total"] + 10

    sign_in(client, make_user("admin"))
    page = client.get("/office").get_data(as_text=True)
    assert 'id="chart-scans"' in page and "消费者扫码" in page
    drill = client.get(f"/office/drill/scans?param=week&key={monday.isoformat()}").get_data(as_text=True)
    assert "赤壁青砖茶" in drill and ">7<" in drill.replace(" ", "")
    as_csv = client.get(f"/office/drill/scans.csv?param=week&key={monday.isoformat()}")
    rows = list(csv.reader(io.StringIO(as_csv.data.decode("utf-8-sig"))))
    assert rows[0] == ["周（周一）", "产品", "扫码次数"]
    assert [monday.isoformat(), "赤壁青砖茶", "7"] in rows[1:]


def test_the_dashboard_counts_raw_and_folded_scans_as_the_labels_data_does(client, make_labelled):  # noqa: F811
    labelled = make_labelled()
    [first, *_rest] = make_units(client, labelled, count=1)
    unit = db.session.scalar(select(Unit).where(Unit.serial == first["serial"]))
    who = scans.Client("192.0.2.0/24", None, "chrome", False)
    now = utcnow()
    today = now.astimezone(CHINA_TZ).date()
    monday = dt.datetime.combine(today - dt.timedelta(days=today.weekday()), dt.time(), CHINA_TZ)
    # Either side of a week's first instant (Monday 00:00 China time), and a scan of today.
    for moment in (monday - dt.timedelta(seconds=1), monday, monday + dt.timedelta(seconds=1), now):
        scans.log_scan(unit, who, min(moment, now))
    db.session.add(ScanDay(batch_id=labelled.batch.id, day=monday.date() - dt.timedelta(days=10), scans=4))
    settle()
    mondays, weekly = dashboard.scan_weeks(today)
    assert weekly == scans.weekly_by_product(mondays[0], today)
    assert weekly["brick_tea"][monday.date()] >= 3 and weekly["brick_tea"][monday.date() - dt.timedelta(weeks=1)] >= 1
