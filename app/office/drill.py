"""The rows behind each dashboard chart (its drill-down), the same rows the CSV and XLSX downloads hold."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from app.clock import CHINA_TZ
from app.compliance.certifications import CERTIFICATION_KINDS
from app.db import db, utcnow
from app.office.dashboard import (
    ACTIVE_DAYS,
    EXPIRING_DAYS,
    GROUP_LABELS,
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
    title = _("参与试点的主体")
    if param == "county" and key:
        orgs = [o for o in orgs if (o.county or "未填") == key]
        title += f"：{_(key)}"
    elif param == "product" and key:
        orgs = [o for o in orgs if key in lines.get(o.id, ())]
        title += f"：{product_name(key)}"
    elif param == "kind" and key:
        orgs = [o for o in orgs if o.kind == key]
        title += f"：{_(KIND_LABELS[key]) if key in KIND_LABELS else key}"
    elif param == "active":
        orgs = [o for o in orgs if o.id in active]
        title += "：" + _("近 %(days)s 天活跃", days=ACTIVE_DAYS)
    return Table(
        title,
        [
            _("编码"),
            _("名称"),
            _("类型"),
            _("县（市、区）"),
            _("统一社会信用代码"),
            _("所属合作社"),
            _("产品线"),
            _("近%(days)s天活跃", days=ACTIVE_DAYS),
        ],
        [
            [
                o.code,
                o.name,
                _(KIND_LABELS[o.kind]) if o.kind in KIND_LABELS else o.kind,
                _(o.county) if o.county else "",
                o.credit_code or "",
                o.cooperative.code if o.cooperative else "",
                "、".join(product_name(p) for p in sorted(lines.get(o.id, ()))),
                _("是") if o.id in active else _("否"),
            ]
            for o in orgs
        ],
    )


def _drill_standards(param: str | None, key: str | None, now: dt.datetime) -> Table:
    groups = standards_by_group()
    names = {g: _(label) for g, label in GROUP_LABELS.items()}
    chosen = [key] if param == "group" and key in groups else list(groups)
    title = _("标准：") + "、".join(names[g] for g in chosen)
    entries = [(g, e) for g in chosen for e in groups[g]]
    if param == "product" and key:
        entries = [(g, e) for g, e in entries if key in e.products]
        title = _("标准：") + product_name(key)
    return Table(
        title,
        [_("类别"), _("标准号"), _("名称"), _("层级"), _("适用产品"), _("阶段"), _("日期"), _("来源")],
        [
            [
                names[g],
                e.code,
                e.title_zh,
                e.level,
                "、".join(product_name(p) for p in e.products),
                _(STAGE_LABELS[e.stage]) if e.stage in STAGE_LABELS else e.stage,
                e.day.isoformat() if e.day else "",
                _("试点办登记") if e.registered else _("标准目录"),
            ]
            for g, e in entries
        ],
    )


def _drill_batches(param: str | None, key: str | None, now: dt.datetime) -> Table:
    tested = tested_batches()
    title = _("已检批次")
    if param == "cell" and key and "|" in key:
        county, product = key.split("|", 1)
        tested = [t for t in tested if (t.producer.county or "未填") == county and t.batch.product_key == product]
        title += f"：{_(county)} · {product_name(product)}"
    elif param == "verdict" and key in VERDICT_LABELS:
        tested = [t for t in tested if t.verdict == key]
        title += f"：{_(VERDICT_LABELS[key])}"
    return Table(
        title,
        [_("批次号"), _("产品"), _("生产主体"), _("县（市、区）"), _("判定"), _("状态")],
        [
            [
                t.batch.lot_code,
                product_name(t.batch.product_key),
                t.producer.name,
                _(t.producer.county) if t.producer.county else "",
                _(VERDICT_LABELS[t.verdict]) if t.verdict in VERDICT_LABELS else t.verdict,
                t.batch.status,
            ]
            for t in tested
        ],
    )


def _drill_certifications(param: str | None, key: str | None, now: dt.datetime) -> Table:
    held, expiring = certifications_on(now.astimezone(CHINA_TZ).date())
    soon = {c.id for c in expiring}
    title = _("有效的三品一标证书")
    if param == "kind" and key in CERTIFICATION_KINDS:
        held = [c for c in held if c.kind == key]
        title += f"：{_(CERTIFICATION_KINDS[key])}"
    elif param == "expiring":
        held = [c for c in held if c.id in soon]
        title += "：" + _("%(days)s 天内到期", days=EXPIRING_DAYS)
    holders = {
        o.id: o
        for o in db.session.scalars(select(Organization).where(Organization.id.in_({c.holder_org_id for c in held})))
    }
    return Table(
        title,
        [
            _("证书类别"),
            _("证书编号"),
            _("持证主体"),
            _("产品"),
            _("发证机构"),
            _("有效期起"),
            _("有效期至"),
            _("%(days)s天内到期", days=EXPIRING_DAYS),
        ],
        [
            [
                _(CERTIFICATION_KINDS[c.kind]) if c.kind in CERTIFICATION_KINDS else c.kind,
                c.number,
                holders[c.holder_org_id].name,
                product_name(c.product_key),
                c.issuer,
                c.valid_from.isoformat(),
                c.valid_to.isoformat() if c.valid_to else _("长期"),
                _("是") if c.id in soon else _("否"),
            ]
            for c in held
        ],
    )


def _drill_scans(param: str | None, key: str | None, now: dt.datetime) -> Table:
    mondays, weekly = scan_weeks(now.astimezone(CHINA_TZ).date())
    title = _("消费者扫码（按产品线和周）")
    if param == "week" and key:
        mondays = [m for m in mondays if m.isoformat() == key]
        title += "：" + _("%(day)s 起一周", day=key)
    return Table(
        title,
        [_("周（周一）"), _("产品"), _("扫码次数")],
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
