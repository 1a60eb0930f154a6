"""The import sheet: its columns (the field app's stage form, one column per input), the XLSX
template, and reading an upload (XLSX or CSV) back into rows of text.

Headers are always Chinese (the stage form drawn under the Chinese locale); a list field
(planting inputs, processing steps) is one item per row. The importing itself is app/field/imports.py.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy import select

from app.auth import Actor
from app.batches.models import Batch, BatchStatus
from app.batches.vocabulary import record_name
from app.catalog.products import PRODUCTS
from app.clock import CHINA_TZ
from app.db import db
from app.errors import InvalidInput
from app.field import forms
from app.i18n import N_

MAX_ROWS = 5000
DATA_SHEET = "记录"
HELP_SHEET = "填写说明"
LISTS_SHEET = "选项"
# What the template's hidden sheet says it was made for, so an XLSX upload needs no pickers.
META_CELLS = ("product", "stage")
LOT_HEADER = N_("批次号")
WHEN_HEADER = N_("发生时间")
TIME_FORMAT = "yyyy-mm-dd hh:mm"


@dataclass
class Column:
    """One column of the sheet: the stage form's input it fills and its Chinese header."""

    key: str  # the form name read_stage_form reads (quantity, quantity-unit, inputs-0-name, ...)
    header: str  # Chinese, always
    required: bool
    widget: str  # text, number, integer, area, choice, datetime, unit, lot
    choices: list[tuple[str, str]] = field(default_factory=list)  # (stored value, Chinese name)
    hint: str = ""


@dataclass(frozen=True)
class Problem:
    row: int  # as the spreadsheet numbers it (the header is row 1); 0 for the file itself
    column: str  # the column's Chinese header, "" for the whole row
    reason: str  # in the caller's language

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "reason": self.reason}


class ImportRefused(InvalidInput):
    """422: the rows named, nothing stored."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(
            _("%(n)s 行有误，什么都没有保存。", n=len({p.row for p in problems})),
            {"rows": [p.as_dict() for p in problems]},
        )


def check_product_stage(product: str, stage: str) -> None:
    if product not in PRODUCTS:
        raise InvalidInput.field("product", _("请选择产品"), "query")
    if stage not in PRODUCTS[product].stages:
        raise InvalidInput.field("stage", _("这个产品没有这个环节"), "query")


def form_of(product: str, stage: str) -> list[forms.FormField]:
    """The stage's form with Chinese labels, whatever the caller's language (headers are Chinese)."""
    with force_locale("zh"):
        return forms.stage_form(product, stage)


def columns(product: str, stage: str) -> list[Column]:
    """The sheet's columns: lot code, when, then the stage form's inputs in its order (note last)."""
    with force_locale("zh"):
        cols = [
            Column("lot_code", LOT_HEADER, True, "lot", hint="本主体持有的该产品批次"),
            Column("occurred_at", WHEN_HEADER, True, "datetime", hint="北京时间，例如 2026-05-01 08:30"),
        ]
        for ff in form_of(product, stage):
            if ff.widget == "list":
                for sub in ff.rows:
                    cols.append(_column(f"{ff.name}-0-{sub.name}", f"{ff.label}·{sub.label}", sub, required=False))
                continue
            if ff.widget == "quantity":
                cols.append(_column(ff.name, ff.label, ff, ff.required))
                units = [(u.key, u.key) for u in ff.units]
                cols.append(Column(f"{ff.name}-unit", f"{ff.label}单位", ff.required, "unit", units))
                continue
            cols.append(_column(ff.name, ff.label, ff, ff.required))
    return cols


def _column(key: str, header: str, ff: forms.FormField, required: bool) -> Column:
    widget = {"quantity": "number"}.get(ff.widget, ff.widget)
    hint = {
        "datetime": "北京时间，例如 2026-05-01 08:30",
        "area": "亩",
        "integer": "整数",
        "number": "数字",
        "choice": "从下拉列表中选择",
    }.get(widget, "")
    return Column(key, header, required, widget, list(ff.choices), hint)


# --- the template ----------------------------------------------------------------------------------


def template_xlsx(actor: Actor, product: str, stage: str) -> bytes:
    """An empty sheet with the stage's Chinese headers, drop-down lists, and a sheet of instructions."""
    check_product_stage(product, stage)
    cols = columns(product, stage)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = DATA_SHEET
    lists = book.create_sheet(LISTS_SHEET)
    helps = book.create_sheet(HELP_SHEET)
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="FFF2CC")
    lots = _lot_choices(actor, product)
    list_col = 0
    for i, col in enumerate(cols, start=1):
        letter = get_column_letter(i)
        cell = sheet.cell(row=1, column=i, value=col.header)
        cell.font = bold
        if col.required:
            cell.fill = fill
        sheet.column_dimensions[letter].width = max(12, len(col.header) * 2 + 4)
        values = lots if col.widget == "lot" else [name for _v, name in col.choices]
        if values:
            # The list sits on the hidden sheet: a list written into the rule itself is limited to 255 characters.
            list_col += 1
            list_letter = get_column_letter(list_col)
            lists.cell(row=1, column=list_col, value=col.header)
            for r, value in enumerate(values, start=2):
                lists.cell(row=r, column=list_col, value=value)
            rule = DataValidation(
                type="list",
                formula1=f"'{LISTS_SHEET}'!${list_letter}$2:${list_letter}${len(values) + 1}",
                allow_blank=not col.required,
                showErrorMessage=col.widget != "lot",  # a lot made after the download may still be typed
                errorTitle="请从列表中选择",
                error=f"{col.header}：请从下拉列表中选择",
            )
            rule.add(f"{letter}2:{letter}{MAX_ROWS + 1}")
            sheet.add_data_validation(rule)
        if col.widget == "datetime":
            # A column style, not styled empty cells: the sheet's rows stay empty until filled.
            sheet.column_dimensions[letter].number_format = TIME_FORMAT
    sheet.freeze_panes = "A2"
    # What the file was made for, read back on upload (a CSV names them with the pickers instead).
    meta_col = list_col + 2
    lists.cell(row=1, column=meta_col, value="product")
    lists.cell(row=2, column=meta_col, value=product)
    lists.cell(row=1, column=meta_col + 1, value="stage")
    lists.cell(row=2, column=meta_col + 1, value=stage)
    lists.sheet_state = "hidden"
    _write_help(helps, product, stage, cols)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _lot_choices(actor: Actor, product: str) -> list[str]:
    return list(
        db.session.scalars(
            select(Batch.lot_code)
            .where(
                Batch.custodian_org_id == actor.org.id,
                Batch.product_key == product,
                Batch.status.in_((BatchStatus.active, BatchStatus.on_hold)),
            )
            .order_by(Batch.lot_code)
            .limit(2000)
        )
    )


def _write_help(helps: Any, product: str, stage: str, cols: list[Column]) -> None:
    with force_locale("zh"):
        stage_zh = record_name(stage)
    spec = PRODUCTS[product]
    lines = [
        ("产品", spec.name_zh),
        ("环节", stage_zh),
        ("怎么填", f"在「{DATA_SHEET}」表里每行填一条记录，第一行是标题，不要改动。黄色标题为必填。"),
        ("时间", "一律按北京时间填写，例如 2026-05-01 08:30；只填日期则记为当天 0 点。"),
        ("行数", f"一个文件最多 {MAX_ROWS} 行。"),
        ("全部或不存", "只要有一行有误，整个文件都不保存，并列出每一行的行号、列名和原因；改正后再上传。"),
        ("重复上传", "同一个文件（或同一行）再次上传不会重复保存。"),
        ("另存为 CSV", "也可以另存为 CSV（UTF-8 或 GBK 编码）上传，上传时选择产品和环节。"),
    ]
    helps.column_dimensions["A"].width = 16
    helps.column_dimensions["B"].width = 80
    for r, (name, text) in enumerate(lines, start=1):
        helps.cell(row=r, column=1, value=name).font = Font(bold=True)
        helps.cell(row=r, column=2, value=text)
    r = len(lines) + 2
    for c, title in enumerate(("列", "必填", "填写"), start=1):
        helps.cell(row=r, column=c, value=title).font = Font(bold=True)
    helps.column_dimensions["C"].width = 40
    for col in cols:
        r += 1
        helps.cell(row=r, column=1, value=col.header)
        helps.cell(row=r, column=2, value="必填" if col.required else "选填")
        choices = "、".join(name for _v, name in col.choices)
        helps.cell(row=r, column=3, value=col.hint + (f"：{choices}" if choices else ""))


# --- reading an upload -----------------------------------------------------------------------------


@dataclass
class Sheet:
    """An upload's cells as text: the header row, and each data row with its spreadsheet row number."""

    headers: list[str]
    rows: list[tuple[int, list[Any]]]
    meta: dict[str, str] = field(default_factory=dict)


def read_upload(filename: str, content: bytes) -> Sheet:
    """An XLSX (by its zip signature) or a CSV; InvalidInput naming the file if it is neither."""
    if content[:4] == b"PK\x03\x04":
        return _read_xlsx(content)
    if filename.lower().endswith((".xlsx", ".xlsm")):
        raise ImportRefused([Problem(0, "", _("文件无法读取：请上传 Excel（.xlsx）或 CSV 文件"))])
    return _read_csv(content)


def _read_xlsx(content: bytes) -> Sheet:
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a broken file; all mean the same to the farmer
        raise ImportRefused([Problem(0, "", _("文件无法读取：请上传 Excel（.xlsx）或 CSV 文件"))]) from None
    sheet = book[DATA_SHEET] if DATA_SHEET in book.sheetnames else book.worksheets[0]
    meta: dict[str, str] = {}
    if LISTS_SHEET in book.sheetnames:
        grid = list(book[LISTS_SHEET].iter_rows(min_row=1, max_row=2, values_only=True))
        if len(grid) == 2:
            for name, value in zip(grid[0], grid[1], strict=False):
                if isinstance(name, str) and name in META_CELLS and isinstance(value, str):
                    meta[name] = value
    headers: list[str] = []
    rows: list[tuple[int, list[Any]]] = []
    for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        if number == 1:
            headers = [str(v).strip() if v is not None else "" for v in values]
            continue
        if any(v is not None and str(v).strip() for v in values):
            rows.append((number, list(values)))
            if len(rows) > MAX_ROWS:
                break  # enough to refuse it
    book.close()
    return Sheet(headers, rows, meta)


def _read_csv(content: bytes) -> Sheet:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ImportRefused([Problem(0, "", _("文件无法读取：CSV 须为 UTF-8 或 GBK 编码"))])
    reader = csv.reader(io.StringIO(text))
    headers: list[str] = []
    rows: list[tuple[int, list[Any]]] = []
    for number, values in enumerate(reader, start=1):
        if number == 1:
            headers = [v.strip() for v in values]
            continue
        if any(v.strip() for v in values):
            rows.append((number, list(values)))
            if len(rows) > MAX_ROWS:
                break
    return Sheet(headers, rows)


def cell_text(value: Any) -> str:
    """A cell as the form would have posted it: numbers without a float's tail, times in ISO."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S")
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%dT00:00")
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format(Decimal(repr(value)).normalize(), "f")
    return str(value).strip()


def parse_when(text: str) -> dt.datetime | None:
    """A time typed in China time (2026-05-01 08:30, 2026/5/1 8:30, or a date alone)."""
    text = text.strip().replace("/", "-").replace("T", " ")
    if not text:
        return None
    try:  # the common case, and ten times faster than strptime
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is not None:
        return moment.replace(tzinfo=CHINA_TZ) if moment.tzinfo is None else moment
    for pattern in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(text, pattern).replace(tzinfo=CHINA_TZ)
        except ValueError:
            continue
    return None
