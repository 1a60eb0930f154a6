"""Spreadsheet import of stage records: the template (XLSX) per product and stage, and the upload.

The columns are not declared here: they are the field app's stage form (app/field/forms.py, which
walks the stage definition the API validates against), one column per input, a list field
(planting inputs, processing steps) as one item per row. Headers are always Chinese; a reason
is in the caller's language.

All or nothing: every row is read and checked, each bad one named (row number as the spreadsheet
shows it, the column's Chinese header, the reason), and one bad row stores nothing. The good rows
go through the batch service's set-based append path (``_append_rows``, the one ``/events/bulk``
uses: one lock statement, one multi-row INSERT, the ``events_appended`` signal once per batch).

Idempotency: each row is stored under the key ``imp:`` + SHA-256 of what it records (lot code,
stage, occurred_at, data). The batch service returns an event already stored under that key
instead of storing it again, so the same file (or the same row in another file) uploaded again
stores nothing new; the answer counts it under ``duplicates``. Two identical rows in one file are
refused (the second names the first).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import insert, select

from app import access
from app.auth import Actor
from app.batches import capture
from app.batches import service as batches
from app.batches.models import Batch
from app.db import db, utcnow
from app.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from app.field import forms
from app.field.import_sheet import (
    LOT_HEADER,
    MAX_ROWS,
    WHEN_HEADER,
    Column,
    ImportRefused,
    Problem,
    cell_text,
    check_product_stage,
    columns,
    form_of,
    parse_when,
    read_upload,
    template_xlsx,
)
from app.field.models import EnteredQuantity
from app.field.service import STAGE_REFUSALS

__all__ = ["MAX_ROWS", "ImportRefused", "ImportResult", "Problem", "import_events", "template_xlsx"]
KEY_PREFIX = "imp:"


@dataclass(frozen=True)
class ImportResult:
    rows: int
    stored: int
    duplicates: int


# --- importing -------------------------------------------------------------------------------------


@dataclass
class _Checked:
    number: int
    batch: Batch
    occurred_at: dt.datetime
    data: dict[str, Any]
    entered: list[forms.Entered]
    key: str


def row_key(lot_code: str, stage: str, occurred_at: dt.datetime, data: dict[str, Any]) -> str:
    """The row's idempotency key: what it records, hashed (the same row uploaded again is found by it)."""
    payload = json.dumps(
        {"lot": lot_code, "stage": stage, "at": occurred_at.isoformat(), "data": data},
        sort_keys=True, ensure_ascii=False, default=str,
    )  # fmt: skip
    return KEY_PREFIX + hashlib.sha256(payload.encode()).hexdigest()[:60]


def import_events(
    actor: Actor, filename: str, content: bytes, product: str = "", stage: str = "", now: dt.datetime | None = None
) -> ImportResult:
    """Store every row of the upload as a stage record, or none; ImportRefused names each bad row."""
    now = now or utcnow()
    sheet = read_upload(filename, content)
    # A template names what it was made for; that wins over the pickers (a CSV has only those).
    product = sheet.meta.get("product") or product
    stage = sheet.meta.get("stage") or stage
    check_product_stage(product, stage)
    if len(sheet.rows) > MAX_ROWS:
        raise ImportRefused([Problem(0, "", _("一个文件最多 %(n)s 行，请分成几个文件上传", n=MAX_ROWS))])
    if not sheet.rows:
        raise ImportRefused([Problem(0, "", _("文件里没有记录：请从第 2 行开始填写"))])
    cols = columns(product, stage)
    by_header = {c.header: c for c in cols}
    missing = [c.header for c in cols if c.required and c.header not in sheet.headers]
    unknown = [h for h in sheet.headers if h and h not in by_header]
    if missing or unknown:
        named = [Problem(1, h, _("缺少这一列：请用下载的模板")) for h in missing]
        named += [Problem(1, h, _("模板里没有这一列")) for h in unknown]
        raise ImportRefused(named)
    form_fields = form_of(product, stage)
    position = {h: i for i, h in enumerate(sheet.headers) if h in by_header}
    header_of = _headers_by_key(cols, form_fields)
    choice_names = _choice_names(cols)
    lots = _lots(actor, {cell_text(r[position[LOT_HEADER]]) for _n, r in sheet.rows if position[LOT_HEADER] < len(r)})
    problems: list[Problem] = []
    checked: list[_Checked] = []
    seen: dict[str, int] = {}
    for number, values in sheet.rows:
        posted = {c.key: "" for c in cols}
        for header, i in position.items():
            posted[by_header[header].key] = cell_text(values[i]) if i < len(values) else ""
        row_problems: list[Problem] = []
        _choices_to_keys(choice_names, posted)
        _times_to_iso(cols, posted)
        for ff in form_fields:
            if ff.widget == "list":
                posted[f"{ff.name}-rows"] = "1"
        lot_code = posted["lot_code"]
        batch = lots.get(lot_code)
        if not lot_code:
            row_problems.append(Problem(number, LOT_HEADER, _("必填")))
        elif batch is None:
            row_problems.append(Problem(number, LOT_HEADER, _("找不到这个批次号，或不是您能记录的批次")))
        elif batch.product_key != product:
            row_problems.append(Problem(number, LOT_HEADER, _("这个批次不是所选的产品")))
        occurred_at = parse_when(posted["occurred_at"])
        if occurred_at is None:
            reason = _("必填") if not posted["occurred_at"] else _("请填写日期和时间，例如 2026-05-01 08:30")
            row_problems.append(Problem(number, WHEN_HEADER, reason))
        data, entered, errors = forms.read_stage_form(form_fields, posted)
        row_problems += [Problem(number, header_of.get(k, ""), reason) for k, reason in errors.items()]
        if row_problems or batch is None or occurred_at is None:
            problems += row_problems
            continue
        key = row_key(lot_code, stage, occurred_at, data)
        if key in seen:
            problems.append(Problem(number, "", _("与第 %(n)s 行完全相同", n=seen[key])))
            continue
        seen[key] = number
        checked.append(_Checked(number, batch, occurred_at, data, entered, key))
    if problems:
        raise ImportRefused(problems)
    return _store(actor, stage, checked, header_of, now)


def _headers_by_key(cols: list[Column], form_fields: list[forms.FormField]) -> dict[str, str]:
    """Each form name an error may come back under, with the column it concerns."""
    header_of = {c.key: c.header for c in cols}
    for ff in form_fields:
        if ff.widget == "quantity":
            header_of["unit"] = header_of.get(f"{ff.name}-unit", "")
        if ff.widget == "list" and ff.rows:
            header_of[ff.name] = header_of.get(f"{ff.name}-0-{ff.rows[0].name}", "")
            for sub in ff.rows:  # a list item's error names its index: ours is always 0
                header_of[f"{ff.name}-0-{sub.name}"] = header_of.get(f"{ff.name}-0-{sub.name}", "")
    return header_of


def _times_to_iso(cols: list[Column], posted: dict[str, str]) -> None:
    """A time column typed as 2026/5/1 8:30 read as the form's own (ISO) text; left as typed if unreadable."""
    for col in cols:
        if col.widget == "datetime" and col.key != "occurred_at" and posted.get(col.key):
            moment = parse_when(posted[col.key])
            if moment is not None:
                posted[col.key] = moment.isoformat()


def _lots(actor: Actor, codes: set[str]) -> dict[str, Batch]:
    """The batches the rows name, that the caller may read, in one query."""
    codes.discard("")
    if not codes:
        return {}
    query = select(Batch).where(Batch.lot_code.in_(sorted(codes)))
    readable = access.readable_batches(actor)
    if readable is not None:
        query = query.where(readable)
    return {b.lot_code: b for b in db.session.scalars(query)}


def _choice_names(cols: list[Column]) -> dict[str, dict[str, str]]:
    """Per drop-down column, every way a choice may be typed (its key, Chinese or English name) → its key."""
    names: dict[str, dict[str, str]] = {}
    with force_locale("en"):
        for col in cols:
            if col.widget == "choice":
                names[col.key] = {typed: value for value, name in col.choices
                                  for typed in (value, name, forms.choice_label(value))}  # fmt: skip
    return names


def _choices_to_keys(names: dict[str, dict[str, str]], posted: dict[str, str]) -> None:
    """A drop-down's Chinese name (or its English one, or the stored key) as the value the form posts."""
    for key, known in names.items():
        typed = posted.get(key)
        if typed and typed in known:
            posted[key] = known[typed]


def _store(
    actor: Actor, stage: str, checked: list[_Checked], header_of: dict[str, str], now: dt.datetime
) -> ImportResult:
    # Batch-id order, each batch's rows as given: the lock order every bulk writer uses.
    ordered = sorted(checked, key=lambda c: c.batch.id)
    rows = [capture._Row(c.batch.id, stage, c.occurred_at, c.data, None, None, c.key) for c in ordered]
    outcomes = capture._append_rows(actor, rows, now)
    problems: list[Problem] = []
    for c, outcome in zip(ordered, outcomes, strict=True):
        if isinstance(outcome, DomainError):
            problems += _refusals(c.number, outcome, header_of)
    if problems:
        problems.sort(key=lambda p: p.row)
        raise ImportRefused(problems)
    created = [
        (c, o) for c, o in zip(ordered, outcomes, strict=True) if isinstance(o, batches.AppendResult) and o.created
    ]
    typed = [
        {"batch_id": c.batch.id, "event_id": o.event.id, "field": t.field, "quantity": t.quantity, "unit": t.unit,
         "created_at": now}
        for c, o in created
        for t in c.entered
    ]  # fmt: skip
    if typed:
        db.session.execute(insert(EnteredQuantity), typed)
    return ImportResult(rows=len(checked), stored=len(created), duplicates=len(checked) - len(created))


def _refusals(number: int, exc: DomainError, header_of: dict[str, str]) -> list[Problem]:
    """The batch service's refusal of one row, in the caller's language, under the column it concerns."""
    if isinstance(exc, NotFound | Forbidden):
        return [Problem(number, LOT_HEADER, _("您不能给这个批次添加记录"))]
    if isinstance(exc, Conflict):
        return [Problem(number, LOT_HEADER, _("该批次现在不能记录：已转交待接收、已召回、已暂停或已用完"))]
    named = (exc.errors or {}).get("json", {}) if isinstance(exc, InvalidInput) else {}
    problems: list[Problem] = []
    for name, reasons in named.items():
        if name in STAGE_REFUSALS:
            column = WHEN_HEADER if name in ("occurred_at", "stage") else ""
            problems.append(Problem(number, column, STAGE_REFUSALS[name]()))
        else:
            inner = reasons if name == "data" else {name: reasons}
            for key, reason in forms.flatten_errors(inner).items():
                problems.append(Problem(number, header_of.get(key, ""), reason))
    return problems or [Problem(number, "", _("未能保存，请检查后重试。"))]


def no_file_reason() -> str:
    return _("请选择要上传的文件")
