"""The compliance report PDF: its text is extracted back and checked."""

from __future__ import annotations

import io

from pypdf import PdfReader
from sqlalchemy import update

from app.batches.models import Event
from app.db import db
from tests.compliance.factories import post_inspection
from tests.conftest import settle


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    # Extraction may break a line anywhere; compare without white space.
    return "".join("".join(page.extract_text().split()) for page in reader.pages)


def test_the_report_holds_the_header_clause_table_verdict_findings_and_chain_check(client, auth, producer, make_batch):
    inspector = auth("inspector")
    batch = make_batch()
    results = [
        {"parameter": "fluoride", "value": "420", "unit": "mg/kg"},
        {"parameter": "lead", "not_detected": True, "lod": "0.05", "unit": "mg/kg"},
    ]
    assert post_inspection(client, inspector, batch.id, results, report_no="XN-PDF-7").status_code == 201
    client.post(
        "/api/v1/certifications",
        json={"kind": "green_food", "number": "LB-PDF-1", "issuer": "中国绿色食品发展中心",
              "holder": producer.organization.code, "product": "brick_tea", "valid_from": "2020-01-01",
              "valid_to": "2021-12-31"},
        headers=inspector,
    )  # fmt: skip

    response = client.get(f"/api/v1/batches/{batch.id}/compliance.pdf", headers=inspector)
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    text = pdf_text(response.data)
    for expected in (
        batch.lot_code,
        "赤壁青砖茶",  # product
        producer.organization.name,  # producer and custodian
        "合规检测报告",
        "GB19965-2005",  # clause codes (white space removed)
        "4(指标)",
        "GB2762-2022",
        "4.1表1",
        "氟",
        "≤300mg/kg（未经官方文本核实）",  # the provisional limit is marked (audit 2026-12, §6)
        "420mg/kg",
        "未检出",
        "不合格FAIL",  # the overall verdict and the failing row
        "合格PASS",  # lead, not detected below its limit
        "XN-PDF-7",
        "问题处理记录",
        "检测不合格",  # the finding opened for fluoride
        "LB-PDF-1",
        "已过期",  # an expired certification is flagged, never valid
        "追溯链校验",
        "记录未被改动：共3条记录",  # created, the failed report, and the hold it caused: what the chain proves
    ):
        assert expected in text, expected


def test_the_report_respects_the_batch_read_rule(client, auth, make_batch):
    batch = make_batch()
    assert client.get(f"/api/v1/batches/{batch.id}/compliance.pdf").status_code == 401
    assert client.get(f"/api/v1/batches/{batch.id}/compliance.pdf", headers=auth("farmer")).status_code == 404
    assert client.get("/api/v1/batches/999999/compliance.pdf", headers=auth("inspector")).status_code == 404


def test_a_broken_chain_is_reported(client, auth, make_batch):
    inspector = auth("inspector")
    batch = make_batch()
    post_inspection(client, inspector, batch.id, [{"parameter": "lead", "value": "1", "unit": "mg/kg"}])
    # Someone rewrites the stored report behind the service's back.
    db.session.execute(update(Event).where(Event.batch_id == batch.id).values(data={"report_no": "FORGED"}))
    settle()
    text = pdf_text(client.get(f"/api/v1/batches/{batch.id}/compliance.pdf", headers=inspector).data)
    assert "链已断裂：第1条记录不符" in text
