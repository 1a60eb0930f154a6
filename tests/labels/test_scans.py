"""PIN verification and its limits, the scan log's privacy, each anomaly rule, and retention."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from app.db import db
from app.labels import scans
from app.labels.models import PinAttempt, Scan, ScanDay, Unit, UnitFlag
from tests.labels.test_resolver import make_units, path_of

WUHAN = ("武汉市", 30.59, 114.31)
XIANNING = ("咸宁市", 29.84, 114.32)
URUMQI = ("乌鲁木齐市", 43.83, 87.62)


@pytest.fixture
def unit(client, labelled):
    return make_units(client, labelled)[0]


def verify(client, serial, pin, ip="198.51.100.9"):
    return client.post(f"/api/v1/units/{serial}/verify", json={"pin": pin}, environ_base={"REMOTE_ADDR": ip})


def flags(serial: str) -> dict[str, UnitFlag]:
    rows = db.session.scalars(select(UnitFlag).join(Unit, UnitFlag.unit_id == Unit.id).where(Unit.serial == serial))
    return {f.rule: f for f in rows}


def test_the_first_correct_pin_verifies_and_later_ones_warn(client, app, unit, monkeypatch):
    monkeypatch.setitem(app.config, "SCAN_CITY_LOOKUP", lambda ip: XIANNING)
    wrong = verify(client, unit["serial"], "00000000" if unit["pin"] != "00000000" else "11111111")
    assert wrong.status_code == 200 and wrong.get_json()["genuine"] is False
    first = verify(client, unit["serial"], unit["pin"]).get_json()
    assert (first["genuine"], first["first"], first["first_city"], first["verifications"]) == (True, True, "咸宁市", 1)
    again = verify(client, unit["serial"], unit["pin"]).get_json()
    assert again["genuine"] and not again["first"] and again["verifications"] == 2
    assert "首次验证" in again["message"] and "咸宁市" in again["message"]
    english = client.post(f"/api/v1/units/{unit['serial']}/verify?lang=en", json={"pin": unit["pin"]}).get_json()
    assert "first verified" in english["message"]


def test_the_page_says_genuine_only_after_a_correct_pin(client, unit):
    page = client.get(path_of(unit["uri"])).get_data(as_text=True)
    assert "正品" not in page
    done = client.post(f"/u/{unit['serial']}/verify", data={"pin": unit["pin"]})
    assert done.status_code == 200
    assert "✓ 正品" in done.get_data(as_text=True)
    later = client.get(path_of(unit["uri"])).get_data(as_text=True)
    assert "正品" not in later and "此码此前已被验证 1 次" in later
    warned = client.post(f"/u/{unit['serial']}/verify", data={"pin": unit["pin"]}).get_data(as_text=True)
    assert "首次验证" in warned and "✓ 正品" not in warned


def test_a_pin_that_is_not_8_digits_is_a_422_naming_pin(client, unit):
    response = verify(client, unit["serial"], "12ab")
    assert response.status_code == 422 and "pin" in response.get_json()["errors"]["json"]
    assert db.session.scalar(select(func.count()).select_from(PinAttempt)) == 0


def test_pin_attempts_are_limited_per_unit_and_per_client(client, app, labelled, monkeypatch):
    monkeypatch.setitem(app.config, "LABEL_PIN_UNIT_LIMIT", 3)
    monkeypatch.setitem(app.config, "LABEL_PIN_CLIENT_LIMIT", 4)
    a, b, c = make_units(client, labelled, 3)
    bad = lambda u: "00000000" if u["pin"] != "00000000" else "11111111"  # noqa: E731
    for _ in range(3):
        assert verify(client, a["serial"], bad(a)).status_code == 200
    assert verify(client, a["serial"], a["pin"]).status_code == 429  # even the right PIN waits
    assert verify(client, a["serial"], a["pin"], ip="192.0.2.1").status_code == 429  # per unit, any client
    assert verify(client, b["serial"], bad(b)).status_code == 200  # the 4th wrong one from this network
    limited = verify(client, c["serial"], c["pin"])
    assert limited.status_code == 429 and "网络" in limited.get_json()["message"]
    assert verify(client, c["serial"], c["pin"], ip="192.0.2.1").get_json()["genuine"] is True


def test_pin_guessing_raises_a_flag(client, app, unit, monkeypatch):
    monkeypatch.setitem(app.config, "LABEL_PIN_GUESSES", 3)
    for n in range(3):
        verify(client, unit["serial"], f"{n:08d}" if f"{n:08d}" != unit["pin"] else "99999999")
    assert flags(unit["serial"])["pin_guessing"].detail == {"wrong_pins_24h": 3}


def test_the_scan_log_keeps_no_full_ip(client, labelled, unit):
    client.get(path_of(unit["uri"]), environ_base={"REMOTE_ADDR": "203.0.113.201"})
    client.get(path_of(unit["uri"]), environ_base={"REMOTE_ADDR": "2001:db8:abcd:12:1:2:3:4"})
    client.get(path_of(unit["uri"]), environ_base={"REMOTE_ADDR": "::ffff:198.51.100.7"})
    stored = db.session.scalars(select(Scan).where(Scan.batch_id == labelled.batch.id).order_by(Scan.id)).all()
    assert [s.net_prefix for s in stored] == ["203.0.113.0/24", "2001:db8:abcd::/48", "198.51.100.0/24"]
    every_value = " ".join(str(getattr(s, c.key)) for s in stored for c in Scan.__table__.columns)
    for full in ("203.0.113.201", "2001:db8:abcd:12", "198.51.100.7"):
        assert full not in every_value


@pytest.mark.parametrize(
    ("ua", "expected"),
    [
        ("Mozilla/5.0 (iPhone) AppleWebKit/605.1.15 Mobile/15E148 MicroMessenger/8.0.44", ("wechat", True)),
        ("Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/120.0 Mobile Safari/537.36", ("chrome", False)),
        ("Mozilla/5.0 (iPhone) AppleWebKit/605.1.15 Version/17.0 Mobile/15E148 Safari/604.1", ("safari", False)),
        ("curl/8.0", ("other", False)),
    ],
)  # fmt: skip
def test_browser_classes(ua, expected):
    assert scans.browser_class(ua) == expected


def test_more_than_n_scans_in_24_hours_raises_a_flag(client, app, unit, monkeypatch):
    monkeypatch.setitem(app.config, "LABEL_BURST_SCANS", 3)
    for _ in range(3):
        client.get(path_of(unit["uri"]))
    assert "burst" not in flags(unit["serial"])
    client.get(path_of(unit["uri"]))
    assert flags(unit["serial"])["burst"].detail == {"scans_24h": 4}


def test_two_cities_too_far_apart_for_the_time_between_raise_a_flag(client, app, unit, monkeypatch):
    where = iter([XIANNING, WUHAN, URUMQI])
    monkeypatch.setitem(app.config, "SCAN_CITY_LOOKUP", lambda ip: next(where))
    client.get(path_of(unit["uri"]))
    client.get(path_of(unit["uri"]))  # Xianning to Wuhan (about 80 km): too near to judge
    assert "travel" not in flags(unit["serial"])
    client.get(path_of(unit["uri"]))  # Wuhan to Urumqi (about 2,700 km) in seconds
    flag = flags(unit["serial"])["travel"]
    assert (flag.detail["from"], flag.detail["to"]) == ("武汉市", "乌鲁木齐市")
    assert 2500 < flag.detail["km"] < 2900


def test_a_slow_trip_is_not_flagged(app, labelled, client, monkeypatch):
    unit_row = make_units(client, labelled, 1)[0]
    unit = db.session.scalar(select(Unit).where(Unit.serial == unit_row["serial"]))
    t0 = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
    scans.log_scan(unit, scans.Client("192.0.2.0/24", WUHAN, "chrome", False), t0)
    scans.log_scan(unit, scans.Client("192.0.2.0/24", URUMQI, "chrome", False), t0 + dt.timedelta(hours=5))
    assert "travel" not in flags(unit.serial)


def test_retention_folds_old_scans_into_daily_counts(app, client, labelled, unit):
    row = db.session.scalar(select(Unit).where(Unit.serial == unit["serial"]))
    now = dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)
    old = now - dt.timedelta(days=200)
    for hours in (0, 1, 24):
        scans.log_scan(row, scans.Client("192.0.2.0/24", None, "chrome", False), old + dt.timedelta(hours=hours))
    scans.log_scan(row, scans.Client("192.0.2.0/24", None, "chrome", False), now - dt.timedelta(days=3))
    assert scans.fold_old_scans(now) == (3, 2)
    days = {d.day: d.scans for d in db.session.scalars(select(ScanDay).where(ScanDay.batch_id == labelled.batch.id))}
    china_day = (old + dt.timedelta(hours=8)).date()
    assert days == {china_day: 2, china_day + dt.timedelta(days=1): 1}
    assert db.session.scalar(select(func.count()).select_from(Scan).where(Scan.batch_id == labelled.batch.id)) == 1
    result = app.test_cli_runner().invoke(args=["labels", "retention"])
    assert result.exit_code == 0 and "folded 0 scan(s)" in result.output


def test_weekly_scans_by_product_count_raw_and_folded_scans(app, client, labelled, unit):
    row = db.session.scalar(select(Unit).where(Unit.serial == unit["serial"]))
    now = dt.datetime(2026, 12, 2, 4, tzinfo=dt.UTC)  # Wednesday noon in China
    client_ = scans.Client("192.0.2.0/24", None, "chrome", False)
    scans.log_scan(row, client_, now)
    scans.log_scan(row, client_, now - dt.timedelta(days=1))
    old = now - dt.timedelta(days=190)
    scans.log_scan(row, client_, old)
    scans.fold_old_scans(now)
    weeks = scans.weekly_by_product(dt.date(2026, 5, 1), dt.date(2026, 12, 6))
    old_day = (old + dt.timedelta(hours=8)).date()
    assert weeks == {"brick_tea": {dt.date(2026, 11, 30): 2, old_day - dt.timedelta(days=old_day.weekday()): 1}}
