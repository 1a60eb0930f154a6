"""A finding as people read it: its subject in words, never an internal key.

A finding's ``subject`` is a key that keeps it unique per batch (``benzo_a_pyrene``,
``planting#1:多菌灵:harvest#2``); people are shown ``subject_text`` instead, built from the
finding's kind and detail: the parameter by its catalog name, the stages by their record names,
the dates in China time. The desk pages, the compliance PDF and the API (``subject_text``) all
read it from here, in the current language (Babel's locale).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from flask_babel import get_locale, gettext

from app import clock, units
from app.batches.vocabulary import record_name
from app.compliance.standards import parameter_names

COMPARATORS = {"<=": "≤", "<": "<", ">=": "≥", ">": ">", "==": "="}


def _english() -> bool:
    locale = get_locale()
    return locale is not None and locale.language == "en"


def parameter_label(key: str | None, zh: str | None = None, en: str | None = None) -> str:
    """A parameter by its name in the current language, from the finding's detail or the catalog."""
    if not key:
        return zh or en or ""
    if not zh and not en:
        zh, en = parameter_names(key)
    if _english():
        return en or zh or key
    return zh or en or key


def unit_label(unit: str | None) -> str:
    """A unit as printed (ug/kg and 微克/千克 as µg/kg)."""
    return units.canonical(unit) if unit else ""


def _day(moment: Any) -> str:
    """The China-time date of an ISO moment or datetime; its first ten characters otherwise (and at
    the very ends of the calendar, where it cannot move)."""
    text = moment.isoformat() if isinstance(moment, dt.datetime) else str(moment or "")
    try:
        parsed = moment if isinstance(moment, dt.datetime) else dt.datetime.fromisoformat(text)
        return clock.to_china(parsed).date().isoformat() if parsed.tzinfo else text[:10]
    except (ValueError, OverflowError):
        return text[:10]


def _failed_text(subject: str, detail: dict[str, Any]) -> str:
    name = parameter_label(detail.get("parameter") or subject, detail.get("parameter_zh"), detail.get("parameter_en"))
    value = detail.get("value")
    text = name
    if value is not None:
        text += f" {value} {unit_label(detail.get('value_unit'))}".rstrip()
    if detail.get("limit") is not None and detail.get("comparator"):
        comparator = COMPARATORS.get(detail["comparator"], detail["comparator"])
        limit = f"{comparator} {detail['limit']} {unit_label(detail.get('unit'))}".rstrip()
        text += gettext("（限量 %(limit)s）", limit=limit)
    where = " ".join(x for x in (detail.get("standard"), clause_shown(detail.get("clause"))) if x)
    if where:
        text += gettext("，%(standard)s", standard=where)
    if detail.get("report_no"):
        text += gettext("，报告 %(no)s", no=detail["report_no"])
    return text


def _interval_text(detail: dict[str, Any]) -> str:
    return gettext(
        "%(planting)s第 %(p)s 条施用%(pesticide)s（%(applied)s，安全间隔期 %(days)s 天），"
        "%(harvest)s第 %(h)s 条于 %(harvested)s 采收，差 %(short)s 天",
        planting=record_name("planting"),
        p=detail.get("planting_seq", "?"),
        pesticide=detail.get("pesticide") or "",
        applied=_day(detail.get("applied_at")),
        days=detail.get("phi_days", "?"),
        harvest=record_name("harvest"),
        h=detail.get("harvest_seq", "?"),
        harvested=_day(detail.get("harvested_at")),
        short=detail.get("days_short", "?"),
    )


def subject_text(kind: str, subject: str, detail: dict[str, Any] | None) -> str:
    """What a finding is about, in words: the parameter, value and limit, or the pesticide and dates."""
    detail = detail or {}
    if kind == "failed_verdict":
        return _failed_text(subject, detail)
    if kind == "pre_harvest_interval" and detail.get("pesticide"):
        return _interval_text(detail)
    # A kind this module does not know yet: its parameter's name if it names one, else the key.
    if detail.get("parameter"):
        return _failed_text(subject, detail)
    return subject


def clause_shown(clause: str | None) -> str | None:
    """A clause number as the catalog gives it; a placeholder (``4.x 表``) shows as nothing."""
    if not clause:
        return None
    if PLACEHOLDER.search(clause):
        return None
    return clause


# "4.x", "x.1", "表x", "TBD", "?": written where the true clause was not known. Never shown.
PLACEHOLDER = re.compile(r"(?:^|[\d.表])[xX](?:$|[\s.表\d])|TBD|\?|？|待定|待查")


def local_time(moment: dt.datetime | str | None) -> str:
    """A moment in China time, minutes: ``2026-05-01 14:30``."""
    if moment is None:
        return ""
    if isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    try:
        return clock.to_china(moment).strftime("%Y-%m-%d %H:%M")
    except (OverflowError, ValueError):
        return moment.strftime("%Y-%m-%d %H:%M")
