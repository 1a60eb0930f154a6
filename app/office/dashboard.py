"""The dashboard's figures against the pilot plan's targets (each chart's options: app/office/charts.py).

The plan (咸宁市国家级服务业标准化试点实施方案) counts: at least 200 enterprises, cooperatives
and households working by the six standard systems, at least 6 local standards and 70 group and
enterprise standards, 三品一标 certifications. Each figure here is a count of real records, and
each chart drills down to those records (``drill``), downloadable as CSV or XLSX.

The server builds every chart's options: the page only hands them to ECharts. Bar and line
charts only; no map of China (publishing one needs an approval number).
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from flask_babel import get_locale
from sqlalchemy import case, func, or_, select

from app.batches.models import Batch, Event
from app.catalog.models import Standard
from app.catalog.products import PRODUCTS
from app.clock import CHINA_TZ
from app.compliance import verdicts
from app.compliance.certifications import CERTIFICATION_KINDS
from app.compliance.models import Certification, Finding, FindingStep, Inspection
from app.db import db, utcnow
from app.i18n import N_
from app.labels.models import Scan, ScanDay
from app.office.models import STAGES, Enrollment, StandardRecord
from app.office.roster import COUNTIES, PARTICIPANT_KINDS
from app.office.standards import TARGET_GROUP
from app.orgs.models import Organization

ADOPTION_TARGET = 200
LOCAL_TARGET = 6
GROUP_ENTERPRISE_TARGET = 70
NATIONAL_PROPOSED_TARGET = 1
ACTIVE_DAYS = 30
EXPIRING_DAYS = 60
SCAN_WEEKS = 12
VERDICT_LABELS = {"pass": N_("合格"), "fail": N_("不合格"), "incomplete": N_("未检全")}
GROUP_LABELS = {
    "local": N_("地方标准"),
    "group_enterprise": N_("团体和企业标准"),
    "national_proposed": N_("国家/行业标准（提出）"),
}


def product_name(key: str) -> str:
    """The product line's name in the request's language (Chinese outside a request)."""
    if key not in PRODUCTS:
        return key
    return PRODUCTS[key].name_en if str(get_locale() or "zh") == "en" else PRODUCTS[key].name_zh


# --- the records behind the figures ---------------------------------------------------------------


def participants() -> list[Organization]:
    """The organizations the plan's 200 counts: every producer and trader (not the office, regulators or labs)."""
    return list(
        db.session.scalars(
            select(Organization).where(Organization.kind.in_(PARTICIPANT_KINDS)).order_by(Organization.code)
        )
    )


def product_lines_of() -> dict[int, set[str]]:
    """Each organization's product lines: those the roster enrolled it for and those of batches it produced or held."""
    lines: dict[int, set[str]] = defaultdict(set)
    for org_id, product in db.session.execute(select(Enrollment.organization_id, Enrollment.product_key)):
        lines[org_id].add(product)
    for column in (Batch.producer_org_id, Batch.custodian_org_id):
        for org_id, product in db.session.execute(select(column, Batch.product_key).distinct()):
            lines[org_id].add(product)
    return lines


def active_since(since: dt.datetime) -> set[int]:
    """Organizations that recorded anything (an event, a batch) since ``since``."""
    recorded = select(Event.actor_org_id).where(Event.recorded_at >= since).distinct()
    created = select(Batch.producer_org_id).where(Batch.created_at >= since).distinct()
    return set(db.session.scalars(recorded)) | set(db.session.scalars(created))


def standard_group(standard: Standard) -> str | None:
    """Which of the plan's targets a catalog standard counts toward: local (DB42, DB4212), group/enterprise (T/, Q/)."""
    code = standard.code.upper()
    if code.startswith("DB42") or standard.level in ("provincial", "municipal"):
        return "local"
    if code.startswith(("T/", "Q/")) or standard.level in ("group", "enterprise"):
        return "group_enterprise"
    return None


def products_of_standard(standard: Standard) -> list[str]:
    applies = [p for p in standard.applies_to or [] if p in PRODUCTS]
    return applies or (list(PRODUCTS) if "all" in (standard.applies_to or []) else [])


@dataclass(frozen=True)
class StandardEntry:
    """One standard the targets count: from the office's register (with its stage) or, not registered, the catalog."""

    code: str
    title_zh: str
    level: str
    products: list[str]
    stage: str
    day: dt.date | None
    registered: bool


STANDARD_GROUPS = ("local", "group_enterprise", "national_proposed")


def standards_by_group() -> dict[str, list[StandardEntry]]:
    """The register's standards by target, and the catalog's local, group and enterprise ones not in it (published)."""
    found: dict[str, list[StandardEntry]] = {g: [] for g in STANDARD_GROUPS}
    registered: set[str] = set()
    for r in db.session.scalars(select(StandardRecord).order_by(StandardRecord.code)):
        registered.add(r.code)
        day = next((getattr(r, f"{s}_on") for s in reversed(STAGES) if getattr(r, f"{s}_on")), None)
        found[TARGET_GROUP[r.level]].append(
            StandardEntry(r.code, r.title_zh, r.level, [p for p in r.products if p in PRODUCTS], r.stage, day, True)
        )
    for standard in db.session.scalars(select(Standard).order_by(Standard.code)):
        group = standard_group(standard)
        if group and standard.code not in registered:
            found[group].append(
                StandardEntry(
                    standard.code, standard.title_zh, standard.level, products_of_standard(standard), "published",
                    standard.issued or standard.effective, False,
                )
            )  # fmt: skip
    for entries in found.values():
        entries.sort(key=lambda e: e.code)
    return found


@dataclass(frozen=True)
class TestedBatch:
    batch: Batch
    producer: Organization
    verdict: str


def tested_batches() -> list[TestedBatch]:
    """Every batch with a test report, with its verdict."""
    tested_ids = select(Inspection.batch_id).distinct()
    rows = db.session.execute(
        select(Batch, Organization)
        .join(Organization, Organization.id == Batch.producer_org_id)
        .where(Batch.id.in_(tested_ids))
        .order_by(Batch.lot_code)
    ).all()
    # Each batch's stored verdict (judged by the writes that change it); one computed in memory
    # only where its inputs changed since, and nothing is written by this read.
    shown = verdicts.current_many([batch for batch, _producer in rows])
    return [TestedBatch(batch, producer, shown[batch.id].verdict) for batch, producer in rows]


def finding_times() -> tuple[int, int, float | None]:
    """Findings opened, closed, and the median days from opening to closing."""
    opened = db.session.scalar(select(func.count()).select_from(Finding)) or 0
    closed_at = dict(
        db.session.execute(
            select(FindingStep.finding_id, func.max(FindingStep.at))
            .where(FindingStep.action == "closed")
            .group_by(FindingStep.finding_id)
        ).all()
    )
    spans = [
        (closed_at[f.id] - f.opened_at).total_seconds() / 86400
        for f in db.session.scalars(select(Finding).where(Finding.id.in_(list(closed_at))))
    ]
    return opened, len(spans), round(statistics.median(spans), 1) if spans else None


def certifications_on(today: dt.date) -> tuple[list[Certification], list[Certification]]:
    """Certifications valid on ``today``, and those of them that expire within EXPIRING_DAYS."""
    held = list(
        db.session.scalars(
            select(Certification)
            .where(
                Certification.valid_from <= today,
                or_(Certification.valid_to.is_(None), Certification.valid_to >= today),
            )
            .order_by(Certification.valid_to, Certification.number)
        )
    )
    soon = today + dt.timedelta(days=EXPIRING_DAYS)
    return held, [c for c in held if c.valid_to is not None and c.valid_to <= soon]


def scan_weeks(today: dt.date) -> tuple[list[dt.date], dict[str, dict[dt.date, int]]]:
    """The last SCAN_WEEKS weeks (Mondays, China days) and consumer scans by product line and week.

    The same counts as ``app.labels.scans.weekly_by_product`` (raw scans and the daily counts they
    fold into), summed by the database: each week's bounds are fixed instants (Monday 00:00 China
    time), so one CASE names the week in SQL on SQLite and PostgreSQL alike, and only
    product x week rows come back.
    """
    this_monday = today - dt.timedelta(days=today.weekday())
    mondays = [this_monday - dt.timedelta(weeks=n) for n in reversed(range(SCAN_WEEKS))]
    ends = [*mondays[1:], today + dt.timedelta(days=1)]
    starts_at = [dt.datetime.combine(m, dt.time(), CHINA_TZ) for m in mondays]
    ends_at = [dt.datetime.combine(e, dt.time(), CHINA_TZ) for e in ends]
    raw_week = case(*((Scan.scanned_at < end, n) for n, end in enumerate(ends_at)))
    day_week = case(*((ScanDay.day < end, n) for n, end in enumerate(ends)))
    totals: dict[str, dict[dt.date, int]] = {}
    raw = (
        select(Batch.product_key, raw_week, func.count())
        .join(Batch, Batch.id == Scan.batch_id)
        .where(Scan.scanned_at >= starts_at[0], Scan.scanned_at < ends_at[-1])
        .group_by(Batch.product_key, raw_week)
    )
    folded = (
        select(Batch.product_key, day_week, func.sum(ScanDay.scans))
        .join(Batch, Batch.id == ScanDay.batch_id)
        .where(ScanDay.day >= mondays[0], ScanDay.day <= today)
        .group_by(Batch.product_key, day_week)
    )
    for query in (raw, folded):
        for product, week, n in db.session.execute(query):
            weeks = totals.setdefault(product, {})
            weeks[mondays[week]] = weeks.get(mondays[week], 0) + int(n)
    return mondays, totals


# --- the figures ----------------------------------------------------------------------------------


def summary(now: dt.datetime | None = None) -> dict[str, Any]:
    """Every figure on the dashboard as JSON (``GET /api/v1/office/summary``)."""
    now = now or utcnow()
    today = now.astimezone(CHINA_TZ).date()
    orgs = participants()
    lines = product_lines_of()
    active = active_since(now - dt.timedelta(days=ACTIVE_DAYS))
    by_county = Counter(o.county or "未填" for o in orgs)
    by_kind = Counter(o.kind for o in orgs)
    by_product = Counter(p for o in orgs for p in lines.get(o.id, ()))
    groups = standards_by_group()
    tested = tested_batches()
    cells: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for t in tested:
        cells[(t.producer.county or "未填", t.batch.product_key)][t.verdict] += 1
    opened, closed, median_days = finding_times()
    held, expiring = certifications_on(today)
    mondays, weekly = scan_weeks(today)
    return {
        "as_of": now.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M"),
        "adoption": {
            "target": ADOPTION_TARGET,
            "enrolled": len(orgs),
            "active_30d": sum(1 for o in orgs if o.id in active),
            "by_county": {c: by_county.get(c, 0) for c in (*COUNTIES, *sorted(set(by_county) - set(COUNTIES)))},
            "by_kind": {k: by_kind.get(k, 0) for k in PARTICIPANT_KINDS},
            "by_product": {k: by_product.get(k, 0) for k in PRODUCTS},
        },
        "standards": {
            "local": {"target": LOCAL_TARGET, "count": len(groups["local"])},
            "group_enterprise": {"target": GROUP_ENTERPRISE_TARGET, "count": len(groups["group_enterprise"])},
            "national_proposed": {"target": NATIONAL_PROPOSED_TARGET, "count": len(groups["national_proposed"])},
            "by_stage": {
                g: {st: sum(1 for e in found if e.stage == st) for st in STAGES} for g, found in groups.items()
            },
            "by_product": {
                k: {g: sum(1 for e in found if k in e.products) for g, found in groups.items()} for k in PRODUCTS
            },
            "by_product_stage": {
                k: {
                    st: sum(1 for found in groups.values() for e in found if k in e.products and e.stage == st)
                    for st in STAGES
                }
                for k in PRODUCTS
            },
        },
        "compliance": {
            "tested": len(tested),
            "by_verdict": {v: sum(1 for t in tested if t.verdict == v) for v in VERDICT_LABELS},
            "cells": [
                {
                    "county": county,
                    "product": product,
                    "tested": sum(c.values()),
                    **{v: c.get(v, 0) for v in VERDICT_LABELS},
                }
                for (county, product), c in sorted(cells.items())
            ],
            "findings": {"opened": opened, "closed": closed, "median_days_to_close": median_days},
        },
        "certifications": {
            "held": len(held),
            "expiring_60d": len(expiring),
            "by_kind": {
                k: {"held": sum(1 for c in held if c.kind == k), "expiring": sum(1 for c in expiring if c.kind == k)}
                for k in CERTIFICATION_KINDS
            },
        },
        "scans": {
            "weeks": [m.isoformat() for m in mondays],
            "total": sum(n for weeks in weekly.values() for n in weeks.values()),
            "by_product": {k: [weekly.get(k, {}).get(m, 0) for m in mondays] for k in PRODUCTS},
        },
    }
