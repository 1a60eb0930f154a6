"""Spreadsheet import: the template read back with openpyxl, uploads of XLSX and CSV, all or nothing,
every bad row named, the 5,000-row limit, and the same file again storing nothing new."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from app.auth import Actor
from app.batches import service as batches
from app.batches.models import Batch, Event
from app.db import db
from app.field.models import EnteredQuantity
from app.orgs.models import Organization, User
from tests.conftest import settle

TEMPLATE = "/api/v1/imports/events/template.xlsx"
IMPORT = "/api/v1/imports/events"


@pytest.fixture
def farm(make_org: Callable[..., Organization], make_user: Callable[..., User], auth: Callable[..., dict[str, str]]):
    org = make_org(kind="farm_household", name="刘家")
    user = make_user("farmer", org=org)
    who = Actor(user=user, org=org)
    lots = [
        batches.create_batch(who, product="loquat", quantity=Decimal(100), unit="kg", lot_code=f"IMP-{n}")
        for n in range(3)
    ]
    settle()
    return {"headers": auth(user=user), "lots": lots, "who": who}


def events_of(lot: Batch, stage: str = "harvest") -> int:
    return (
        db.session.scalar(select(func.count()).select_from(Event).where(Event.batch_id == lot.id, Event.stage == stage))
        or 0
    )


def template(client: Any, headers: dict[str, str], product: str = "loquat", stage: str = "harvest") -> Any:
    response = client.get(TEMPLATE, query_string={"product": product, "stage": stage}, headers=headers)
    assert response.status_code == 200, response.get_json()
    return load_workbook(io.BytesIO(response.data))


def filled(
    client: Any, headers: dict[str, str], rows: list[list[Any]], product: str = "loquat", stage: str = "harvest"
) -> bytes:
    book = template(client, headers, product, stage)
    sheet = book["记录"]
    for r, values in enumerate(rows, start=2):
        for c, value in enumerate(values, start=1):
            sheet.cell(row=r, column=c, value=value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(client: Any, headers: dict[str, str], content: bytes, name: str = "h.xlsx", **query: str) -> Any:
    return client.post(
        IMPORT, query_string=query, headers=headers, data={"file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )  # fmt: skip


def test_template_has_chinese_headers_drop_downs_and_instructions(client, farm):
    book = template(client, farm["headers"])
    sheet = book["记录"]
    headers = [c.value for c in sheet[1]]
    assert headers[:2] == ["批次号", "发生时间"]
    assert "采收量" in headers and "采收量单位" in headers and "备注" in headers
    lists = book["选项"]
    assert lists.sheet_state == "hidden"
    # The lot codes and the farmer's units are drop-down lists drawn from the hidden sheet.
    formulas = {str(dv.sqref).split(":")[0]: dv.formula1 for dv in sheet.data_validations.dataValidation}
    unit_col = "ABCDEFGHIJ"[headers.index("采收量单位")]
    assert f"{unit_col}2" in formulas and "A2" in formulas
    listed = {
        lists.cell(row=1, column=c).value: [lists.cell(row=r, column=c).value for r in range(2, 12)]
        for c in range(1, 8)
    }
    assert {"IMP-0", "IMP-1", "IMP-2"} <= set(listed["批次号"])
    assert "斤" in listed["采收量单位"] and "公斤" in listed["采收量单位"]
    help_text = " ".join(str(c.value) for row in book["填写说明"].iter_rows() for c in row if c.value)
    assert "北京时间" in help_text and "5000" in help_text


def test_template_refuses_a_stage_the_product_lacks(client, farm):
    response = client.get(TEMPLATE, query_string={"product": "mahua", "stage": "seedling"}, headers=farm["headers"])
    assert response.status_code == 422
    assert "stage" in response.get_json()["errors"]["query"]


def test_one_bad_row_stores_nothing_and_names_the_row_column_and_reason(client, farm):
    lots = farm["lots"]
    content = filled(client, farm["headers"], [
        [lots[0].lot_code, "2026-05-01 08:00", 200, "斤", "一级"],
        [lots[1].lot_code, "2026-05-01 09:00", "很多", "斤"],
        ["NO-SUCH-LOT", "2026-05-01 09:00", 10, "公斤"],
    ])  # fmt: skip
    response = upload(client, farm["headers"], content)
    assert response.status_code == 422
    rows = response.get_json()["errors"]["rows"]
    assert {"row": 3, "column": "采收量", "reason": "请填写数字，例如 200 或 12.5"} in rows
    assert {"row": 4, "column": "批次号", "reason": "找不到这个批次号，或不是您能记录的批次"} in rows
    assert all(r["row"] != 2 for r in rows)
    assert events_of(lots[0]) == 0


def test_reasons_in_the_callers_language_columns_in_chinese(client, farm):
    content = filled(client, farm["headers"], [[farm["lots"][0].lot_code, "tomorrow", 5, "斤"]])
    response = upload(client, {**farm["headers"], "Accept-Language": "en"}, content)
    assert response.status_code == 422
    [problem] = response.get_json()["errors"]["rows"]
    assert problem["column"] == "发生时间" and problem["row"] == 2
    assert "date" in problem["reason"].lower()


def test_good_file_is_stored_in_the_stored_unit_and_again_stores_nothing(client, farm):
    lots = farm["lots"]
    content = filled(client, farm["headers"], [
        [lots[0].lot_code, "2026-05-01 08:00", 200, "斤", "一级"],
        [lots[1].lot_code, "2026/5/2 9:30", 1.5, "吨"],
    ])  # fmt: skip
    response = upload(client, farm["headers"], content)
    assert response.status_code == 201, response.get_json()
    assert response.get_json() == {"rows": 2, "stored": 2, "duplicates": 0}
    event = db.session.scalar(select(Event).where(Event.batch_id == lots[0].id, Event.stage == "harvest"))
    assert event.data["quantity"] == "100.000" and event.data["unit"] == "kg" and event.data["grade"] == "一级"
    assert event.occurred_at.isoformat().startswith("2026-05-01T00:00")  # 08:00 China time
    typed = db.session.scalar(select(EnteredQuantity).where(EnteredQuantity.event_id == event.id))
    assert (typed.quantity, typed.unit) == (Decimal(200), "斤")
    again = upload(client, farm["headers"], content)
    assert again.status_code == 200
    assert again.get_json() == {"rows": 2, "stored": 0, "duplicates": 2}
    assert events_of(lots[0]) == 1 and events_of(lots[1]) == 1


def test_csv_in_utf8_or_gbk_with_the_pickers(client, farm):
    lots = farm["lots"]
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["批次号", "发生时间", "采收量", "采收量单位", "等级", "备注"])
    writer.writerow([lots[2].lot_code, "2026-05-03 07:00", "80", "公斤", "", "上午摘"])
    response = upload(
        client, farm["headers"], text.getvalue().encode("gb18030"), "h.csv", product="loquat", stage="harvest"
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["stored"] == 1
    same = upload(
        client, farm["headers"], ("\ufeff" + text.getvalue()).encode(), "h.csv", product="loquat", stage="harvest"
    )
    assert same.get_json() == {"rows": 1, "stored": 0, "duplicates": 1}


def test_csv_without_product_and_stage_is_refused(client, farm):
    response = upload(client, farm["headers"], "批次号,发生时间\nX,2026-05-01\n".encode(), "h.csv")
    assert response.status_code == 422
    assert "product" in response.get_json()["errors"]["query"]


def test_5001_rows_are_refused_naming_the_limit(client, farm):
    lines = ["批次号,发生时间,采收量,采收量单位"] + [f"IMP-0,2026-05-01 08:00,{n + 1},斤" for n in range(5001)]
    response = upload(client, farm["headers"], "\n".join(lines).encode(), "big.csv", product="loquat", stage="harvest")
    assert response.status_code == 422
    [problem] = response.get_json()["errors"]["rows"]
    assert "5000" in problem["reason"]
    assert events_of(farm["lots"][0]) == 0


def test_identical_rows_in_one_file_are_refused(client, farm):
    row = [farm["lots"][0].lot_code, "2026-05-01 08:00", 200, "斤"]
    response = upload(client, farm["headers"], filled(client, farm["headers"], [row, row]))
    assert response.status_code == 422
    assert response.get_json()["errors"]["rows"] == [{"row": 3, "column": "", "reason": "与第 2 行完全相同"}]


def test_a_lot_of_another_farm_is_refused(client, farm, make_org, make_user, auth):
    other = make_user("farmer", org=make_org(kind="farm_household"))
    content = filled(client, farm["headers"], [[farm["lots"][0].lot_code, "2026-05-01 08:00", 1, "斤"]])
    response = upload(client, auth(user=other), content)
    assert response.status_code == 422
    assert response.get_json()["errors"]["rows"][0]["column"] == "批次号"


def test_planting_with_a_pesticide_per_row_and_choice_names(client, farm):
    lot = farm["lots"][0]
    book = template(client, farm["headers"], stage="planting")
    headers = [c.value for c in book["记录"][1]]
    values = {
        "批次号": lot.lot_code, "发生时间": "2026-03-01 08:00", "农药和肥料·类型": "农药", "农药和肥料·名称": "吡虫啉",
        "农药和肥料·登记证号(PD…)": "PD20080001", "农药和肥料·用量": 20, "农药和肥料·用量单位": "克/亩",
        "农药和肥料·施用时间": "2026/3/1 8:00", "农药和肥料·安全间隔期(天)": 14,
    }  # fmt: skip
    for header, value in values.items():
        book["记录"].cell(row=2, column=headers.index(header) + 1, value=value)
    out = io.BytesIO()
    book.save(out)
    response = upload(client, farm["headers"], out.getvalue())
    assert response.status_code == 201, response.get_json()
    event = db.session.scalar(select(Event).where(Event.batch_id == lot.id, Event.stage == "planting"))
    [used] = event.data["inputs"]
    assert used["kind"] == "pesticide" and used["phi_days"] == 14 and used["registration_no"] == "PD20080001"


def test_a_file_that_is_not_a_spreadsheet(client, farm):
    response = upload(client, farm["headers"], b"PK\x03\x04garbage", "x.xlsx")
    assert response.status_code == 422
    assert response.get_json()["errors"]["rows"][0]["row"] == 0


def test_a_foreign_header_is_named(client, farm):
    book = Workbook()
    sheet = book.active
    sheet.append(["批次号", "发生时间", "采收量", "采收量单位", "产地"])
    sheet.append([farm["lots"][0].lot_code, "2026-05-01", 1, "斤", "通山"])
    out = io.BytesIO()
    book.save(out)
    response = upload(client, farm["headers"], out.getvalue(), product="loquat", stage="harvest")
    assert response.status_code == 422
    assert response.get_json()["errors"]["rows"] == [{"row": 1, "column": "产地", "reason": "模板里没有这一列"}]
