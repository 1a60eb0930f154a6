"""Scans of unit pages, PIN verification, the anomaly rules, and the retention of raw scans.

What a scan keeps: the time, the client's network prefix (IPv4 /24, IPv6 /48, never the full
address), a city when an offline IP database gives one, the browser's class and whether it is
WeChat's. No IP database ships with this project (none on the package index carries one we could
vouch for), so ``city`` stays empty unless the app is given a ``SCAN_CITY_LOOKUP``, a function from
an IP address to ``(city, latitude, longitude)`` of the city; the travel rule needs it.

Thresholds are configuration (``LABEL_*`` keys, or the same names in the environment; see
``THRESHOLDS``). Raw scans are kept ``SCAN_RETENTION_DAYS`` (180) days; ``flask labels
retention`` folds older ones into daily counts per batch and deletes them.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, select

from app.batches.models import Batch
from app.clock import CHINA_TZ
from app.db import db
from app.errors import DomainError
from app.labels import serials
from app.labels.models import FlagRule, PinAttempt, Scan, ScanDay, Unit, UnitFlag

# Configuration keys and their defaults.
THRESHOLDS: dict[str, float] = {
    "LABEL_BURST_SCANS": 20,  # more scans than this in 24 hours flags the unit
    "LABEL_TRAVEL_KMH": 900,  # faster than an airliner between two cities flags it
    "LABEL_TRAVEL_MIN_KM": 100,  # nearer cities are within one IP database's error
    "LABEL_PIN_GUESSES": 5,  # wrong PINs on one unit in 24 hours flag it
    "LABEL_PIN_UNIT_LIMIT": 5,  # wrong PINs on one unit in an hour, then 429
    "LABEL_PIN_CLIENT_LIMIT": 20,  # wrong PINs from one network in an hour, then 429
    "SCAN_RETENTION_DAYS": 180,
}


def threshold(name: str) -> float:
    return float(current_app.config.get(name, THRESHOLDS[name]))


class TooManyAttempts(DomainError):
    status_code = 429


def net_prefix(address: str | None) -> str:
    """The network an address is in: /24 for IPv4, /48 for IPv6; the address itself is not kept."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return "unknown"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    bits = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{bits}", strict=False))


def browser_class(user_agent: str) -> tuple[str, bool]:
    """A coarse class of the browser (no version, nothing that tells one phone from another) and WeChat or not."""
    ua = user_agent or ""
    wechat = "MicroMessenger" in ua
    for token, name in (("MicroMessenger", "wechat"), ("AlipayClient", "alipay"), ("UCBrowser", "uc"),
                        ("Quark", "quark"), ("EdgA", "edge"), ("Edg/", "edge"), ("Firefox", "firefox"),
                        ("FxiOS", "firefox"), ("CriOS", "chrome"), ("Chrome", "chrome"),
                        ("Safari", "safari")):  # fmt: skip
        if token in ua:
            return name, wechat
    return "other", wechat


CityLookup = Callable[[str], "tuple[str, float, float] | None"]


def city_of(address: str | None) -> tuple[str, float, float] | None:
    lookup: CityLookup | None = current_app.config.get("SCAN_CITY_LOOKUP")
    if lookup is None or not address:
        return None
    return lookup(address)


@dataclass(frozen=True)
class Client:
    """Who is scanning, as far as we keep it."""

    net_prefix: str
    city: tuple[str, float, float] | None
    browser: str
    wechat: bool


def client_of(remote_addr: str | None, user_agent: str) -> Client:
    browser, wechat = browser_class(user_agent)
    return Client(net_prefix(remote_addr), city_of(remote_addr), browser, wechat)


def log_scan(unit: Unit, client: Client, now: dt.datetime) -> Scan:
    """Record a scan of ``unit``'s page and run the scan rules on it."""
    city = client.city
    scan = Scan(unit_id=unit.id, batch_id=unit.batch_id, scanned_at=now, net_prefix=client.net_prefix,
                city=city[0] if city else None, city_lat=city[1] if city else None,
                city_lon=city[2] if city else None, browser=client.browser, wechat=client.wechat)  # fmt: skip
    previous = db.session.scalar(
        select(Scan)
        .where(Scan.unit_id == unit.id, Scan.city_lat.is_not(None))
        .order_by(Scan.scanned_at.desc())
        .limit(1)
    )
    db.session.add(scan)
    db.session.flush()
    if unit.voided_at is not None:
        voided = {"voided_at": unit.voided_at.isoformat(), "reason": unit.void_reason}
        raise_flag(unit, FlagRule.voided_scan, now, voided)
    day_ago = now - dt.timedelta(hours=24)
    recent = (
        db.session.scalar(
            select(func.count()).select_from(Scan).where(Scan.unit_id == unit.id, Scan.scanned_at > day_ago)
        )
        or 0
    )
    if recent > threshold("LABEL_BURST_SCANS"):
        raise_flag(unit, FlagRule.burst, now, {"scans_24h": recent})
    if city and previous is not None and previous.city_lat is not None and previous.city_lon is not None:
        _travel(unit, previous, scan, now)
    return scan


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine, mean Earth radius 6371 km)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371 * math.asin(math.sqrt(a))


def _travel(unit: Unit, previous: Scan, scan: Scan, now: dt.datetime) -> None:
    assert previous.city_lat is not None and previous.city_lon is not None
    assert scan.city_lat is not None and scan.city_lon is not None
    km = distance_km(previous.city_lat, previous.city_lon, scan.city_lat, scan.city_lon)
    hours = max((scan.scanned_at - previous.scanned_at).total_seconds() / 3600, 1 / 3600)
    if km >= threshold("LABEL_TRAVEL_MIN_KM") and km / hours > threshold("LABEL_TRAVEL_KMH"):
        raise_flag(unit, FlagRule.travel, now, {
            "from": previous.city, "to": scan.city, "km": round(km), "hours": round(hours, 2),
        })  # fmt: skip


def raise_flag(unit: Unit, rule: str, now: dt.datetime, detail: dict[str, Any]) -> UnitFlag:
    """One flag per unit and rule: raised once, then counted and its evidence kept current."""
    flag = db.session.scalar(select(UnitFlag).where(UnitFlag.unit_id == unit.id, UnitFlag.rule == rule))
    if flag is None:
        flag = UnitFlag(unit_id=unit.id, batch_id=unit.batch_id, rule=rule, detail=detail, raised_at=now,
                        last_seen_at=now, hits=1)  # fmt: skip
        db.session.add(flag)
    else:
        flag.detail, flag.last_seen_at, flag.hits = detail, now, flag.hits + 1
    db.session.flush()
    return flag


@dataclass(frozen=True)
class Verification:
    ok: bool
    # This check was the first correct one: the unit is now verified.
    first: bool
    first_verified_at: dt.datetime | None
    first_city: str | None
    verifications: int


def _failures(where: Any, since: dt.datetime) -> int:
    return (
        db.session.scalar(
            select(func.count()).select_from(PinAttempt).where(where, ~PinAttempt.ok, PinAttempt.at > since)
        )
        or 0
    )


def verify_pin(unit: Unit, pin: str, client: Client, now: dt.datetime) -> Verification:
    """Check a PIN, rate-limited per unit and per client network; the first correct one verifies the unit."""
    hour = now - dt.timedelta(hours=1)
    if _failures(PinAttempt.unit_id == unit.id, hour) >= threshold("LABEL_PIN_UNIT_LIMIT"):
        raise TooManyAttempts(_("这个码的验证码错误次数过多，请一小时后再试。"))
    if _failures(PinAttempt.net_prefix == client.net_prefix, hour) >= threshold("LABEL_PIN_CLIENT_LIMIT"):
        raise TooManyAttempts(_("您所在网络的验证码错误次数过多，请一小时后再试。"))
    key = serials.pin_key(current_app.config["SECRET_KEY"])
    ok = bool(serials.PIN_PATTERN.fullmatch(pin)) and serials.pin_matches(key, unit.serial, pin, unit.pin_hash)
    db.session.add(PinAttempt(unit_id=unit.id, at=now, net_prefix=client.net_prefix, ok=ok))
    first = False
    if ok:
        if unit.verified_at is None:
            unit.verified_at, unit.verified_city, first = now, client.city[0] if client.city else None, True
        unit.verifications += 1
    db.session.flush()
    if not ok:
        wrong = _failures(PinAttempt.unit_id == unit.id, now - dt.timedelta(hours=24))
        if wrong >= threshold("LABEL_PIN_GUESSES"):
            raise_flag(unit, FlagRule.pin_guessing, now, {"wrong_pins_24h": wrong})
    return Verification(ok, first, unit.verified_at, unit.verified_city, unit.verifications)


def fold_old_scans(now: dt.datetime) -> tuple[int, int]:
    """Raw scans past retention become daily counts per batch (China days); (scans folded, days written)."""
    cutoff = now - dt.timedelta(days=threshold("SCAN_RETENTION_DAYS"))
    old = db.session.execute(select(Scan.batch_id, Scan.scanned_at).where(Scan.scanned_at < cutoff)).all()
    counts: dict[tuple[int, dt.date], int] = {}
    for batch_id, at in old:
        day = at.astimezone(CHINA_TZ).date()
        counts[(batch_id, day)] = counts.get((batch_id, day), 0) + 1
    for (batch_id, day), n in counts.items():
        row = db.session.scalar(select(ScanDay).where(ScanDay.batch_id == batch_id, ScanDay.day == day))
        if row is None:
            db.session.add(ScanDay(batch_id=batch_id, day=day, scans=n))
        else:
            row.scans += n
    db.session.execute(delete(Scan).where(Scan.scanned_at < cutoff))
    # PIN attempts hold a network prefix too; the limits and the guessing rule look back a day.
    db.session.execute(delete(PinAttempt).where(PinAttempt.at < cutoff))
    db.session.flush()
    return len(old), len(counts)


def weekly_by_product(first_day: dt.date, last_day: dt.date) -> dict[str, dict[dt.date, int]]:
    """Consumer scans by product line and week (weeks start on Monday, China days), raw and folded alike.

    For the office's "consumer scans by product and week" chart: ``{product_key: {monday: scans}}``.
    """
    start = dt.datetime.combine(first_day, dt.time(), CHINA_TZ)
    end = dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time(), CHINA_TZ)
    totals: dict[str, dict[dt.date, int]] = {}

    def add(product: str, day: dt.date, n: int) -> None:
        monday = day - dt.timedelta(days=day.weekday())
        weeks = totals.setdefault(product, {})
        weeks[monday] = weeks.get(monday, 0) + n

    raw = db.session.execute(
        select(Batch.product_key, Scan.scanned_at)
        .join(Batch, Batch.id == Scan.batch_id)
        .where(Scan.scanned_at >= start, Scan.scanned_at < end)
    )
    for product, at in raw:
        add(product, at.astimezone(CHINA_TZ).date(), 1)
    folded = db.session.execute(
        select(Batch.product_key, ScanDay.day, ScanDay.scans)
        .join(Batch, Batch.id == ScanDay.batch_id)
        .where(ScanDay.day >= first_day, ScanDay.day <= last_day)
    )
    for product, day, n in folded:
        add(product, day, n)
    return totals
