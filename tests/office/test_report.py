"""The acceptance review's PDF: the dashboard's figures in Chinese, dated, with the cut-off, numbered pages."""

from __future__ import annotations

import subprocess

from app.compliance.certifications import CERTIFICATION_KINDS
from app.demo import load_demo
from app.office import dashboard
from tests.office.test_pages import sign_in


def pdftotext(data: bytes, tmp_path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout


def test_the_report_holds_the_dashboards_figures_in_chinese(client, make_user, tmp_path):
    load_demo()
    sign_in(client, make_user("admin"))
    assert 'id="report-pdf"' in client.get("/office").get_data(as_text=True)
    response = client.get("/office/report.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = pdftotext(response.data, tmp_path)
    figures = dashboard.summary()
    flat = " ".join(text.split())  # table cells keep a space between them
    tight = "".join(text.split())
    assert "创建资料汇编" in tight
    assert f"数据截止：{figures['as_of'].replace(' ', '')}（北京时间）" in tight
    assert "生成日期：" in tight and "第1页" in tight and "第2页" in tight
    a = figures["adoption"]
    assert f"已纳入主体（企业、合作社、农户） {a['enrolled']} {a['target']}" in flat
    assert f"地方标准（DB42、DB4212） {figures['standards']['local']['count']} 6" in flat
    assert f"已纳入主体{a['enrolled']}/目标200" in tight  # a chart's title
    # The county chart's figures as a table: each county with its count.
    for county, n in a["by_county"].items():
        if n:
            assert f"{county} {n}" in flat
    for name in CERTIFICATION_KINDS.values():  # the certifications chart's categories, whole names
        assert name in tight
    rendered = tmp_path / "page"
    subprocess.run(
        ["pdftoppm", "-r", "40", "-png", "-f", "1", "-l", "2", str(tmp_path / "report.pdf"), str(rendered)], check=True
    )
    pages = sorted(tmp_path.glob("page*.png"))
    assert len(pages) == 2 and all(p.stat().st_size > 2000 for p in pages)
