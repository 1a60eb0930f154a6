"""The office in a real headless Chromium at a phone's width (360 px): sign in, import a roster with one
bad row (nothing stored, the row named), then a good one; the dashboard counts them; a drill-down lists them;
a standard registered and moved on a stage counts on the dashboard; a site is added to an organization.
The dashboard is also shot at a desktop's width.

The app runs in a werkzeug server thread; what it stores is committed for real (``committing``)
and deleted again when the module is done.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select
from werkzeug.serving import make_server

from app.db import db
from app.office.models import AuditEntry, Enrollment, StandardRecord
from app.office.service import _passwords
from app.orgs import service as orgs
from app.orgs.models import Organization, Site, User
from tests.office.conftest import coop_row, enterprise_row, household_row, roster_xlsx

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]  # fmt: skip
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}
# Screenshots to look at by eye: /tmp/youpin-office-*-360.png.
SHOTS = Path(tempfile.gettempdir())
PASSWORD = "office-browser-2026"
PREFIX = "BRW-"

pytestmark = [pytest.mark.browser, pytest.mark.committing]

if not Path(CHROMIUM).exists():
    if os.environ.get("REQUIRE_BROWSER") == "1":
        raise RuntimeError(f"REQUIRE_BROWSER=1 but {CHROMIUM} is missing: apt-get install chromium fonts-noto-cjk")
    pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium fonts-noto-cjk)", allow_module_level=True)

from playwright.sync_api import Browser, Page, sync_playwright  # noqa: E402 - only once chromium is known present


def _remove() -> None:
    db.session.rollback()
    org_ids = list(db.session.scalars(select(Organization.id).where(Organization.code.startswith(PREFIX))))
    user_ids = list(db.session.scalars(select(User.id).where(User.organization_id.in_(org_ids))))
    db.session.execute(delete(AuditEntry).where(AuditEntry.actor_user_id.in_(user_ids)))
    db.session.execute(delete(Enrollment).where(Enrollment.organization_id.in_(org_ids)))
    db.session.execute(delete(Site).where(Site.organization_id.in_(org_ids)))
    db.session.execute(delete(StandardRecord).where(StandardRecord.code.contains(PREFIX)))
    db.session.execute(delete(User).where(User.id.in_(user_ids)))
    members = Organization.id.in_(org_ids) & Organization.cooperative_id.is_not(None)
    db.session.execute(delete(Organization).where(members))
    db.session.execute(delete(Organization).where(Organization.id.in_(org_ids)))
    db.session.commit()


@pytest.fixture(scope="module")
def base(app) -> Iterator[str]:
    _remove()
    orgs.create_organization(code=f"{PREFIX}OFFICE", name="试点办（浏览器测试）", kind="regulator", county="咸宁市")
    user = orgs.create_user(username="brw-admin", org_code=f"{PREFIX}OFFICE", role="admin")
    user.password_hash = _passwords.hash(PASSWORD)
    db.session.commit()
    db.session.close()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        _remove()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, locale="zh-CN")
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def desktop(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    try:
        yield context.new_page()
    finally:
        context.close()


def sign_in(page: Page, base: str, next_path: str = "/office/") -> None:
    page.goto(f"{base}/login?next={next_path}")
    page.fill("input[name=username]", "brw-admin")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def stored(prefix: str = PREFIX) -> int:
    db.session.rollback()
    count = db.session.scalar(
        select(func.count()).select_from(Organization).where(Organization.code.startswith(prefix))
    )
    db.session.close()
    return count or 0


def no_sideways_scroll(page: Page) -> None:
    page.wait_for_load_state("load")  # measured with the stylesheet applied, not mid-load
    scroll, client = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert scroll <= client, f"page is {scroll}px wide in a {client}px viewport"


def test_import_with_one_bad_row_then_a_good_one_and_the_dashboard_counts_them(base: str, phone: Page, tmp_path):
    phone.goto(f"{base}/login")
    phone.fill("input[name=username]", "brw-admin")
    phone.fill("input[name=password]", PASSWORD)
    phone.click("button[type=submit]")
    phone.wait_for_url(f"{base}/office/")
    enrolled_before = int(phone.locator("[data-kpi=enrolled] .n").inner_text().split()[0])

    rows = [
        coop_row(f"{PREFIX}COOP", 74_001, county="通山县"),
        household_row(f"{PREFIX}HH-1", f"{PREFIX}COOP"),
        household_row(f"{PREFIX}HH-2", f"{PREFIX}COOP"),
        enterprise_row(f"{PREFIX}ENT", 74_002),
    ]
    bad = [list(r) for r in rows]
    bad[2][5] = "421224199001011234"  # row 4: a whole ID number, never stored
    (tmp_path / "bad.xlsx").write_bytes(roster_xlsx(bad))
    (tmp_path / "good.xlsx").write_bytes(roster_xlsx(rows))

    phone.goto(f"{base}/office/organizations")
    phone.set_input_files("input[name=file]", str(tmp_path / "bad.xlsx"))
    phone.click("#import button[type=submit]")
    errors = phone.locator("#import-errors")
    errors.wait_for()
    text = errors.inner_text()
    assert "未导入任何数据" in text and "第 4 行" in text and "身份证号（脱敏）" in text
    assert errors.locator("tbody tr").count() == 1
    assert stored() == 1  # only the office itself: nothing of the bad file
    errors.scroll_into_view_if_needed()
    phone.screenshot(path=str(SHOTS / "youpin-office-import-error-360.png"), full_page=True)
    no_sideways_scroll(phone)

    phone.set_input_files("input[name=file]", str(tmp_path / "good.xlsx"))
    phone.click("#import button[type=submit]")
    flash = phone.locator(".flash.ok")
    flash.wait_for()
    assert "新增 4 家" in flash.inner_text()
    assert stored() == 5

    phone.goto(f"{base}/office/")
    enrolled = phone.locator("[data-kpi=enrolled] .n").inner_text()
    assert enrolled.split()[0] == str(enrolled_before + 4) and enrolled.endswith("/ 200")
    phone.wait_for_selector("#chart-adoption_county canvas")
    no_sideways_scroll(phone)
    phone.screenshot(path=str(SHOTS / "youpin-office-dashboard-360.png"), full_page=True)

    phone.click("[data-kpi=enrolled] a")
    phone.wait_for_selector("#drill")
    listed = phone.locator("#drill").inner_text()
    for code in ("COOP", "HH-1", "HH-2", "ENT"):
        assert f"{PREFIX}{code}" in listed
    phone.screenshot(path=str(SHOTS / "youpin-office-drill-360.png"), full_page=True)


def test_a_click_on_a_bar_drills_down_to_its_county(base: str, phone: Page):
    phone.goto(f"{base}/login?next=/office/")
    phone.fill("input[name=username]", "brw-admin")
    phone.fill("input[name=password]", PASSWORD)
    phone.click("button[type=submit]")
    chart = phone.locator("#chart-adoption_county")
    chart.scroll_into_view_if_needed()
    phone.wait_for_selector("#chart-adoption_county[data-ready] canvas")
    # 通山县 is the sixth county bar; ECharts says where its bar is, a real click lands on it.
    x, y = phone.evaluate(
        """() => {
          const el = document.getElementById('chart-adoption_county');
          const chart = echarts.getInstanceByDom(el);
          const data = chart.getOption().series[0].data;
          return chart.convertToPixel({seriesIndex: 0}, [5, data[5] / 2]);
        }"""
    )
    box = chart.bounding_box()
    assert box is not None
    # ECharts finds the bar under the pointer on mousemove, as a person's hand would move there first.
    # Its hover detection runs on the next animation frame, so give it a moment before pressing.
    phone.mouse.move(box["x"] + x, box["y"] + y, steps=5)
    phone.wait_for_timeout(300)
    phone.mouse.down()
    phone.mouse.up()
    phone.wait_for_url("**/office/drill/organizations?*")
    phone.wait_for_selector("#drill")
    assert phone.locator("h1").inner_text().endswith("通山县")
    listed = phone.locator("#drill").inner_text()
    assert f"{PREFIX}COOP" in listed and f"{PREFIX}ENT" not in listed  # the enterprise is in 赤壁市


def test_the_comparison_marks_the_strictest_limit_and_the_coverage_shows_a_gap(base: str, phone: Page):
    phone.goto(f"{base}/login?next=/office/standards/compare?product=camellia_oil%26parameter=acid_value")
    phone.fill("input[name=username]", "brw-admin")
    phone.fill("input[name=password]", PASSWORD)
    phone.click("button[type=submit]")
    phone.wait_for_selector("#compare")
    strictest = phone.locator("#compare tr.strictest")
    assert strictest.count() >= 1
    for row in strictest.all():  # GB 2716's 3 mg/g for edible vegetable oil
        assert "GB 2716-2018" in row.inner_text() and "最严" in row.inner_text() and "<= 3 mg/g" in row.inner_text()
    no_sideways_scroll(phone)
    phone.screenshot(path=str(SHOTS / "youpin-office-compare-360.png"), full_page=True)
    phone.goto(f"{base}/office/standards/coverage?product=loquat")
    gap = phone.locator("#coverage td[data-stage=seedling][data-kind=variety]")
    assert gap.get_attribute("class") == "gap" and gap.inner_text() == "缺口"
    filled = phone.locator("#coverage td[data-stage=processing][data-kind=quality]")
    assert "GB/T 13867-1992" in filled.inner_text()
    phone.screenshot(path=str(SHOTS / "youpin-office-coverage-360.png"), full_page=True)


def test_a_standard_registered_then_moved_on_counts_on_the_dashboard(base: str, phone: Page, desktop: Page):
    sign_in(phone, base)
    phone.wait_for_selector("[data-kpi=local]")
    local_before = int(phone.locator("[data-kpi=local] .n").inner_text().split()[0])
    phone.goto(f"{base}/office/standards")
    code = f"DB4212/T {PREFIX}0001-2026"
    phone.fill("#f-code", code)
    phone.fill("#f-title_zh", "通山枇杷 采后处理技术规程")
    phone.select_option("#f-level", "local")
    phone.check("input[name=products][value=loquat]")
    phone.select_option("#f-stage", "consultation")
    phone.fill("#f-proposed_on", "2026-03-01")
    phone.click("#record-form button[type=submit]")
    # 征求意见 without its date: refused, the field named, nothing stored.
    phone.wait_for_selector("#e-consultation_on")
    assert "请填写征求意见日期" in phone.locator("#e-consultation_on").inner_text()
    no_sideways_scroll(phone)
    phone.fill("#f-consultation_on", "2026-04-15")
    phone.click("#record-form button[type=submit]")
    phone.locator(".flash.ok").wait_for()
    row = phone.locator("#standards tr", has_text=code)
    assert "征求意见" in row.inner_text() and "2026-04-15" in row.inner_text()
    phone.screenshot(path=str(SHOTS / "youpin-office-standards-360.png"), full_page=True)

    row.locator("a").click()
    phone.select_option("#f-stage", "published")
    phone.fill("#f-published_on", "2026-06-01")
    phone.click("#record-form button[type=submit]")
    phone.locator(".flash.ok").wait_for()
    assert "发布" in phone.locator("#standards tr", has_text=code).inner_text()

    phone.goto(f"{base}/office/")
    assert int(phone.locator("[data-kpi=local] .n").inner_text().split()[0]) == local_before + 1
    phone.click("[data-kpi=local] a")
    phone.wait_for_selector("#drill")
    assert code in phone.locator("#drill").inner_text()

    sign_in(desktop, base)
    desktop.wait_for_selector("#chart-standards[data-ready] canvas")
    desktop.wait_for_selector("#chart-scans[data-ready] canvas")
    desktop.screenshot(path=str(SHOTS / "youpin-office-dashboard-desktop.png"), full_page=True)


def test_a_site_with_township_and_village_is_added_to_an_organization(base: str, phone: Page):
    sign_in(phone, base, "/office/organizations?q=BRW-COOP")
    phone.locator("#orgs a", has_text=f"{PREFIX}COOP").first.click()
    phone.wait_for_selector("#site-form")
    phone.fill("#s-name", "枇杷示范园")
    phone.select_option("#s-kind", "orchard")
    phone.fill("#s-township", "大畈镇")
    phone.fill("#s-village", "西庄村")
    phone.fill("#s-latitude", "north")
    phone.click("#site-form button[type=submit]")
    phone.wait_for_selector("#se-latitude")
    phone.fill("#s-latitude", "29.53")
    phone.click("#site-form button[type=submit]")
    phone.locator(".flash.ok").wait_for()
    listed = phone.locator("#site-list").inner_text()
    assert "枇杷示范园" in listed and "大畈镇" in listed and "西庄村" in listed
    no_sideways_scroll(phone)
    phone.locator("#sites").scroll_into_view_if_needed()
    phone.screenshot(path=str(SHOTS / "youpin-office-sites-360.png"), full_page=True)
