"""Stage forms generated from the stage definitions the API validates against (app/batches/stages.py).

Nothing here declares what a stage records: the form walks ``stage_schema(product, stage)``, so a
field added there appears on the phone too (and tests/field fails until it has a Chinese label).
This module adds only presentation (labels, pickers, units) and turns a posted form back into the
API's ``data`` dict; the batch service validates it exactly as for a JSON request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext as _
from marshmallow import fields, validate

from app.batches.stages import stage_schema
from app.catalog.products import PRODUCTS
from app.field import clock
from app.i18n import N_
from app.units import AREA_UNITS, QUANTITY_UNITS, FarmUnit, NotExact, to_stored

# Labels for the keys the stages share; a product line's own fields carry theirs (ExtraField).
LABELS: dict[str, str] = {
    "note": N_("备注"),
    "variety": N_("品种"),
    "source": N_("种苗来源"),
    "count": N_("数量"),
    "inputs": N_("农药和肥料"),
    "area_mu": N_("面积"),
    "quantity": N_("数量"),
    "unit": N_("单位"),
    "grade": N_("等级"),
    "steps": N_("加工步骤"),
    "package": N_("包装规格"),
    "temperature_c": N_("温度(℃)"),
    "humidity_pct": N_("湿度(%)"),
    "warehouse": N_("仓库"),
    "vehicle": N_("车牌号"),
    "origin": N_("起运地"),
    "destination": N_("目的地"),
    "channel": N_("销售渠道"),
    "buyer": N_("购买方"),
    "kind": N_("类型"),
    # planting inputs
    "name": N_("名称"),
    "registration_no": N_("登记证号(PD…)"),
    "dose": N_("用量"),
    "dose_unit": N_("用量单位"),
    "applied_at": N_("施用时间"),
    "phi_days": N_("安全间隔期(天)"),
    # processing steps
    "started_at": N_("开始时间"),
}
# Per stage, where one shared key means something more particular.
STAGE_LABELS: dict[tuple[str, str], str] = {
    ("seedling", "count"): N_("株数"),
    ("harvest", "quantity"): N_("采收量"),
    ("packing", "count"): N_("件数"),
}
# Fixed choices stored as English keys, shown by name.
CHOICE_LABELS: dict[str, str] = {
    "fertilizer": N_("肥料"),
    "pesticide": N_("农药"),
    "drying": N_("干制"),
    "scenting": N_("窨制"),
    "candying": N_("糖渍"),
    "cold": N_("冷榨"),
    "hot": N_("热榨"),
    "aqueous_enzymatic": N_("水酶法"),
    "complaint": N_("投诉"),
    "return": N_("退货"),
    "feedback": N_("反馈"),
}
# Suggestions (not a fixed list: the service takes any text) for free-text keys.
SUGGESTIONS: dict[str, tuple[str, ...]] = {
    "dose_unit": ("毫升/亩", "克/亩", "公斤/亩", "毫升", "克", "公斤"),
    "channel": ("批发市场", "超市", "电商", "合作社直销", "农家乐"),
}
# Blank rows a list field (planting inputs, processing steps) offers on a fresh form; "再加一行"
# adds one more without saving anything.
LIST_ROWS = 1
MAX_LIST_ROWS = 20


@dataclass
class FormField:
    """One input on the page, as the template draws it."""

    name: str  # the data key (inside a list row: the row's key)
    label: str
    widget: str  # text, number, integer, choice, datetime, quantity, area, list
    required: bool = False
    choices: list[tuple[str, str]] = field(default_factory=list)
    suggestions: tuple[str, ...] = ()
    units: list[FarmUnit] = field(default_factory=list)  # quantity widget: the farmer's units
    rows: list[FormField] = field(default_factory=list)  # list widget: the fields of one row
    maximum: int | None = None  # text length


def _one_of(f: fields.Field) -> list[str]:
    for v in f.validators:
        if isinstance(v, validate.OneOf):
            return [str(c) for c in v.choices]
    return []


def _max_length(f: fields.Field) -> int | None:
    for v in f.validators:
        if isinstance(v, validate.Length) and v.max is not None:
            return v.max
    return None


def _label(product_key: str, stage: str, name: str, english: bool) -> str:
    for extra in PRODUCTS[product_key].extra_fields.get(stage, ()):
        if extra.name == name:
            return str(_(extra.label))
    label = STAGE_LABELS.get((stage, name)) or LABELS.get(name)
    return _(label) if label is not None else name


def choice_label(value: str) -> str:
    label = CHOICE_LABELS.get(value)
    return _(label) if label is not None else value


def _widget(product_key: str, stage: str, name: str, f: fields.Field, english: bool) -> FormField | None:
    label = _label(product_key, stage, name, english)
    required = bool(f.required)
    if isinstance(f, fields.Dict):
        return None  # free-form parameters have no phone form; the API takes them
    if isinstance(f, fields.List) and isinstance(f.inner, fields.Nested):
        nested = f.inner.schema
        rows = [w for n, sub in nested.fields.items() if (w := _widget(product_key, stage, n, sub, english))]
        if stage == "processing":
            for row in rows:
                if row.name == "name":
                    row.suggestions = PRODUCTS[product_key].processing_steps
        return FormField(name, label, "list", required, rows=rows)
    if isinstance(f, fields.DateTime):
        return FormField(name, label, "datetime", required)
    if isinstance(f, fields.Integer):
        return FormField(name, label, "integer", required)
    if isinstance(f, fields.Decimal):
        return FormField(name, label, "area" if name.endswith("_mu") else "number", required)
    choices = _one_of(f)
    if choices:
        return FormField(name, label, "choice", required, choices=[(c, choice_label(c)) for c in choices])
    return FormField(name, label, "text", required, suggestions=SUGGESTIONS.get(name, ()), maximum=_max_length(f))


def stage_form(product_key: str, stage: str, english: bool = False) -> list[FormField]:
    """The inputs of one product's stage, in the order the stage definition declares them."""
    declared = stage_schema(product_key, stage).fields
    form: list[FormField] = []
    for name, f in declared.items():
        if name == "note":
            continue  # last, below everything else
        if name == "unit" and "quantity" in declared:
            continue  # drawn with the quantity, as one figure and a unit picker
        widget = _widget(product_key, stage, name, f, english)
        if widget is None:
            continue
        if name == "quantity" and "unit" in declared:
            stored = _one_of(declared["unit"])
            widget.widget = "quantity"
            widget.units = [u for u in QUANTITY_UNITS.values() if u.stored in stored]
        form.append(widget)
    note = _widget(product_key, stage, "note", declared["note"], english)
    assert note is not None
    form.append(note)
    return form


# --- reading a posted form -------------------------------------------------------------------------


@dataclass
class Entered:
    """A quantity as typed, and where it went in the data (for EnteredQuantity)."""

    field: str
    quantity: Decimal
    unit: str


_DECIMAL = re.compile(r"^[0-9]+(\.[0-9]+)?$")


def read_quantity(text: str, unit_key: str, units: dict[str, FarmUnit]) -> tuple[Decimal, FarmUnit]:
    """A typed figure and unit, as (figure, unit); ValueError with the reason in the page's language."""
    text = text.strip().replace(",", "").replace("，", "")
    if not text:
        raise ValueError(_("必填"))
    if not _DECIMAL.match(text) or len(text) > 20:
        raise ValueError(_("请填写数字，例如 200 或 12.5"))
    figure = Decimal(text)
    if figure <= 0:
        raise ValueError(_("应大于 0"))
    unit = units.get(unit_key)
    if unit is None:
        raise ValueError(_("请选择单位"))
    try:
        to_stored(figure, unit)
    except NotExact:
        raise ValueError(_("换算后超过三位小数，请少填几位小数")) from None
    return figure, unit


def read_stage_form(form_fields: list[FormField], posted: Any) -> tuple[dict[str, Any], list[Entered], dict[str, str]]:
    """The posted form as the API's ``data``, the quantities as typed, and errors found on the way."""
    data: dict[str, Any] = {}
    entered: list[Entered] = []
    errors: dict[str, str] = {}
    for ff in form_fields:
        if ff.widget == "list":
            rows = []
            count = row_count(posted.get(f"{ff.name}-rows", ""))
            for i in range(count):
                row = _read_values(ff.rows, posted, prefix=f"{ff.name}-{i}-", errors=errors)
                if row:
                    rows.append(row)
            if rows or ff.required:
                data[ff.name] = rows
            continue
        if ff.widget == "quantity":
            text = posted.get(ff.name, "")
            if not text.strip() and not ff.required:
                continue
            try:
                figure, unit = read_quantity(text, posted.get(f"{ff.name}-unit", ""), {u.key: u for u in ff.units})
            except ValueError as exc:
                errors[ff.name] = str(exc)
                continue
            data[ff.name] = str(to_stored(figure, unit))
            data["unit"] = unit.stored
            entered.append(Entered(ff.name, figure, unit.key))
            continue
        data.update(_read_values([ff], posted, prefix="", errors=errors))
    return data, entered, errors


def _read_values(form_fields: list[FormField], posted: Any, prefix: str, errors: dict[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for ff in form_fields:
        raw = posted.get(prefix + ff.name, "").strip()
        if not raw:
            continue  # left empty: the schema says whether it was required
        if ff.widget == "datetime":
            moment = clock.parse_local(raw)
            if moment is None:
                errors[prefix + ff.name] = _("请填写日期和时间")
                continue
            values[ff.name] = moment.isoformat()
        elif ff.widget == "area":
            try:
                values[ff.name] = str(to_stored(Decimal(raw), AREA_UNITS["亩"]))
            except (InvalidOperation, NotExact):
                errors[prefix + ff.name] = _("请填写数字，最多三位小数")
        else:
            values[ff.name] = raw
    return values


def row_count(text: str) -> int:
    try:
        return max(0, min(int(text.strip() or LIST_ROWS), MAX_LIST_ROWS))
    except ValueError:
        return LIST_ROWS


# --- the service's refusals in the page's language ---------------------------------------------------

_RANGE_BOTH = re.compile(r"^Must be greater than or equal to (\S+) and less than or equal to (\S+)\.$")
_RANGE_MIN = re.compile(r"^Must be greater than or equal to (\S+)\.$")
_RANGE_MIN_EXCLUSIVE = re.compile(r"^Must be greater than (\S+)\.$")
_RANGE_MAX = re.compile(r"^Must be less than or equal to (\S+)\.$")
_LONGER = re.compile(r"^Longer than maximum length (\d+)\.$")


def translate_reason(message: str) -> str:
    """A marshmallow or service reason, said in the page's language (a general one when unknown)."""
    fixed = {
        "Missing data for required field.": _("必填"),
        "Not a valid number.": _("请填写数字"),
        "Not a valid integer.": _("请填写整数"),
        "Not a valid datetime.": _("请填写日期和时间"),
        "Not a valid aware datetime.": _("请填写日期和时间"),
        "Shorter than minimum length 1.": _("必填"),
        "Unknown field.": _("不认识的字段"),
        "must be greater than zero": _("应大于 0"),
        "at most 3 decimal places": _("最多三位小数"),
    }
    if message in fixed:
        return fixed[message]
    if message.startswith("Must be one of"):
        return _("请从列表中选择")
    if m := _RANGE_BOTH.match(message):
        return _("应在 %(low)s 到 %(high)s 之间", low=m[1], high=m[2])
    if m := _RANGE_MIN.match(message):
        return _("不能小于 %(low)s", low=m[1])
    if m := _RANGE_MIN_EXCLUSIVE.match(message):
        return _("应大于 %(low)s", low=m[1])
    if m := _RANGE_MAX.match(message):
        return _("不能大于 %(high)s", high=m[1])
    if m := _LONGER.match(message):
        return _("最多 %(n)s 个字", n=m[1])
    return _("填写有误")


def flatten_errors(errors: Any, prefix: str = "") -> dict[str, str]:
    """Nested schema errors ({"inputs": {"0": {"name": [...]}}}) as form names (inputs-0-name)."""
    flat: dict[str, str] = {}
    if isinstance(errors, list):
        flat[prefix or "_form"] = "；".join(translate_reason(str(e)) for e in errors)
        return flat
    if isinstance(errors, dict):
        for key, value in errors.items():
            flat.update(flatten_errors(value, f"{prefix}-{key}" if prefix else str(key)))
        return flat
    flat[prefix or "_form"] = translate_reason(str(errors))
    return flat
