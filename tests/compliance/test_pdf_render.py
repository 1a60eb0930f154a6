"""The compliance PDF as a reader gets it: the font embedded (pdffonts), the text (pdftotext: CJK,
µg/kg, page numbers, the signature block, the sampling record and the lab's CMA number), no clause
placeholder, and the QR code read back by zxing-cpp from a pdftoppm render."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from PIL import Image

from app.compliance import pdf_font, presenters, reports
from tests.compliance.factories import post_inspection
from tests.conftest import PUBLIC_BASE_URL

# Where the PNG of the first page is kept for a person to look at (make test leaves it there).
RENDER_DIR = Path(os.environ.get("PDF_RENDER_DIR", tempfile.gettempdir()))

SAMPLING = {
    "number": "CY-2026-0457",
    "task_source": "咸宁市市场监督管理局 2026 年第二季度食用油专项抽检",
    "stage": "production",
    "stage_name": "生产",
    "place": "通城县黄袍山油茶加工厂成品库",
    "sampled_org": {"id": 1, "name": "通城黄袍山油茶合作社", "code": "93421222MA4F00001X"},
    "sample_lot": "HPS-20260520",
    "production_date": "2026-05-20",
    "sampling_base": "500 L",
    "quantity": "4 瓶 × 500 mL",
    "samplers": ["张明", "李华"],
    "backup_sealed": True,
}
FLAG = "苯并[a]芘不在该机构 CMA 能力范围内"
LAB = {
    "id": 9,
    "name": "咸宁市产品质量监督检验所",
    "cma_no": "201817121234",
    "cma_valid_from": "2024-03-01",
    "cma_valid_to": "2030-02-28",
}


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} (poppler-utils) is missing")
        pytest.skip(f"{name} (poppler-utils) is not installed")
    return found


def _run(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def with_report_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """The keys the reports work adds to each inspection of the view (type, sampling, lab, flags...)."""
    real = presenters.compliance_view

    def view(*args: Any, **kwargs: Any) -> dict[str, Any]:
        shown = real(*args, **kwargs)
        for inspection in shown["inspections"]:
            inspection.update(
                type="supervision",
                type_name="监督抽检",
                sampling=SAMPLING,
                lab_org=LAB,
                flags=[{"code": "out_of_scope", "parameter": "benzo_a_pyrene", "message": FLAG}],
                retest_of=None,
                superseded=False,
                retest_deadline="2026-06-12",
                warnings=[],
            )
        return shown

    monkeypatch.setattr(reports.presenters, "compliance_view", view)


@pytest.fixture
def failed_oil(client, auth, make_batch):
    """Camellia oil whose benzo[a]pyrene (GB 2762-2022: ≤ 10 µg/kg) is over the limit."""
    inspector = auth("inspector")
    batch = make_batch(product="camellia_oil")
    results = [{"parameter": "benzo_a_pyrene", "value": "12.5", "unit": "微克/千克"}]
    response = post_inspection(client, inspector, batch.id, results, report_no="XN-BAP-1")
    assert response.status_code == 201, response.get_json()
    return batch, inspector


def _pdf(client, batch, headers) -> bytes:
    response = client.get(f"/api/v1/batches/{batch.id}/compliance.pdf", headers=headers)
    assert response.status_code == 200
    return response.data


def test_the_pdf_embeds_its_font_and_reads_back_in_chinese_with_every_section(client, failed_oil, with_report_keys):
    pdffonts, pdftotext = _tool("pdffonts"), _tool("pdftotext")
    batch, inspector = failed_oil
    data = _pdf(client, batch, inspector)
    (RENDER_DIR / "compliance-report.pdf").write_bytes(data)
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "report.pdf"
        source.write_bytes(data)
        fonts = _run(pdffonts, str(source))
        text = _run(pdftotext, "-layout", str(source), "-")
    # One TrueType face, embedded (emb = yes) and subset; no font left to the reader's machine.
    lines = [line for line in fonts.splitlines()[2:] if line.strip()]
    assert lines, fonts
    assert all("WenQuanYiZenHei" in line and "TrueType" in line for line in lines), fonts
    assert all(line.split()[-5] == "yes" for line in lines), fonts  # the "emb" column
    flat = "".join(text.split())
    for expected in (
        "咸宁优品溯源",
        "黄袍山(通城)茶油" if "黄袍山(通城)茶油" in flat else "茶油",
        "苯并[a]芘",
        "12.5µg/kg",  # µ (U+00B5) prints and extracts
        "≤10µg/kg",
        "不合格FAIL",
        "第1页/共",  # page numbers
        "签发", "审核", "批准", "签名：", "日期：",  # the signature block, blank for ink
        "报告XN-BAP-1：监督抽检",
        "抽样单编号", "CY-2026-0457", "抽样环节", "生产", "被抽样单位", "通城黄袍山油茶合作社",
        "样品批号（标称）", "HPS-20260520", "抽样人员", "张明、李华", "备份样品封存", "是",
        "CMA证书编号201817121234", "有效期2024-03-01至2030-02-28",
        "苯并[a]芘不在该机构CMA能力范围内",
        "复检申请期限：2026-06-12",
        "检测不合格：苯并[a]芘12.5µg/kg（限量≤10µg/kg）",  # the finding, readable
    ):  # fmt: skip
        assert expected in flat, expected
    assert "4.x" not in flat and "benzo_a_pyrene" not in flat  # no placeholder clause, no internal key
    pages = int(flat.split("共")[1].split("页")[0])
    assert f"第{pages}页/共{pages}页" in flat


def test_the_pdf_qr_code_opens_the_batch_consumer_page(client, failed_oil):
    pdftoppm = _tool("pdftoppm")
    batch, inspector = failed_oil
    data = _pdf(client, batch, inspector)
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "report.pdf"
        source.write_bytes(data)
        subprocess.run([pdftoppm, "-r", "150", "-png", "-f", "1", "-l", "1", "-singlefile", str(source),
                        str(Path(tmp) / "page")], check=True)  # fmt: skip
        image = Image.open(Path(tmp) / "page.png").copy()
    image.save(RENDER_DIR / "compliance-page-1.png")
    found = {code.text for code in zxingcpp.read_barcodes(image)}
    assert found == {f"{PUBLIC_BASE_URL}/t/{batch.public_code}"}


def test_without_a_truetype_font_the_pdf_falls_back_with_a_warning(client, failed_oil, monkeypatch, caplog):
    batch, inspector = failed_oil
    missing = (("NoSuchFont", "/nonexistent/font.ttc", 0, "fonts-none"),)
    monkeypatch.setattr(pdf_font, "FONT_FILES", missing)
    with caplog.at_level(logging.WARNING, logger=pdf_font.__name__):
        data = _pdf(client, batch, inspector)
    assert data.startswith(b"%PDF")
    assert any("make pdf-font" in r.getMessage() for r in caplog.records)
