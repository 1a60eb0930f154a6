"""A drill-down's rows as CSV (UTF-8 with a BOM, so Excel shows the Chinese) or XLSX (frozen header, autofilter)."""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from app.office.drill import Table


def table_csv(table: Table) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table.columns)
    writer.writerows(table.rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def table_xlsx(table: Table, as_of: str) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "数据"
    sheet.append(table.columns)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in table.rows:
        sheet.append(row)
    sheet.freeze_panes = "A2"
    if table.rows:
        sheet.auto_filter.ref = sheet.dimensions
    for index, _ in enumerate(table.columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = 20
    about = book.create_sheet("说明")
    about.append(["内容", table.title])
    about.append(["数据截止（北京时间）", as_of])
    about.append(["行数", len(table.rows)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
