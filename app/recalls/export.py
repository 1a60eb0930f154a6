"""A recall as a spreadsheet: CSV (UTF-8 with BOM, so Excel reads the Chinese) and XLSX.

Pure rendering of ``service.sheet_rows``: one row per affected lot and per movement (transfer,
sale), with the key data elements a regulator asks for. The XLSX has a frozen header and an
autofilter, so it can be sorted and filtered as it opens; its second sheet describes the recall.
Every cell goes through app/security.py (``csv_cell``, ``xlsx_append``): a control character already
stored is escaped, and no text is ever read as a formula.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from app.auth import Actor
from app.recalls import service
from app.recalls.models import Recall
from app.recalls.service import COLUMNS, local_time, severity_labels
from app.security import csv_cell, xlsx_append

DATE_FORMAT = "%Y-%m-%d %H:%M"
# Column widths in characters, for a sheet that reads without resizing.
WIDTHS = {"product": 28, "holder": 28, "counterparty": 24, "location": 24, "reference": 34, "source_lot": 22}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return str(value.quantize(Decimal("0.001")))
    if isinstance(value, dt.datetime):
        return value.strftime(DATE_FORMAT)
    return str(value)


def to_csv(rows: list[dict[str, Any]]) -> bytes:
    """CSV with a header of bilingual column names; the BOM tells Excel the file is UTF-8."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([label for _, label in COLUMNS])
    for row in rows:
        writer.writerow([csv_cell(_text(row[key])) for key, _ in COLUMNS])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _recall_facts(recall: Recall, count: int) -> list[tuple[str, Any]]:
    label = severity_labels(recall.severity)
    return [
        ("召回编号 Recall", recall.id),
        ("批次号 Lot recalled", recall.batch.lot_code),
        ("原因 Reason", recall.reason),
        ("级别 Severity", f"{recall.severity} {label['zh']} {label['en']}"),
        ("状态 Status", recall.status),
        ("开始 Opened (UTC+8)", _naive(local_time(recall.opened_at))),
        ("结束 Closed (UTC+8)", _naive(local_time(recall.closed_at))),
        ("结束原因 Closing reason", recall.closed_reason or ""),
        ("受影响批次 Affected lots", count),
    ]


def _naive(value: Any) -> Any:
    # Excel has no time zones: local wall time, the zone said in the header.
    return value.replace(tzinfo=None) if isinstance(value, dt.datetime) else value


def to_xlsx(recall: Recall, rows: list[dict[str, Any]], affected: int) -> bytes:
    """The sheet: header frozen, autofilter over every column, dates and quantities as real values."""
    book = Workbook()
    sheet = book.active
    assert isinstance(sheet, Worksheet)  # a new workbook opens on its one worksheet
    sheet.title = f"召回 Recall {recall.id}"
    sheet.append([label for _, label in COLUMNS])
    for row in rows:
        xlsx_append(sheet, [_naive(row[key]) for key, _ in COLUMNS])
    header_font = Font(bold=True, color="FFFFFF")
    header_fill = PatternFill("solid", fgColor="B42318")
    for cell in sheet[1]:
        cell.font = header_font
        cell.fill = header_fill
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    keys = [key for key, _ in COLUMNS]
    date_col = keys.index("date") + 1
    quantity_col = keys.index("quantity") + 1
    for line in sheet.iter_rows(min_row=2):
        line[date_col - 1].number_format = "yyyy-mm-dd hh:mm"
        line[quantity_col - 1].number_format = "0.000"
    for index, key in enumerate(keys, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = WIDTHS.get(key, 16)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(keys))}{max(sheet.max_row, 1)}"

    about = book.create_sheet("说明 About")
    for label, value in _recall_facts(recall, affected):
        xlsx_append(about, [label, value])
    about.column_dimensions["A"].width = 28
    about.column_dimensions["B"].width = 60
    for cell in about["A"]:
        cell.font = Font(bold=True)
    about["B6"].number_format = about["B7"].number_format = "yyyy-mm-dd hh:mm"

    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def recall_csv(actor: Actor, recall_id: int) -> bytes:
    """The recall sheet of a recall the actor may read, as CSV."""
    return to_csv(service.sheet_rows(service.recall_report(service.get_recall(actor, recall_id))))


def recall_xlsx(actor: Actor, recall_id: int) -> bytes:
    """The recall sheet of a recall the actor may read, as XLSX."""
    report = service.recall_report(service.get_recall(actor, recall_id))
    return to_xlsx(report.recall, service.sheet_rows(report), len(report.items))
