"""The rows behind each dashboard chart (its drill-down), the same rows the CSV and XLSX downloads hold."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from app.clock import CHINA_TZ
from app.compliance.certifications import CERTIFICATION_KINDS
from app.db import db, utcnow
from app.office.dashboard import (
    ACTIVE_DAYS,
    EXPIRING_DAYS,
    VERDICT_LABELS,
    active_since,
    certifications_on,
    participants,
    product_lines_of,
    product_name,
    scan_weeks,
    standards_by_group,
    tested_batches,
)
from app.office.roster import KIND_LABELS
from app.office.standards import STAGE_LABELS
from app.orgs.models import Organization


@dataclass(frozen=True)
class Table:
    title: str
    columns: list[str]
    rows: list[list[Any]]


def _drill_organizations(param: str | None, key: str | None, now: dt.datetime) -> Table:
    lines = product_lines_of()
    active = active_since(now - dt.timedelta(days=ACTIVE_DAYS))
    orgs = participants()
    title = "参与试点的主体"
    if param == "county" and key:
        orgs = [o for o in orgs if (o.county or "未填") == key]
        title += f"：{key}"
    elif param == "product" and key:
        orgs = [o for o in orgs if key in lines.get(o.id, ())]
        title += f"：{product_name(key)}"
    elif param == "kind" and key:
        orgs = [o for o in orgs if o.kind == key]
        title += f"：{KIND_LABELS.get(key, key)}"
    elif param == "active":
        orgs = [o for o in orgs if o.id in active]
        title += f"：近 {ACTIVE_DAYS} 天活跃"
    return Table(
        title,
        ["编码", "名称", "类型", "县（市、区）", "统一社会信用代码", "所属合作社", "产品线", f"近{ACTIVE_DAYS}天活跃"],
        [
            [
                o.code,
                o.name,
                KIND_LABELS.get(o.kind, o.kind),
                o.county or "",
                o.credit_code or "",
                o.cooperative.code if o.cooperative else "",
                "、".join(product_name(p) for p in sorted(lines.get(o.id, ()))),
                "是" if o.id in active else "否",
            ]
            for o in orgs
        ],
    )


def _drill_standards(param: str | None, key: str | None, now: dt.datetime) -> Table:
    groups = standards_by_group()
    names = {"local": "地方标准", "group_enterprise": "团体和企业标准", "national_proposed": "提出的国家/行业标准"}
    chosen = [key] if param == "group" and key in groups else list(groups)
    title = "标准：" + "、".join(names[g] for g in chosen)
    entries = [(g, e) for g in chosen for e in groups[g]]
    if param == "product" and key:
        entries = [(g, e) for g, e in entries if key in e.products]
        title = f"标准：{product_name(key)}"
    return Table(
        title,
        ["类别", "标准号", "名称", "层级", "适用产品", "阶段", "日期", "来源"],
        [
            [
                names[g],
                e.code,
                e.title_zh,
                e.level,
                "、".join(product_name(p) for p in e.products),
                STAGE_LABELS.get(e.stage, e.stage),
                e.day.isoformat() if e.day else "",
                "试点办登记" if e.registered else "标准目录",
            ]
            for g, e in entries
        ],
    )


def _drill_batches(param: str | None, key: str | None, now: dt.datetime) -> Table:
    tested = tested_batches()
    title = "已检批次"
    if param == "cell" and key and "|" in key:
        county, product = key.split("|", 1)
        tested = [t for t in tested if (t.producer.county or "未填") == county and t.batch.product_key == product]
        title += f"：{county} · {product_name(product)}"
    elif param == "verdict" and key in VERDICT_LABELS:
        tested = [t for t in tested if t.verdict == key]
        title += f"：{VERDICT_LABELS[key]}"
    return Table(
        title,
        ["批次号", "产品", "生产主体", "县（市、区）", "判定", "状态"],
        [
            [
                t.batch.lot_code,
                product_name(t.batch.product_key),
                t.producer.name,
                t.producer.county or "",
                VERDICT_LABELS.get(t.verdict, t.verdict),
                t.batch.status,
            ]
            for t in tested
        ],
    )


def _drill_certifications(param: str | None, key: str | None, now: dt.datetime) -> Table:
    held, expiring = certifications_on(now.astimezone(CHINA_TZ).date())
    soon = {c.id for c in expiring}
    title = "有效的三品一标证书"
    if param == "kind" and key in CERTIFICATION_KINDS:
        held = [c for c in held if c.kind == key]
        title += f"：{CERTIFICATION_KINDS[key]}"
    elif param == "expiring":
        held = [c for c in held if c.id in soon]
        title += f"：{EXPIRING_DAYS} 天内到期"
    holders = {
        o.id: o
        for o in db.session.scalars(select(Organization).where(Organization.id.in_({c.holder_org_id for c in held})))
    }
    return Table(
        title,
        ["证书类别", "证书编号", "持证主体", "产品", "发证机构", "有效期起", "有效期至", f"{EXPIRING_DAYS}天内到期"],
        [
            [
                CERTIFICATION_KINDS.get(c.kind, c.kind),
                c.number,
                holders[c.holder_org_id].name,
                product_name(c.product_key),
                c.issuer,
                c.valid_from.isoformat(),
                c.valid_to.isoformat() if c.valid_to else "长期",
                "是" if c.id in soon else "否",
            ]
            for c in held
        ],
    )


def _drill_scans(param: str | None, key: str | None, now: dt.datetime) -> Table:
    mondays, weekly = scan_weeks(now.astimezone(CHINA_TZ).date())
    title = "消费者扫码（按产品线和周）"
    if param == "week" and key:
        mondays = [m for m in mondays if m.isoformat() == key]
        title += f"：{key} 起一周"
    return Table(
        title,
        ["周（周一）", "产品", "扫码次数"],
        [
            [m.isoformat(), product_name(product), weekly[product][m]]
            for m in mondays
            for product in sorted(weekly)
            if weekly[product].get(m)
        ],
    )


DRILLS: dict[str, Callable[[str | None, str | None, dt.datetime], Table]] = {
    "organizations": _drill_organizations,
    "standards": _drill_standards,
    "batches": _drill_batches,
    "certifications": _drill_certifications,
    "scans": _drill_scans,
}


def drill(name: str, param: str | None = None, key: str | None = None, now: dt.datetime | None = None) -> Table:
    """The rows behind a chart's bar (``param`` and ``key`` name the bar; none: every row of the chart)."""
    return DRILLS[name](param, key, now or utcnow())
