"""The recall sheet, read back: CSV with the csv module, XLSX with openpyxl."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

from openpyxl import load_workbook

from app.recalls.service import COLUMNS
from tests.lineage.factories import expect
from tests.recalls.helpers import open_recall

HEADER = [label for _, label in COLUMNS]


def _recall(client, auth, chain):
    return expect(open_recall(client, auth("inspector"), chain["lots"][0], reason="农药残留超标"), 201)


def _by_type(rows: list[dict[str, str]]) -> dict[str, list[dict[str, str]]]:
    grouped: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        grouped.setdefault(row["记录类型 Record"].split()[0], []).append(row)
    return grouped


def test_csv_has_a_bom_a_header_and_a_row_per_lot_and_movement(client, auth, chain):
    recall = _recall(client, auth, chain)
    response = client.get(f"/api/v1/recalls/{recall['id']}/export.csv", headers=auth("inspector"))
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert f'filename="recall-{recall["id"]}.csv"' in response.headers["Content-Disposition"]
    raw = response.data
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 BOM so Excel reads the Chinese"

    reader = csv.reader(io.StringIO(raw.decode("utf-8-sig")))
    header = next(reader)
    assert header == HEADER
    rows = [dict(zip(header, line, strict=True)) for line in reader]
    grouped = _by_type(rows)
    # Five affected lots, two shipments (one accepted, one pending) and one sale.
    assert {k: len(v) for k, v in grouped.items()} == {"batch": 5, "transfer": 2, "sale": 1}
    assert {r["召回编号 Recall"] for r in rows} == {str(recall["id"])}

    lots = {r["批次号 Lot code"]: r for r in grouped["batch"]}
    sold = lots[chain["sold"].lot_code]
    assert sold["产品 Product"] == "通山枇杷 Tongshan loquat"
    assert (sold["数量 Quantity"], sold["单位 Unit"]) == ("30.000", "kg")
    assert sold["持有方 Holder"] == "咸宁优品超市" and sold["地点 Location"] == "咸安区"
    assert sold["来源批次 Source lot"] == chain["merged"].lot_code
    assert sold["层级 Depth"] == "2" and sold["召回前状态 Status before recall"] == "active"
    assert f"recall {recall['id']}" in sold["参考文件 Reference document"]
    root = lots[chain["lots"][0].lot_code]
    assert root["来源批次 Source lot"] == "" and root["对方 Counterparty"] == "陈家"  # grown by, held by the coop

    shipment = next(r for r in grouped["transfer"] if r["批次号 Lot code"] == chain["sold"].lot_code)
    assert shipment["持有方 Holder"] == "咸宁优品超市" and shipment["对方 Counterparty"] == "通山县大畈枇杷专业合作社"
    assert shipment["日期 Date (UTC+8)"] == "2026-05-01 19:00"  # 11:00 UTC, shown in China time
    assert shipment["参考文件 Reference document"] == f"transfer {chain['shipped']['id']} (accepted) waybill WB-88"
    pending = next(r for r in grouped["transfer"] if r["批次号 Lot code"] == chain["moving"].lot_code)
    assert pending["参考文件 Reference document"] == f"transfer {chain['on_the_road']['id']} (pending)"

    (sale,) = grouped["sale"]
    assert sale["批次号 Lot code"] == chain["sold"].lot_code
    assert sale["对方 Counterparty"] == "零售顾客 / 门店 store"
    assert sale["日期 Date (UTC+8)"] == "2026-05-01 21:00"
    assert sale["参考文件 Reference document"] == f"{chain['sold'].lot_code} event #{chain['sale'].seq}"


def test_xlsx_is_sortable_with_a_frozen_header_and_the_same_rows(client, auth, chain):
    recall = _recall(client, auth, chain)
    headers = auth("inspector")
    response = client.get(f"/api/v1/recalls/{recall['id']}/export.xlsx", headers=headers)
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    book = load_workbook(io.BytesIO(response.data))
    sheet = book.worksheets[0]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:O{sheet.max_row}"
    lines = list(sheet.iter_rows(values_only=True))
    assert list(lines[0]) == HEADER
    rows = [dict(zip(HEADER, line, strict=True)) for line in lines[1:]]

    as_csv = client.get(f"/api/v1/recalls/{recall['id']}/export.csv", headers=headers).data.decode("utf-8-sig")
    csv_rows = list(csv.DictReader(io.StringIO(as_csv)))
    assert len(rows) == len(csv_rows) == 8
    assert [r["批次号 Lot code"] for r in rows] == [r["批次号 Lot code"] for r in csv_rows]

    sold = next(
        r for r in rows if r["批次号 Lot code"] == chain["sold"].lot_code and r["记录类型 Record"].startswith("batch")
    )
    # Real numbers and dates, so sorting and filtering work in the spreadsheet.
    assert Decimal(str(sold["数量 Quantity"])) == Decimal(30)
    (sale,) = [r for r in rows if r["记录类型 Record"].startswith("sale")]
    # Sold at 13:00 UTC; the sheet shows China's wall time, which has no zone in a spreadsheet.
    china = dt.timezone(dt.timedelta(hours=8))
    assert sale["日期 Date (UTC+8)"] == dt.datetime(2026, 5, 1, 13, 0, tzinfo=dt.UTC).astimezone(china).replace(
        tzinfo=None
    )
    assert sale["数量 Quantity"] is None

    about = dict(book["说明 About"].iter_rows(values_only=True))
    assert about["召回编号 Recall"] == recall["id"]
    assert about["批次号 Lot recalled"] == chain["lots"][0].lot_code
    assert about["原因 Reason"] == "农药残留超标"
    assert about["级别 Severity"].startswith("I 一级召回")
    assert about["受影响批次 Affected lots"] == 5


def test_exports_are_read_by_the_same_people_as_the_recall(client, auth, chain):
    recall = _recall(client, auth, chain)
    for suffix in ("csv", "xlsx"):
        path = f"/api/v1/recalls/{recall['id']}/export.{suffix}"
        assert client.get(path, headers=auth(user=chain["retailer"])).status_code == 200
        assert client.get(path, headers=auth("processor")).status_code == 404
        assert client.get(path).status_code == 401
