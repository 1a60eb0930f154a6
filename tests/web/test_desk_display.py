"""What the desk shows a person: China dates, certification kinds and clause notes by name in the
page's language, and a recording form that never breaks on a forged row count."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from app.compliance.models import Inspection
from app.db import db
from tests.compliance.factories import add_event, new_batch, post_inspection
from tests.web.conftest import csrf_from

UTC = dt.UTC


def _text(html: str) -> str:
    """The page's text without tags, whitespace collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_harvest_shows_on_its_china_date_on_the_page_and_in_the_pdf(desk, make_user):
    coop = make_user("cooperative")
    batch = new_batch(coop, "loquat")
    spray = {"kind": "pesticide", "name": "多菌灵", "dose": "50", "dose_unit": "mL/亩",
             "applied_at": "2026-09-10T20:00:00+00:00", "phi_days": 7}  # fmt: skip
    add_event(batch, coop, "planting", dt.datetime(2026, 9, 10, 20, tzinfo=UTC), {"inputs": [spray]})
    # 22:30 UTC on 27 September is 06:30 on the 28th in Xianning.
    add_event(batch, coop, "harvest", dt.datetime(2026, 9, 27, 22, 30, tzinfo=UTC), {"quantity": "5", "unit": "kg"})

    page = _text(desk.get(f"/desk/batches/{batch.id}").get_data(as_text=True))
    assert "评定日期 2026-09-28" in page
    assert "采收 2026-09-28" in page and "2026-09-27" not in page
    assert "施用 2026-09-11" in page

    pdf = desk.get(f"/desk/batches/{batch.id}/compliance.pdf")
    text = "".join("".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "采收2026-09-28" in text and "施用2026-09-11" in text and "2026-09-27" not in text


def test_inspection_dates_on_the_page_are_china_dates(desk, make_user, auth):
    batch = new_batch(make_user("cooperative"), "brick_tea")
    # Sampled at 07:30 on 1 June in Xianning: 23:30 UTC on 31 May.
    lead = [{"parameter": "lead", "value": "0.5", "unit": "mg/kg"}]
    assert (
        post_inspection(desk, auth("inspector"), batch.id, lead, sampled_at="2026-06-01T07:30:00+08:00").status_code
        == 201
    )
    page = _text(desk.get(f"/desk/batches/{batch.id}").get_data(as_text=True))
    assert "抽样 2026-06-01" in page and "2026-05-31" not in page


def test_certifications_show_their_kind_by_name(desk, make_user, auth):
    coop = make_user("cooperative")
    batch = new_batch(coop, "brick_tea")
    for kind, number in (("compliance_certificate", "HG-2026-0001"), ("green_food", "LB-2026-0001")):
        body = {"kind": kind, "number": number, "issuer": "赤壁市农业农村局", "holder": coop.organization.code,
                "product": "brick_tea", "valid_from": "2020-01-01", "valid_to": None}  # fmt: skip
        assert desk.post("/api/v1/certifications", json=body, headers=auth("admin")).status_code == 201

    html = desk.get(f"/desk/batches/{batch.id}").get_data(as_text=True)
    listed = dict(re.findall(r'<li data-number="([^"]+)" data-status="valid">\s*([^·<]+?) ·', html))
    assert listed == {"HG-2026-0001": "承诺达标合格证", "LB-2026-0001": "绿色食品"}
    assert "compliance_certificate" not in html and "green_food" not in html

    html = desk.get(f"/desk/batches/{batch.id}?lang=en").get_data(as_text=True)
    listed = dict(re.findall(r'<li data-number="([^"]+)" data-status="valid">\s*([^·<]+?) ·', html))
    assert listed == {"HG-2026-0001": "Compliance certificate", "LB-2026-0001": "Green Food"}


def test_a_clause_note_is_in_the_language_of_the_page(desk, make_user, auth):
    batch = new_batch(make_user("cooperative"), "brick_tea")
    # Lead not detected, its LOD (0.02 mg/kg) well under the limit.
    lead = [{"parameter": "lead", "not_detected": True, "lod": "0.02", "unit": "mg/kg"}]
    assert post_inspection(desk, auth("inspector"), batch.id, lead).status_code == 201

    def note(query: str) -> str:
        html = desk.get(f"/desk/batches/{batch.id}{query}").get_data(as_text=True)
        row = re.search(r'data-parameter="lead" data-standard="GB 2762-2022">(.*?)</tr>', html, re.S)
        assert row, "the lead row is on the page"
        found = re.search(r'<div class="muted">([^<]*)</div>', row.group(1))
        assert found, row.group(1)
        return found.group(1)

    assert note("") == "未检出，检出限不高于限量"
    assert note("?lang=en") == "not detected; LOD at or below the limit"
    # The API keeps its notes as they were.
    body = desk.get(f"/api/v1/batches/{batch.id}/compliance", headers=auth("inspector")).get_json()
    assert {r["note"] for r in body["rows"] if r["parameter"] == "lead"} == {"not detected; LOD at or below the limit"}


@pytest.mark.parametrize("row_count", ["abc", "-3", "1e3", "", " ", pytest.param("9" * 5000, id="5000-digits")])
def test_a_forged_row_count_is_read_safely(desk, make_user, row_count):
    batch = new_batch(make_user("cooperative"), "brick_tea")
    html = desk.get(f"/desk/batches/{batch.id}/inspections/new").get_data(as_text=True)
    form = {
        "csrf_token": csrf_from(html),
        "row_count": row_count,
        "report_no": "XN-DESK-RC",
        "lab": "咸宁市农产品质量检测中心",
        "sampled_at": "2026-06-01T09:30",
        "tested_at": "2026-06-02T16:00",
        "results-0-parameter": "lead",
        "results-0-value": "0.5",
        "results-0-unit": "mg/kg",
    }
    response = desk.post(f"/desk/batches/{batch.id}/inspections/new", data=form)
    # No rows are read: the form is shown again asking for a result, and nothing is stored.
    assert response.status_code == 422 and "至少填写一项检测结果" in response.get_data(as_text=True)
    stored = select(func.count()).select_from(Inspection).where(Inspection.batch_id == batch.id)
    assert db.session.scalar(stored) == 0


def test_a_huge_row_count_reads_the_rows_the_form_has(desk, make_user):
    batch = new_batch(make_user("cooperative"), "brick_tea")
    html = desk.get(f"/desk/batches/{batch.id}/inspections/new").get_data(as_text=True)
    form = {
        "csrf_token": csrf_from(html),
        "row_count": "1000000000",
        "report_no": "XN-DESK-HUGE",
        "lab": "咸宁市农产品质量检测中心",
        "sampled_at": "2026-06-01T09:30",
        "tested_at": "2026-06-02T16:00",
        "results-2-parameter": "lead",
        "results-2-value": "0.5",
        "results-2-unit": "mg/kg",
    }
    response = desk.post(f"/desk/batches/{batch.id}/inspections/new", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    inspection = db.session.scalar(select(Inspection).where(Inspection.batch_id == batch.id))
    assert [r.parameter_key for r in inspection.results] == ["lead"]
