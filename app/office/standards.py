"""The register of the standards the pilot writes: local, group and enterprise standards and the
national or industry ones it proposes, each with its stage (立项, 征求意见, 发布, 备案) and dates.

The dashboard's standard-system targets count these records, together with the catalog's local,
group and enterprise standards not registered here (a catalog standard is published; one code is
counted once). Each write leaves an audit entry.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from app import clock
from app.auth import Actor
from app.catalog.products import PRODUCTS
from app.db import db, utcnow
from app.errors import Conflict, InvalidInput, NotFound
from app.i18n import N_
from app.office import service
from app.office.models import LEVELS, STAGES, StandardRecord
from app.schemas import MAX_ID

STAGE_LABELS = {
    "proposed": N_("立项"),
    "consultation": N_("征求意见"),
    "published": N_("发布"),
    "filed": N_("备案"),
}
LEVEL_LABELS = {
    "local": N_("地方标准"),
    "group": N_("团体标准"),
    "enterprise": N_("企业标准"),
    "national": N_("国家标准（提出）"),
    "industry": N_("行业标准（提出）"),
}
# The code a level's standards carry (the national and industry ones proposed may not have one yet).
_PREFIXES = {"local": ("DB42",), "group": ("T/",), "enterprise": ("Q/",)}
# Which of the dashboard's targets a level counts toward.
TARGET_GROUP = {
    "local": "local",
    "group": "group_enterprise",
    "enterprise": "group_enterprise",
    "national": "national_proposed",
    "industry": "national_proposed",
}
DATE_FIELDS = {stage: f"{stage}_on" for stage in STAGES}


def stage_label(stage: str) -> str:
    return _(STAGE_LABELS[stage]) if stage in STAGE_LABELS else stage


def level_label(level: str) -> str:
    return _(LEVEL_LABELS[level]) if level in LEVEL_LABELS else level


def _check(values: dict[str, Any], today: dt.date) -> None:
    """The code fits the level; the stage's date is given; dates are not in the future and follow the stages."""
    level, code = values["level"], values["code"]
    prefixes = _PREFIXES.get(level)
    if prefixes and not code.upper().startswith(prefixes):
        raise InvalidInput.field(
            "code", _("%(level)s的编号以 %(prefix)s 开头", level=level_label(level), prefix=prefixes[0])
        )
    products = values["products"]
    unknown = [p for p in products if p not in PRODUCTS]
    if unknown:
        raise InvalidInput.field("products", _("未知的产品线：%(names)s", names="、".join(unknown)))
    if len(set(products)) != len(products):
        raise InvalidInput.field("products", _("产品线重复"))
    stage = values["stage"]
    if values.get(DATE_FIELDS[stage]) is None:
        raise InvalidInput.field(DATE_FIELDS[stage], _("请填写%(stage)s日期", stage=stage_label(stage)))
    previous: tuple[str, dt.date] | None = None
    for s in STAGES:
        day = values.get(DATE_FIELDS[s])
        if day is None:
            continue
        if day > today:
            raise InvalidInput.field(DATE_FIELDS[s], _("日期不能晚于今天"))
        if STAGES.index(s) > STAGES.index(stage):
            raise InvalidInput.field(
                DATE_FIELDS[s],
                _("尚处于%(stage)s阶段，不能填写%(later)s日期", stage=stage_label(stage), later=stage_label(s)),
            )
        if previous is not None and day < previous[1]:
            raise InvalidInput.field(
                DATE_FIELDS[s],
                _("%(stage)s日期早于%(before)s日期", stage=stage_label(s), before=stage_label(previous[0])),
            )
        previous = (s, day)
    if stage == "filed" and level == "enterprise" and not (values.get("filing_no") or "").strip():
        raise InvalidInput.field("filing_no", _("企业标准备案请填写备案号"))


def get_record(record_id: int) -> StandardRecord:
    found = db.session.get(StandardRecord, record_id) if 0 < record_id <= MAX_ID else None
    if found is None:
        raise NotFound(_("没有编号为 %(id)s 的标准登记", id=record_id))
    return found


def list_records(*, level: str | None = None, stage: str | None = None) -> list[StandardRecord]:
    query = select(StandardRecord).order_by(StandardRecord.level, StandardRecord.code)
    if level in LEVELS:
        query = query.where(StandardRecord.level == level)
    if stage in STAGES:
        query = query.where(StandardRecord.stage == stage)
    return list(db.session.scalars(query))


def register(actor: Actor, now: dt.datetime | None = None, **values: Any) -> StandardRecord:
    """Register a standard the pilot writes, at its stage, with the dates known so far."""
    now = now or utcnow()
    values = _clean(values)
    _check(values, clock.china_date(now))
    if db.session.scalar(select(StandardRecord.id).where(StandardRecord.code == values["code"])) is not None:
        raise Conflict(f"code: {values['code']}", {"json": {"code": [_("编号 %(code)s 已登记", code=values["code"])]}})
    record = StandardRecord(**values, created_at=now, updated_at=now)
    db.session.add(record)
    db.session.flush()
    service.record(actor, "standard.register", record.code, now, level=record.level, stage=record.stage)
    return record


def update(actor: Actor, record: StandardRecord, now: dt.datetime | None = None, **changes: Any) -> StandardRecord:
    """Change a registered standard: its stage and dates (and title, products, filing number)."""
    now = now or utcnow()
    current = {k: getattr(record, k) for k in _FIELDS}
    values = _clean(current | {k: v for k, v in changes.items() if k in _FIELDS and k not in ("code", "level")})
    _check(values, clock.china_date(now))
    changed = {k: v for k, v in values.items() if current[k] != v}
    if not changed:
        return record
    for key, value in changed.items():
        setattr(record, key, value)
    record.updated_at = now
    db.session.flush()
    service.record(
        actor, "standard.update", record.code, now,
        changed={k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in changed.items()},
    )  # fmt: skip
    return record


_FIELDS = ("code", "title_zh", "level", "products", "stage", *DATE_FIELDS.values(), "filing_no", "notes")


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {k: values.get(k) for k in _FIELDS}
    for key in ("code", "title_zh", "filing_no", "notes"):
        text = out[key]
        if isinstance(text, str):
            out[key] = text.strip() or None
    if not out["code"]:
        raise InvalidInput.field("code", _("请填写标准编号"))
    if not out["title_zh"]:
        raise InvalidInput.field("title_zh", _("请填写标准名称"))
    out["products"] = list(out["products"] or [])
    return out
