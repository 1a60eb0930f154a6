"""Rosters as the office fills them in: XLSX workbooks built with openpyxl."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any

from openpyxl import Workbook

from app.office.roster import COLUMNS, SHEET
from tests.conftest import valid_credit_code

HEADERS = [title for _, title in COLUMNS]


def roster_xlsx(rows: Iterable[Sequence[Any]], headers: Sequence[str] = HEADERS) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = SHEET
    sheet.append(list(headers))
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def coop_row(code: str, serial: int, county: str = "通山县", products: str = "通山枇杷") -> list[Any]:
    return [code, f"{code} 合作社", "合作社", county, valid_credit_code(serial), "", "", "", products]


def household_row(code: str, coop: str, county: str = "通山县") -> list[Any]:
    return [code, f"农户 {code}", "农户", county, "", "4212**********123X", "13800000000", coop, "通山枇杷"]


def enterprise_row(code: str, serial: int, county: str = "赤壁市", products: str = "赤壁青砖茶") -> list[Any]:
    return [code, f"{code} 茶业有限公司", "企业", county, valid_credit_code(serial), "", "", "", products]
