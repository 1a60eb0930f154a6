"""The dashboard's figures against the pilot plan's targets, each chart's ECharts options, and the rows behind each.

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
from flask_babel import gettext as _
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
from app.office.roster import COUNTIES, KIND_LABELS, PARTICIPANT_KINDS
from app.office.standards import STAGE_LABELS, TARGET_GROUP
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
GREEN, RED, AMBER, GREY = "#2f6b3a", "#b3261e", "#c98a00", "#9aa5a0"
# 立项, 征求意见, 发布, 备案: lighter to darker green.
STAGE_COLORS = ("#c7dcc4", "#8fba8c", "#4f8f55", GREEN)
# One colour per product line (the scans chart stacks them).
PRODUCT_COLORS = ("#2f6b3a", "#c98a00", "#3b6ea8", "#8a4f9e", "#b3261e", "#5a9a8f")


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


# --- the charts -----------------------------------------------------------------------------------


def _series(name: str, data: list[Any], color: str) -> dict[str, Any]:
    """One labelled bar series (each bar shows its figure on top)."""
    return {
        "type": "bar",
        "name": name,
        "data": data,
        "itemStyle": {"color": color},
        "label": {"show": True, "position": "top"},
    }


def _bar(title: str, subtitle: str, names: list[str], series: list[dict[str, Any]]) -> dict[str, Any]:
    """A bar chart's options: title and subtitle on top, the legend (when there are several series) below."""
    several = len(series) > 1
    option: dict[str, Any] = {
        "title": {"text": title, "subtext": subtitle, "left": 0, "textStyle": {"fontSize": 15}},
        "tooltip": {"trigger": "axis"},
        # Several series: their legend sits under the subtitle, clear of the rotated category names.
        "grid": {"left": 8, "right": 16, "top": 104 if several else 70, "bottom": 8, "containLabel": True},
        "xAxis": {
            "type": "category",
            "data": names,
            "axisLabel": {"interval": 0, "rotate": 30 if len(names) > 3 or max(map(len, names), default=0) > 5 else 0},
        },
        "yAxis": {"type": "value", "minInterval": 1},
        "series": series,
    }
    if several:
        option["legend"] = {"top": 62, "left": 0, "type": "scroll"}
    if not names:
        option["graphic"] = {
            "type": "text",
            "left": "center",
            "top": "middle",
            "style": {"text": _("暂无数据"), "fill": GREY},
        }
    return option


def charts(figures: dict[str, Any]) -> list[dict[str, Any]]:
    """Each chart: its id, its ECharts options, and the drill-down each bar leads to (by its category key)."""
    a, s, c, cert = figures["adoption"], figures["standards"], figures["compliance"], figures["certifications"]
    counties = list(a["by_county"])
    kinds = list(a["by_kind"])
    products = list(a["by_product"])
    cell_keys = [f"{cell['county']}|{cell['product']}" for cell in c["cells"]]
    cert_kinds = list(cert["by_kind"])
    sc = figures["scans"]
    return [
        {
            "id": "adoption_county",
            "drill": "organizations",
            "param": "county",
            "keys": counties,
            "option": _bar(
                _("已纳入主体 %(n)s / 目标 %(target)s", n=a["enrolled"], target=a["target"]),
                _("按县（市、区）；近 %(days)s 天活跃 %(n)s 家", days=ACTIVE_DAYS, n=a["active_30d"]),
                [_(c) for c in counties],
                [_series(_("主体数"), list(a["by_county"].values()), GREEN)],
            ),
        },
        {
            "id": "adoption_product",
            "drill": "organizations",
            "param": "product",
            "keys": products,
            "option": _bar(
                _("按产品线（一县一品）"),
                _("一个主体可参与多条产品线"),
                [product_name(k) for k in products],
                [_series(_("主体数"), list(a["by_product"].values()), GREEN)],
            ),
        },
        {
            "id": "adoption_kind",
            "drill": "organizations",
            "param": "kind",
            "keys": kinds,
            "option": _bar(
                _("按主体类型"),
                _("农户、合作社、企业及流通主体"),
                [_(KIND_LABELS[k]) for k in kinds],
                [_series(_("主体数"), list(a["by_kind"].values()), GREEN)],
            ),
        },
        {
            "id": "standards",
            "drill": "standards",
            "param": "group",
            "keys": list(STANDARD_GROUPS),
            "option": _bar(
                _("标准体系：已登记 / 目标"),
                _(
                    "目标：地方 %(local)s 项，团体和企业 %(group)s 项，国家或行业（提出）%(national)s 项",
                    local=s["local"]["target"],
                    group=s["group_enterprise"]["target"],
                    national=s["national_proposed"]["target"],
                ),
                [_(GROUP_LABELS[g]) for g in STANDARD_GROUPS],
                [
                    *(
                        {
                            "type": "bar",
                            "stack": "registered",
                            "name": _(STAGE_LABELS[st]),
                            "data": [s["by_stage"][g][st] for g in STANDARD_GROUPS],
                            "itemStyle": {"color": color},
                        }
                        for st, color in zip(STAGES, STAGE_COLORS, strict=True)
                    ),
                    _series(_("目标"), [s[g]["target"] for g in STANDARD_GROUPS], GREY),
                ],
            ),
        },
        {
            "id": "standards_product",
            "drill": "standards",
            "param": "product",
            "keys": products,
            "option": _bar(
                _("标准按产品线和阶段"),
                "、".join(_(STAGE_LABELS[st]) for st in STAGES),
                [product_name(k) for k in products],
                [
                    {
                        "type": "bar",
                        "stack": "stage",
                        "name": _(STAGE_LABELS[st]),
                        "data": [s["by_product_stage"][k][st] for k in products],
                        "itemStyle": {"color": color},
                    }
                    for st, color in zip(STAGES, STAGE_COLORS, strict=True)
                ],
            ),
        },
        {
            "id": "compliance",
            "drill": "batches",
            "param": "cell",
            "keys": cell_keys,
            "option": _bar(
                _("合规：县 × 产品（已检 %(n)s 批）", n=c["tested"]),
                _(
                    "问题 %(opened)s 个，已关闭 %(closed)s 个",
                    opened=c["findings"]["opened"],
                    closed=c["findings"]["closed"],
                )
                + (
                    _("，关闭用时中位数 %(days)s 天", days=c["findings"]["median_days_to_close"])
                    if c["findings"]["median_days_to_close"] is not None
                    else ""
                ),
                [f"{_(cell['county'])}·{product_name(cell['product'])}" for cell in c["cells"]],
                [
                    {
                        "type": "bar",
                        "stack": "v",
                        "name": _(label),
                        "data": [cell[v] for cell in c["cells"]],
                        "itemStyle": {"color": color},
                    }
                    for (v, label), color in zip(VERDICT_LABELS.items(), (GREEN, RED, AMBER), strict=True)
                ],
            ),
        },
        {
            "id": "certifications",
            "drill": "certifications",
            "param": "kind",
            "keys": cert_kinds,
            "option": _bar(
                _("三品一标：有效 %(n)s 张", n=cert["held"]),
                _("%(days)s 天内到期 %(n)s 张", days=EXPIRING_DAYS, n=cert["expiring_60d"]),
                [_(CERTIFICATION_KINDS[k]) for k in cert_kinds],
                [
                    _series(_("有效"), [cert["by_kind"][k]["held"] for k in cert_kinds], GREEN),
                    _series(
                        _("%(days)s天内到期", days=EXPIRING_DAYS),
                        [cert["by_kind"][k]["expiring"] for k in cert_kinds],
                        AMBER,
                    ),
                ],
            ),
        },
        {
            "id": "scans",
            "drill": "scans",
            "param": "week",
            "keys": sc["weeks"],
            "option": _bar(
                _("消费者扫码：近 %(weeks)s 周 %(n)s 次", weeks=SCAN_WEEKS, n=sc["total"]),
                _("按产品线和周（周一起）"),
                [w[5:] for w in sc["weeks"]],
                [
                    {
                        "type": "bar",
                        "stack": "scans",
                        "name": product_name(k),
                        "data": sc["by_product"][k],
                        "itemStyle": {"color": color},
                    }
                    for k, color in zip(products, PRODUCT_COLORS, strict=False)
                ],
            ),
        },
    ]
