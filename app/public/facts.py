"""A stage's recorded data told in plain words, in the page's language.

Only the facts a consumer cares about leave here: quantities, process steps, temperatures, the
route, the sale channel. Free-text notes, vehicle plates, buyers, doses and registration numbers
stay out: a note can hold a phone number and a buyer can be a private person (invariant 9).

Source strings are Chinese and marked with ``N_`` so ``pybabel extract`` finds them; they are
translated when a page is built (``gettext``), never at import time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any

from babel.dates import format_date
from flask_babel import get_translations

from app import clock, units
from app.catalog.products import PRODUCTS
from app.i18n import N_

if TYPE_CHECKING:
    from app.batches.models import Batch

# Stored words (choices and the usual process-step names) a consumer reads in their language.
TERMS = frozenset(
    {
        # choices of product-specific fields and planting inputs
        N_("干制"), N_("窨制"), N_("糖渍"), N_("冷榨"), N_("热榨"), N_("水酶法"),
        N_("肥料"), N_("农药"), N_("投诉"), N_("退货"), N_("反馈"),
        N_("金桂"), N_("银桂"), N_("丹桂"), N_("四季桂"),
        # process steps of the six product lines
        N_("摊晾"), N_("烘干"), N_("清洗"), N_("分级"), N_("预冷"), N_("杀青"), N_("揉捻"),
        N_("渥堆"), N_("压制"), N_("干燥"), N_("晒干"), N_("脱壳"), N_("压榨"), N_("过滤"),
        N_("精炼"), N_("灌装"), N_("和面"), N_("醒面"), N_("搓条"), N_("成型"), N_("油炸"),
        N_("冷却"),
        # counties and districts of Xianning
        N_("咸宁市"), N_("咸宁市咸安区"), N_("咸安区"), N_("嘉鱼县"), N_("赤壁市"),
        N_("通城县"), N_("崇阳县"), N_("通山县"),
    }
)  # fmt: skip

# Machine values of choice fields, stored in English, shown as the Chinese word above.
CHOICE_WORDS = {
    "drying": "干制",
    "scenting": "窨制",
    "candying": "糖渍",
    "cold": "冷榨",
    "hot": "热榨",
    "aqueous_enzymatic": "水酶法",
    "fertilizer": "肥料",
    "pesticide": "农药",
    "complaint": "投诉",
    "return": "退货",
    "feedback": "反馈",
}

LEVELS = {
    "national": N_("国家标准"),
    "industry": N_("行业标准"),
    "provincial": N_("地方标准（省级）"),
    "municipal": N_("地方标准（市级）"),
    "group": N_("团体标准"),
    "enterprise": N_("企业标准"),
}


Translate = Callable[..., str]


def translator() -> Translate:
    """``gettext`` bound to this request's catalog, looked up once (a page asks for hundreds)."""
    catalog = get_translations()

    def translate(msgid: str, **variables: Any) -> str:
        text = catalog.gettext(msgid)
        return text % variables if variables else text

    return translate


def local_date(value: dt.datetime, lang: str) -> str:
    """A moment's China date as the page writes dates: 2025年5月18日, or May 18, 2025."""
    return format_day(clock.china_date(value), lang)


@lru_cache(maxsize=4096)
def format_day(day: dt.date, lang: str) -> str:
    return format_date(day, "long", locale=lang)


@dataclass(frozen=True)
class Fact:
    key: str
    label: str
    value: str


def term(value: str, _: Translate) -> str:
    """A stored word in the page's language when it is one we know; anything else as written."""
    word = CHOICE_WORDS.get(value, value)
    return _(word) if word in TERMS else value


def in_lang(name: str, name_en: str | None, lang: str) -> str:
    """A name in the page's language: the English one where there is one, else as written."""
    return name_en if lang == "en" and name_en else name


def origin_county(batch: Batch, lang: str, _: Translate | None = None) -> str:
    """Where it was grown or made: the batch's site, else its producer, else its product line's county."""
    county = (batch.site.county if batch.site else None) or batch.producer.county
    if county:
        return term(county, _ or translator())
    return batch.product.county_en if lang == "en" else batch.product.county_zh


def number(value: Any) -> str:
    """Decimals as people write them: no trailing zeros, thousands grouped."""
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    if not d.is_finite() or abs(d) >= Decimal(10) ** 15:
        # Beyond any real farm's figures (and quantize's 28 digits): show it as given, never a 500.
        return str(value)
    if d == d.to_integral_value():
        return f"{d.quantize(Decimal(1)):,}"
    return f"{d.normalize():,f}"


def amount(value: Any, unit: str, _: Translate) -> str:
    word = units.name_of(unit)
    return f"{number(value)} {_(word) if word else unit}"


@cache
def _extra_fields(product_key: str, stage: str) -> tuple[tuple[str, str, str], ...]:
    """(name, kind, label to translate) of the fields a product line adds to a stage."""
    spec = PRODUCTS.get(product_key)
    if spec is None:
        return ()
    return tuple((f.name, f.kind, f.label) for f in spec.extra_fields.get(stage, ()))


def _planting_input(item: dict[str, Any], _: Translate, names: Mapping[str, str]) -> str:
    name = str(item.get("name", ""))
    name = names.get(name, name)
    kind = term(str(item.get("kind", "")), _)
    if item.get("phi_days") is not None:
        return _("%(name)s（%(kind)s，安全间隔期 %(days)s 天）", name=name, kind=kind, days=item["phi_days"])
    return _("%(name)s（%(kind)s）", name=name, kind=kind)


def _shared_facts(stage: str, data: dict[str, Any], lang: str, _: Translate, names: Mapping[str, str]) -> list[Fact]:
    facts: list[Fact] = []

    def add(key: str, label: str, value: str | None) -> None:
        if value not in (None, ""):
            facts.append(Fact(key, label, value))

    present = data.get
    if stage == "seedling":
        add("variety", _("品种"), present("variety"))
        add("source", _("种苗来源"), present("source"))
        if present("count") is not None:
            add("count", _("数量"), _("%(count)s 株", count=number(data["count"])))
    elif stage == "planting":
        if present("area_mu") is not None:
            add("area_mu", _("面积"), _("%(area)s 亩", area=number(data["area_mu"])))
        inputs = present("inputs") or []
        if inputs:
            told = (_planting_input(i, _, names) for i in inputs)
            add("inputs", _("投入品"), ("; " if lang == "en" else "；").join(told))
    elif stage == "harvest":
        if present("quantity") is not None:
            add("quantity", _("采收量"), amount(data["quantity"], str(present("unit", "")), _))
        add("grade", _("等级"), present("grade"))
    elif stage == "processing":
        steps = present("steps") or []
        if steps:
            add("steps", _("工序"), " → ".join(term(str(s.get("name", "")), _) for s in steps))
    elif stage == "packing":
        add("package", _("包装"), present("package"))
        if present("count") is not None:
            add("count", _("件数"), number(data["count"]))
    elif stage == "storage":
        if present("temperature_c") is not None:
            add("temperature_c", _("温度"), f"{number(data['temperature_c'])} ℃")
        if present("humidity_pct") is not None:
            add("humidity_pct", _("湿度"), f"{number(data['humidity_pct'])}%")
        add("warehouse", _("仓库"), present("warehouse"))
    elif stage == "transport":
        if present("origin") or present("destination"):
            add("route", _("路线"), f"{present('origin', '')} → {present('destination', '')}")
        if present("temperature_c") is not None:
            add("temperature_c", _("运输温度"), f"{number(data['temperature_c'])} ℃")
    elif stage == "sale":
        add("channel", _("销售渠道"), present("channel"))
    elif stage == "after_sale":
        add("kind", _("类型"), term(str(present("kind", "")), _) or None)
    return facts


def stage_facts(
    product_key: str, stage: str, data: dict[str, Any], lang: str, _: Translate, names: Mapping[str, str] | None = None
) -> list[Fact]:
    """The facts that matter for one stage, shared fields first, then the product line's own.

    ``names`` gives recorded names in the page's language where the catalog has them (pesticides).
    """
    facts = _shared_facts(stage, data, lang, _, names or {})
    for name, kind, label in _extra_fields(product_key, stage):
        value = data.get(name)
        if value in (None, ""):
            continue
        shown = number(value) if kind == "number" else term(str(value), _)
        facts.append(Fact(name, _(label), shown))
    return facts
