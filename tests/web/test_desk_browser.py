"""The inspector's desk in a real headless Chromium, at a phone's width (360 px) and a desktop's:
find a lot by its code and read its timeline, record a report with the parameter picker and a
Chinese unit (and see a wrong row named in Chinese), read the findings in words, and the
certification registry with what runs out soon.

Committed for real (the server thread has its own sessions) and removed afterwards, as in
tests/public/test_browser.py. Screenshots are left in the temp directory to look at.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import delete, select
from werkzeug.serving import make_server

from app import clock
from app.account.models import WebSession
from app.auth import Actor
from app.batches import service as batches
from app.compliance.models import Certification
from app.db import db, utcnow
from app.orgs import service as orgs
from app.orgs.models import User
from tests.conftest import valid_credit_code
from tests.public.builders import build_failed_tea, remove_journey

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}
SHOTS = Path(tempfile.gettempdir())
PASSWORD = "desk-browser-1"

pytestmark = [pytest.mark.browser, pytest.mark.committing]

if not Path(CHROMIUM).exists():
    if os.environ.get("REQUIRE_BROWSER") == "1":
        raise RuntimeError(f"REQUIRE_BROWSER=1 but {CHROMIUM} is missing: apt-get install chromium fonts-noto-cjk")
    pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium fonts-noto-cjk)", allow_module_level=True)

from playwright.sync_api import Browser, Page, sync_playwright  # noqa: E402 - only once chromium is known present


@dataclass
class Desk:
    base: str
    username: str
    failed_lot: str
    fresh_lot: str
    fresh_id: int
    expiring_no: str
    lasting_no: str


@pytest.fixture(scope="module")
def desk_site(app) -> Iterator[Desk]:
    with app.app_context():
        tea = build_failed_tea()
        inspector = orgs.create_user(
            username=f"desk_browser_{tea.tag}", org_code=tea.inspector.code, role="inspector", password=PASSWORD
        )
        maker = db.session.scalar(select(User).where(User.username == f"tea_maker_{tea.tag}"))
        fresh = batches.create_batch(
            Actor(user=maker, org=tea.processor), product="brick_tea", quantity=Decimal("200"), unit="kg"
        )
        today = clock.china_date(clock.now())
        soon, lasting = f"LB-SOON-{tea.tag}", f"LB-LONG-{tea.tag}"
        for number, until in ((soon, today + dt.timedelta(days=30)), (lasting, today + dt.timedelta(days=700))):
            db.session.add(
                Certification(
                    kind="green_food", number=number, issuer="中国绿色食品发展中心", holder_org_id=tea.processor.id,
                    product_key="brick_tea", valid_from=today - dt.timedelta(days=300), valid_to=until,
                    created_at=utcnow(),
                )
            )  # fmt: skip
        # A lab with a long name: its option in the form's lab picker must not widen a phone's page.
        lab = orgs.create_organization(
            code=f"DESK-LAB-{tea.tag}", kind="lab", cma_parameters=["lead"],
            name="湖北省咸宁市农产品质量安全检验检测中心（国家级示范实验室）浏览器测试",
            credit_code=valid_credit_code(secrets.randbelow(10**9)), cma_no="示例-CMA-2026-000000000001",
            cma_valid_from=today - dt.timedelta(days=30), cma_valid_to=today + dt.timedelta(days=700),
        )  # fmt: skip
        site = Desk(
            base="", username=inspector.username, failed_lot=tea.batch.lot_code, fresh_lot=fresh.lot_code,
            fresh_id=fresh.id, expiring_no=soon, lasting_no=lasting,
        )  # fmt: skip
        org_codes = [tea.processor.code, tea.inspector.code, lab.code]
        user_ids = select(User.id).where(User.username.in_([inspector.username]))
        db.session.commit()
        db.session.close()
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            site.base = f"http://127.0.0.1:{server.server_port}"
            yield site
        finally:
            server.shutdown()
            thread.join(timeout=10)
            server.server_close()
            db.session.execute(delete(WebSession).where(WebSession.user_id.in_(user_ids)))
            db.session.commit()
            remove_journey(org_codes)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def _signed_in(browser: Browser, site: Desk, viewport: dict[str, int]) -> Page:
    page = browser.new_context(viewport=viewport, locale="zh-CN").new_page()
    page.goto(f"{site.base}/login")
    page.fill("#username", site.username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/desk/batches"))
    return page


def _no_sideways_scroll(page: Page) -> None:
    # Measured once the page has loaded: before its stylesheet applies (box-sizing among it), a
    # full-width input is wider than the screen for a moment.
    page.wait_for_load_state("load")
    scroll, client = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    # What sticks out, so a failure says which element to fix.
    wide = page.evaluate(
        """(width) => [...document.querySelectorAll('body *')]
             .filter(e => e.getBoundingClientRect().right > width + 0.5)
             .slice(0, 5).map(e => e.outerHTML.slice(0, 100))""",
        client,
    )
    assert scroll <= client, f"page is {scroll}px wide in a {client}px viewport: {wide}"


@pytest.mark.parametrize(("size", "viewport"), [("360", PHONE), ("desktop", DESKTOP)])
def test_find_a_lot_by_code_then_read_its_timeline(browser, desk_site, size, viewport):
    page = _signed_in(browser, desk_site, viewport)
    try:
        page.fill("input[name=lot]", desk_site.failed_lot)
        page.click(".desk-nav form.find button")
        page.wait_for_url(re.compile(r"/desk/batches/\d+$"))
        assert page.locator("h1").inner_text() == desk_site.failed_lot
        timeline = page.locator("#timeline").inner_text()
        for stage in ("采收", "加工", "包装"):
            assert stage in timeline, stage
        assert "北京时间" in timeline
        # The planting was recorded last but happened on 2026-02-10 09:00 Beijing time.
        assert "2026-02-10 09:00" in timeline
        assert page.locator("#lineage").is_visible() and page.get_by_role("link", name="消费者页面").is_visible()
        if size == "360":
            _no_sideways_scroll(page)
        page.screenshot(path=str(SHOTS / f"desk-batch-timeline-{size}.png"), full_page=True)
    finally:
        page.context.close()


def test_the_inspection_form_picks_parameters_by_name_and_takes_chinese_units(browser, desk_site):
    page = _signed_in(browser, desk_site, PHONE)
    try:
        page.goto(f"{desk_site.base}/desk/batches/{desk_site.fresh_id}/inspections/new")
        assert "pesticide." not in page.locator("form.stack").inner_text()  # no internal keys on the form
        picker = page.locator("select[name$=-parameter]").first
        name = picker.get_attribute("name")
        index = int(name.split("-")[1])
        # Grouped: the items this lot is judged on first, then the catalog's others for the product.
        groups = picker.locator("optgroup").evaluate_all("gs => gs.map(g => g.label)")
        assert groups[0] == "本批次判定项目" and "农药残留" in groups and "质量与等级指标" in groups, groups
        assert picker.locator("optgroup[label=农药残留] option", has_text="马拉硫磷").count() == 1
        page.fill("#report_no", f"XN-BR-{desk_site.fresh_id}")
        page.fill("#lab", "咸宁市农产品质量检测中心")
        page.fill("#sampled_at", "2026-06-01T09:30")
        page.fill("#tested_at", "2026-06-02T16:00")
        picker.select_option(label="马拉硫磷")
        page.fill(f"input[name=results-{index}-value]", "零点二")
        page.fill(f"input[name=results-{index}-unit]", "毫克/千克")
        page.click("form.stack button[type=submit]")
        alert = page.locator("[role=alert]").inner_text()
        assert f"第 {index + 1} 行（马拉硫磷）结果：请填写不小于 0 的数字" in alert, alert
        assert page.locator(f"#err-results-{index}-value").is_visible()
        _no_sideways_scroll(page)
        page.screenshot(path=str(SHOTS / "desk-inspection-error-360.png"), full_page=True)
        # What was typed is kept; put the figure right and the report is stored.
        key = page.locator(f"select[name=results-{index}-parameter]").input_value()
        assert key.startswith("pesticide.")
        assert page.locator(f"input[name=results-{index}-unit]").input_value() == "毫克/千克"
        page.fill(f"input[name=results-{index}-value]", "0.2")
        page.click("form.stack button[type=submit]")
        page.wait_for_url(re.compile(rf"/desk/batches/{desk_site.fresh_id}$"))
        assert "检测报告已记录" in page.locator("body").inner_text()
        assert f"XN-BR-{desk_site.fresh_id}" in page.locator("#inspections").inner_text()
        row = page.locator(f"#clauses tr[data-parameter='{key}']").first.inner_text()
        assert "马拉硫磷" in row and "0.2 mg/kg" in row, row  # 毫克/千克 stored as mg/kg
    finally:
        page.context.close()


@pytest.mark.parametrize(("size", "viewport"), [("360", PHONE), ("desktop", DESKTOP)])
def test_the_findings_list_reads_in_words(browser, desk_site, size, viewport):
    page = _signed_in(browser, desk_site, viewport)
    try:
        page.click("text=问题处理")
        page.wait_for_url(re.compile(r"/desk/findings"))
        text = page.locator("#findings").inner_text()
        assert desk_site.failed_lot in text
        assert "检测不合格" in text and "吡虫啉 0.8 mg/kg（限量 ≤ 0.5 mg/kg）" in text, text
        assert "未过安全间隔期采收" in text and "施用吡虫啉（2026-02-10，安全间隔期 7 天）" in text, text
        for key in ("planting#", "harvest#", "pesticide.imidacloprid", "UTC"):
            assert key not in text, key
        if size == "360":
            _no_sideways_scroll(page)
        page.screenshot(path=str(SHOTS / f"desk-findings-{size}.png"), full_page=True)
    finally:
        page.context.close()


@pytest.mark.parametrize(("size", "viewport"), [("360", PHONE), ("desktop", DESKTOP)])
def test_the_certification_registry_marks_what_runs_out_soon(browser, desk_site, size, viewport):
    page = _signed_in(browser, desk_site, viewport)
    try:
        page.click("text=认证名录")
        page.wait_for_url(re.compile(r"/desk/certifications"))
        soon = page.locator(f"tr[data-number='{desk_site.expiring_no}']")
        lasting = page.locator(f"tr[data-number='{desk_site.lasting_no}']")
        assert "即将到期（30 天）" in soon.inner_text()
        assert "赤壁市羊楼洞砖茶有限公司" in soon.inner_text() and "绿色食品" in soon.inner_text()
        assert "有效" in lasting.inner_text() and "即将到期" not in lasting.inner_text()
        if size == "360":
            _no_sideways_scroll(page)
        page.screenshot(path=str(SHOTS / f"desk-certifications-{size}.png"), full_page=True)
    finally:
        page.context.close()
