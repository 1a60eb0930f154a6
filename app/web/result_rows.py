"""The results rows of the desk's inspection form: the parameter picker and the rows' own checks.

A row names its parameter by picking it from the product's parameters in the catalog (by Chinese
name, English on an English page, grouped: the batch's own judged items, food-safety limits,
pesticide residues, quality and grading items), never by typing a key. Units may be typed as
printed (mg/kg, µg/kg) or in Chinese (毫克/千克, 微克/千克: the aliases of app/units.py).

Each row is checked here before the report goes to the service, so every refusal is in the
page's language and names its row and field ("第 3 行（铅）单位：…"); the service checks again,
and anything it still refuses is shown on the same row.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from app import units
from app.batches.models import Batch
from app.catalog.models import Requirement, Standard
from app.compliance import timing
from app.db import db
from app.i18n import N_

GROUP_NAMES: dict[str, str] = {
    "bound": N_("本批次判定项目"),
    "safety": N_("食品安全指标"),
    "pesticide": N_("农药残留"),
    "quality": N_("质量与等级指标"),
}
# Units a result is usually reported in, offered as suggestions (any unit may still be typed).
SUGGESTED_UNITS = ("mg/kg", "µg/kg", "g/100g", "%", "mg/g", "g/kg", "毫克/千克", "微克/千克", "克/100克")
FIELD_NAMES: dict[str, str] = {
    "parameter": N_("项目"),
    "value": N_("结果"),
    "unit": N_("单位"),
    "lod": N_("检出限"),
    "method": N_("检测方法"),
    "not_detected": N_("未检出"),
}


@dataclass(frozen=True)
class Choice:
    key: str
    zh: str
    en: str | None
    unit: str | None  # the limit's unit in the catalog, where it has one
    group: str

    def label(self, english: bool) -> str:
        return (self.en or self.zh) if english else self.zh


def parameter_choices(batch: Batch, bound: set[str]) -> dict[str, Choice]:
    """Every parameter the catalog has for the batch's product, keyed by parameter key."""
    found = db.session.execute(
        select(
            Requirement.parameter_key,
            Requirement.parameter_zh,
            Requirement.parameter_en,
            Requirement.unit,
            Requirement.product_key,
            Standard.applies_to,
            Standard.mandatory,
        )
        .join(Standard, Standard.id == Requirement.standard_id)
        .order_by(Standard.mandatory.desc(), Requirement.id)
    ).all()
    choices: dict[str, Choice] = {}
    for key, zh, en, unit, product, applies_to, mandatory in found:
        if key in choices or not timing.requirement_applies(product, applies_to or [], batch.product_key):
            continue
        if key in bound:
            group = "bound"
        elif key.startswith("pesticide."):
            group = "pesticide"
        else:
            group = "safety" if mandatory else "quality"
        choices[key] = Choice(key, zh or key, en, unit, group)
    return choices


def grouped(choices: dict[str, Choice], english: bool) -> list[tuple[str, list[tuple[str, str]]]]:
    """The picker's option groups, in GROUP_NAMES order, each sorted by the name shown."""
    out = []
    for group, name in GROUP_NAMES.items():
        options = sorted(
            ((c.key, c.label(english)) for c in choices.values() if c.group == group), key=lambda kv: kv[1]
        )
        if options:
            out.append((_(name), options))
    return out


def _number(text: str) -> Decimal | None:
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() and value >= 0 else None


def row_name(index: int, row: dict[str, str], choices: dict[str, Choice], english: bool) -> str:
    """ "第 3 行（铅）": the row as the page numbers it, with its parameter's name when it has one."""
    choice = choices.get(row.get("parameter", ""))
    name = choice.label(english) if choice else row.get("label") or ""
    if name:
        return _("第 %(n)s 行（%(name)s）", n=index + 1, name=name)
    return _("第 %(n)s 行", n=index + 1)


def check_row(row: dict[str, str], choices: dict[str, Choice]) -> dict[str, str]:
    """One typed row's errors by field, in the page's language; an empty dict when it is right."""
    errors: dict[str, str] = {}
    choice = choices.get(row["parameter"])
    if not row["parameter"]:
        errors["parameter"] = _("请选择检测项目。")
    elif choice is None:
        errors["parameter"] = _("请从列表中选择检测项目。")
    if row["not_detected"]:
        if row["value"]:
            errors["value"] = _("勾选“未检出”时不填结果，请填写检出限。")
        if not row["lod"]:
            errors["lod"] = _("未检出时请填写检出限。")
        elif _number(row["lod"]) is None:
            errors["lod"] = _("请填写不小于 0 的数字，如 0.05。")
    elif _number(row["value"]) is None:
        errors["value"] = _("请填写不小于 0 的数字，如 0.05。")
    if not row["unit"]:
        errors["unit"] = _("请填写单位，如 mg/kg 或 毫克/千克。")
    elif choice is not None and choice.unit and units.kind_of(choice.unit) not in (None, units.kind_of(row["unit"])):
        limit = units.canonical(choice.unit)
        errors["unit"] = _("%(unit)s 无法换算为该项目的限量单位 %(limit)s。", unit=row["unit"], limit=limit)
    return errors


def check_rows(typed: list[dict[str, str]], index_map: list[int], choices: dict[str, Choice]) -> dict[str, str]:
    """The errors of every row that carries a result, as form field names (``results-4-unit``)."""
    errors: dict[str, str] = {}
    for i in index_map:
        for field, message in check_row(typed[i], choices).items():
            errors[f"results-{i}-{field}"] = message
    return errors


def summary(
    errors: dict[str, str], typed: list[dict[str, str]], choices: dict[str, Choice], english: bool
) -> list[str]:
    """Each row error once more at the top of the page, naming its row and field."""
    out = []
    colon = ": " if english else "："
    for name, message in errors.items():
        parts = name.split("-")
        if len(parts) != 3 or parts[0] != "results" or not parts[1].isdigit():
            continue
        index, field = int(parts[1]), parts[2]
        row = typed[index] if index < len(typed) else {}
        field_name = _(FIELD_NAMES[field]) if field in FIELD_NAMES else field
        out.append(f"{row_name(index, row, choices, english)}{field_name}{colon}{message}")
    return out


def for_service(row: dict[str, str]) -> dict[str, Any]:
    """A checked row as the service takes it: the unit as we print it (毫克/千克 is mg/kg)."""
    result: dict[str, Any] = {"parameter": row["parameter"], "unit": units.canonical(row["unit"])}
    if row["not_detected"]:
        result["not_detected"] = True
        result["lod"] = row["lod"] or None
    else:
        result["value"] = row["value"] or None
    if row["method"]:
        result["method"] = row["method"]
    return result
