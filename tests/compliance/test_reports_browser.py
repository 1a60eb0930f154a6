"""The desk in a real headless Chromium at a phone's width (360 px): an inspector records a 监督抽检
with its 抽样单 through the inspection form and sees it, with its lab's CMA, on the batch page.

The app runs in a werkzeug server thread; what it stores is committed for real (``committing``)
and deleted again when the module is done.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from app.db import db
from app.orgs import service as orgs
from tests.conftest import valid_credit_code
from tests.public.builders import build_journey, remove_journey

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]  # fmt: skip
PHONE = {"width": 360, "height": 740}
PASSWORD = "desk-reports-2026"

pytestmark = [pytest.mark.browser, pytest.mark.committing]

if not Path(CHROMIUM).exists():
    if os.environ.get("REQUIRE_BROWSER") == "1":
        raise RuntimeError(f"REQUIRE_BROWSER=1 but {CHROMIUM} is missing: apt-get install chromium fonts-noto-cjk")
    pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium fonts-noto-cjk)", allow_module_level=True)

from playwright.sync_api import sync_playwright  # noqa: E402 - only once chromium is known present


@dataclass
class Desk:
    base: str
    batch_id: int
    lot_code: str
    username: str
    lab_name: str


@pytest.fixture(scope="module")
def desk(app) -> Iterator[Desk]:
    journey = build_journey()
    tag = secrets.token_hex(4)
    office = orgs.create_organization(code=f"RPT-MS-{tag}", name="咸宁市市场监管局（浏览器测试）", kind="regulator")
    lab = orgs.create_organization(
        code=f"RPT-LAB-{tag}", name="示例农产品检测中心", kind="lab",
        credit_code=valid_credit_code(int(tag, 16) % 10**9),
        cma_no="示例-CMA-0001", cma_valid_from=dt.date(2024, 1, 1), cma_valid_to=dt.date(2030, 12, 31),
        cma_parameters=["lead", "cadmium", "pesticide.*"],
    )  # fmt: skip
    inspector = orgs.create_user(
        username=f"rpt_inspector_{tag}", org_code=office.code, role="inspector", password=PASSWORD
    )
    codes = [journey.coop.code, journey.household.code, office.code, lab.code]
    desk = Desk("", journey.batch.id, journey.batch.lot_code, inspector.username, lab.name)
    db.session.commit()
    db.session.close()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        desk.base = f"http://127.0.0.1:{server.server_port}"
        yield desk
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        db.session.rollback()
        remove_journey(codes)


def test_an_inspector_records_a_supervision_sample_with_its_sampling_record(desk: Desk):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport=PHONE, locale="zh-CN").new_page()
            page.goto(f"{desk.base}/login")
            page.fill("#username", desk.username)
            page.fill("#password", PASSWORD)
            page.click("form button[type=submit]")
            page.wait_for_load_state()
            page.goto(f"{desk.base}/desk/batches/{desk.batch_id}/inspections/new")
            page.select_option("#type", "supervision")
            page.select_option("#lab_org_id", label=f"{desk.lab_name} · CMA 示例-CMA-0001")
            page.fill("#report_no", "RPT-BRW-0001")
            page.fill("#sampled_at", "2026-06-01T09:00")
            page.fill("#tested_at", "2026-06-03T15:00")
            # The lead row: its parameter is a hidden field of the row.
            row = page.locator("tr", has=page.locator('input[type=hidden][value="lead"]')).first
            row.locator('input[name$="-value"]').fill("0.03")
            row.locator('input[name$="-unit"]').fill("mg/kg")
            row.locator('input[name$="-method"]').fill("GB 5009.12-2023")
            # First without its second sampler: refused, the field named, nothing stored.
            page.locator("details.sampling-fields").evaluate("d => d.open = true")
            page.fill("#sampling-number", "示例-XNJD-2026-0099")
            page.fill("#sampling-task_source", "2026年食用农产品监督抽检计划（示例）")
            page.select_option("#sampling-stage", "circulation")
            page.fill("#sampling-place", "咸宁市温泉农贸市场")
            page.fill("#sampling-sampled_org_name", "温泉农贸市场某摊位")
            page.fill("#sampling-sampling_base", "200 kg")
            page.fill("#sampling-quantity", "2 kg")
            page.fill("#sampling-sampler_1", "王建国")
            page.check('input[name="sampling-backup_sealed"]')
            page.click("form.stack button[type=submit]")
            page.wait_for_load_state()
            assert page.locator("#err-sampling-samplers-1").is_visible()
            assert page.locator("#sampling-number").input_value() == "示例-XNJD-2026-0099"
            page.fill("#sampling-sampler_2", "李秀英")
            page.click("form.stack button[type=submit]")
            page.wait_for_url(f"**/desk/batches/{desk.batch_id}")
            report = page.locator("#inspections li", has_text="RPT-BRW-0001")
            report.scroll_into_view_if_needed()
            assert report.is_visible()
            text = report.inner_text()
            assert "监督抽检" in text and "示例-XNJD-2026-0099" in text and "流通" in text
            assert "王建国、李秀英" in text and "CMA 示例-CMA-0001" in text
            assert report.locator(".flag").count() == 0  # lead is within the lab's scope
            assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
        finally:
            browser.close()
