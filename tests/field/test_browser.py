"""The field app in a real headless Chromium at a phone's size (360 x 740): sign in, create, record.

As in tests/public/test_browser.py, the app runs in a werkzeug server thread, so the data is
committed for real (``committing``) and deleted again when the module is done. Screenshots to look
at by eye: /tmp/youpin-field-360-*.png.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import delete, select
from werkzeug.serving import make_server

from app.auth import Actor
from app.batches import service as batches
from app.batches.models import Batch, Event
from app.batches.service import public_url
from app.compliance.models import Finding, FindingStep
from app.db import db
from app.field.models import EnteredQuantity
from app.labels.qr import render_png
from app.orgs import service as orgs
from app.orgs.models import Organization
from tests.conftest import PUBLIC_BASE_URL, valid_credit_code
from tests.public.builders import remove_journey

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 360, "height": 740}
SHOTS = Path(tempfile.gettempdir())
PASSWORD = "field-password-1"
# Touch targets: 44 CSS px is the smallest a thumb hits reliably (WCAG 2.5.5, Apple HIG).
SMALLEST_TAP = 44

pytestmark = [pytest.mark.browser, pytest.mark.committing]

if not Path(CHROMIUM).exists():
    if os.environ.get("REQUIRE_BROWSER") == "1":
        raise RuntimeError(f"REQUIRE_BROWSER=1 but {CHROMIUM} is missing: apt-get install chromium fonts-noto-cjk")
    pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium fonts-noto-cjk)", allow_module_level=True)

from playwright.sync_api import Browser, Page, sync_playwright  # noqa: E402 - only once chromium is known present


@dataclass(frozen=True)
class Site:
    base: str
    username: str
    member_code: str
    scan_lot: str
    scan_batch_id: int
    scan_png: bytes


@pytest.fixture(scope="module")
def site(app) -> Iterator[Site]:
    suffix = dt.datetime.now(dt.UTC).strftime("%H%M%S%f")
    coop = orgs.create_organization(
        code=f"FC-{suffix}",
        name="浏览器测试枇杷合作社",
        kind="cooperative",
        county="通山县",
        credit_code=valid_credit_code(int(suffix[-9:])),
    )
    member = orgs.create_organization(
        code=f"FH-{suffix}", name="隐水村 刘光辉", kind="farm_household", county="通山县", cooperative_code=coop.code
    )
    orgs.create_site(member, name="隐水村刘家枇杷园", kind="orchard", county="通山县", township="大畈镇")
    user = orgs.create_user(username=f"field-coop-{suffix}", org_code=coop.code, role="cooperative", password=PASSWORD)
    lot = batches.create_batch(
        Actor(user=user, org=coop), product="loquat", quantity=Decimal(20), unit="kg", lot_code=f"SCAN-{suffix}"
    )
    label = render_png(public_url(PUBLIC_BASE_URL, lot), 512)
    # Ten more member households with a lot each, for the cooperative's day sheet.
    households = [
        orgs.create_organization(
            code=f"FH{n}-{suffix}", name=f"白泉村 农户{n:02d}", kind="farm_household", county="通山县",
            cooperative_code=coop.code,
        )
        for n in range(10)
    ]  # fmt: skip
    for household in households:
        batches.create_batch(
            Actor(user=user, org=coop), product="loquat", quantity=Decimal(100), unit="kg", producer=household.code
        )
    values = {
        "username": user.username,
        "member_code": member.code,
        "scan_lot": lot.lot_code,
        "scan_batch_id": lot.id,
        "scan_png": label,
    }
    org_codes = [coop.code, member.code, *(h.code for h in households)]
    db.session.commit()
    db.session.close()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Site(base=f"http://127.0.0.1:{server.server_port}", **values)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        _remove(org_codes)


def _remove(org_codes: list[str]) -> None:
    """What remove_journey does not know of: the field app's own rows and any findings."""
    org_ids = select(Organization.id).where(Organization.code.in_(org_codes))
    batch_ids = list(db.session.scalars(select(Batch.id).where(Batch.custodian_org_id.in_(org_ids))))
    db.session.execute(delete(EnteredQuantity).where(EnteredQuantity.batch_id.in_(batch_ids)))
    finding_ids = select(Finding.id).where(Finding.batch_id.in_(batch_ids))
    db.session.execute(delete(FindingStep).where(FindingStep.finding_id.in_(finding_ids)))
    db.session.execute(delete(Finding).where(Finding.batch_id.in_(batch_ids)))
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


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, locale="zh-CN")
    try:
        yield context.new_page()
    finally:
        context.close()


def fits_a_phone(page: Page) -> None:
    """No sideways scrolling, and every button and link-button big enough for a thumb."""
    # Measured once the page has loaded: before its stylesheet applies (box-sizing among it), a
    # full-width input is wider than the screen for a moment.
    page.wait_for_load_state("load")
    scroll, client = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert client == PHONE["width"]
    wide = page.evaluate(
        """(width) => [...document.querySelectorAll('body *')]
             .filter(e => e.getBoundingClientRect().right > width + 0.5)
             .slice(0, 5).map(e => e.outerHTML.slice(0, 100))""",
        client,
    )
    assert scroll <= client, f"page is {scroll}px wide in a {client}px viewport: {wide}"
    small = page.evaluate(
        """(least) => [...document.querySelectorAll(
                 'main button, main .button, main input:not([type=hidden]):not(.visually-hidden), main select')]
             .filter(e => e.offsetParent !== null && e.getBoundingClientRect().height < least)
             .map(e => e.outerHTML.slice(0, 80))""",
        SMALLEST_TAP,
    )
    assert small == [], small


def test_sign_in_create_a_batch_and_record_stages(site: Site, phone: Page):
    phone.goto(f"{site.base}/login")
    fits_a_phone(phone)
    phone.screenshot(path=str(SHOTS / "youpin-field-360-login.png"), full_page=True)
    phone.get_by_label("用户名").fill(site.username)
    phone.get_by_label("密码").fill(PASSWORD)
    phone.get_by_role("button", name="登录").click()
    phone.wait_for_url("**/field/")
    assert phone.locator("h1").inner_text() == "我的批次"
    fits_a_phone(phone)

    phone.get_by_role("link", name="新建批次").click()
    phone.wait_for_url("**/field/batches/new")
    fits_a_phone(phone)
    # First a mistake: no quantity. The page says which field, in Chinese, and keeps the rest.
    phone.get_by_label("产品").select_option(label="通山枇杷")
    phone.get_by_label("生产农户").select_option(label="隐水村 刘光辉")
    phone.get_by_role("button", name="保存批次").click()
    # The browser's own check stops an empty required field before it is sent.
    assert phone.locator("#quantity:invalid").count() == 1
    phone.get_by_label("重量或数量").fill("0.0005")
    phone.get_by_role("button", name="保存批次").click()
    alert = phone.get_by_role("alert")
    assert "重量或数量：换算后超过三位小数" in alert.inner_text()
    assert phone.get_by_label("产品").input_value() == "loquat"
    fits_a_phone(phone)
    phone.screenshot(path=str(SHOTS / "youpin-field-360-create-error.png"), full_page=True)

    phone.get_by_label("重量或数量").fill("200")
    phone.get_by_label("单位").select_option(label="斤")
    phone.get_by_label("场所").select_option(label="隐水村刘家枇杷园")
    phone.get_by_role("button", name="保存批次").click()
    phone.wait_for_url("**/field/batches/*?created=1")
    assert "批次已创建" in phone.get_by_role("status").inner_text()
    assert "200 斤" in phone.locator("dl.kv").inner_text() and "100 公斤" in phone.locator("dl.kv").inner_text()
    fits_a_phone(phone)
    phone.screenshot(path=str(SHOTS / "youpin-field-360-batch.png"), full_page=True)

    phone.get_by_role("link", name="种植").click()
    phone.wait_for_url("**/stages/planting")
    fits_a_phone(phone)
    when = phone.get_by_label("发生时间")
    assert when.input_value()  # defaults to now, in China time
    when.fill("2026-03-02T08:30")
    first = phone.locator("fieldset").first
    first.get_by_label("类型").select_option(label="农药")
    first.get_by_label("名称").fill("吡虫啉")
    first.get_by_label("登记证号(PD…)").fill("PD20060001")
    first.get_by_label("用量", exact=True).fill("30")
    first.get_by_label("用量单位").fill("毫升/亩")
    first.get_by_label("施用时间").fill("2026-03-02T08:00")
    first.get_by_label("安全间隔期(天)").fill("14")
    phone.screenshot(path=str(SHOTS / "youpin-field-360-planting.png"), full_page=True)
    # A double tap on save stores one record.
    phone.get_by_role("button", name="保存").dblclick()
    phone.wait_for_url("**/field/batches/*?recorded=1")

    phone.get_by_role("link", name="采收").click()
    phone.wait_for_url("**/stages/harvest")
    phone.get_by_label("发生时间").fill("2026-05-10T07:00")
    phone.get_by_label("采收量").fill("60")
    phone.get_by_label("单位").select_option(label="斤")
    phone.get_by_role("button", name="保存").click()
    phone.wait_for_url("**/field/batches/*?recorded=1")
    journey = phone.locator("ol.journey")
    assert journey.locator("li").count() == 2
    assert "吡虫啉" in journey.inner_text() and "60 斤 (30 公斤)" in journey.inner_text()
    fits_a_phone(phone)
    phone.screenshot(path=str(SHOTS / "youpin-field-360-journey.png"), full_page=True)

    batch = db.session.scalar(
        select(Batch).where(Batch.producer.has(Organization.code == site.member_code), Batch.lot_code != site.scan_lot)
    )
    assert batch is not None and (batch.quantity, batch.unit) == (Decimal("100.000"), "kg")
    stages = list(db.session.scalars(select(Event.stage).where(Event.batch_id == batch.id).order_by(Event.seq)))
    assert stages == ["created", "planting", "harvest"]  # the created record opens every chain
    harvest = db.session.scalar(select(Event).where(Event.batch_id == batch.id, Event.stage == "harvest"))
    assert (harvest.data["quantity"], harvest.data["unit"]) == ("30.000", "kg")
    db.session.rollback()  # leave this session idle: the server's requests need SQLite's lock


def test_the_pages_in_english(site: Site, phone: Page):
    phone.goto(f"{site.base}/login?lang=en")
    phone.get_by_label("User name").fill(site.username)
    phone.get_by_label("Password").fill(PASSWORD)
    phone.get_by_role("button", name="Sign in").click()
    phone.wait_for_url("**/field/?lang=en")
    assert phone.locator("h1").inner_text() == "My batches"
    phone.get_by_role("link", name="New batch").click()
    assert phone.get_by_label("Product").locator("option", has_text="Tongshan loquat").count() == 1
    fits_a_phone(phone)
    phone.screenshot(path=str(SHOTS / "youpin-field-360-create-en.png"), full_page=True)


def _sign_in(phone: Page, site: Site) -> None:
    phone.goto(f"{site.base}/login")
    phone.get_by_label("用户名").fill(site.username)
    phone.get_by_label("密码").fill(PASSWORD)
    phone.get_by_role("button", name="登录").click()
    phone.wait_for_url("**/field/")


def test_a_photographed_label_opens_the_batch(site: Site, phone: Page):
    fetched: list[str] = []
    phone.on("request", lambda request: fetched.append(request.url))
    _sign_in(phone, site)
    # The decoder is not part of My batches: it comes only when a photo is chosen.
    assert not [u for u in fetched if "qr-scanner" in u]
    scan = phone.locator("label[for=scan-photo]")
    assert scan.inner_text() == "扫码查找" and scan.bounding_box()["height"] >= SMALLEST_TAP
    phone.locator("#scan-photo").set_input_files(
        files=[{"name": "label.png", "mimeType": "image/png", "buffer": site.scan_png}]
    )
    phone.wait_for_url(f"**/field/batches/{site.scan_batch_id}")
    assert phone.locator("h1").inner_text() == site.scan_lot
    assert [u for u in fetched if "qr-scanner" in u]  # the vendored decoder, from this site


def test_a_photo_without_a_label_says_so(site: Site, phone: Page):
    _sign_in(phone, site)
    blank = io.BytesIO()
    Image.new("RGB", (300, 300), "white").save(blank, format="PNG")
    phone.locator("#scan-photo").set_input_files(
        files=[{"name": "blank.png", "mimeType": "image/png", "buffer": blank.getvalue()}]
    )
    status = phone.locator("#scan-status")
    status.filter(has_text="没有认出二维码").wait_for()
    assert phone.url.endswith("/field/")
    fits_a_phone(phone)
    phone.screenshot(path=str(SHOTS / "youpin-field-360-home-scan.png"), full_page=True)


def test_a_harvest_inside_the_interval_is_confirmed_before_it_is_stored(site: Site, phone: Page):
    _sign_in(phone, site)
    phone.goto(f"{site.base}/field/batches/{site.scan_batch_id}/stages/planting")
    phone.get_by_label("发生时间").fill("2026-05-01T08:00")
    row = phone.locator("fieldset").first
    row.get_by_label("类型").select_option(label="农药")
    row.get_by_label("名称").fill("多菌灵")
    row.get_by_label("用量", exact=True).fill("50")
    row.get_by_label("用量单位").fill("毫升/亩")
    row.get_by_label("施用时间").fill("2026-05-01T08:00")
    row.get_by_label("安全间隔期(天)").fill("21")
    phone.get_by_role("button", name="保存").click()
    phone.wait_for_url("**?recorded=1")
    phone.goto(f"{site.base}/field/batches/{site.scan_batch_id}/stages/harvest")
    phone.get_by_label("发生时间").fill("2026-05-10T07:00")
    phone.get_by_label("采收量").fill("40")
    phone.get_by_role("button", name="保存").click()
    warning = phone.locator("#interval-warning")
    warning.wait_for()
    assert "多菌灵" in warning.inner_text() and "2026-05-01" in warning.inner_text()
    fits_a_phone(phone)
    phone.screenshot(path=str(SHOTS / "youpin-field-360-interval-warning.png"), full_page=True)
    stored = select(Event.stage).where(Event.batch_id == site.scan_batch_id).order_by(Event.seq)
    assert list(db.session.scalars(stored)) == ["created", "planting"]
    db.session.rollback()
    phone.get_by_role("button", name="我已知晓，仍然保存").click()
    phone.wait_for_url("**?recorded=1")
    assert list(db.session.scalars(stored)) == ["created", "planting", "harvest", "hold"]
    db.session.rollback()


def test_a_cooperatives_day_sheet_for_ten_households(site: Site, phone: Page):
    _sign_in(phone, site)
    phone.get_by_role("link", name="一天的记录（多个农户）").click()
    phone.get_by_label("产品").select_option(label="通山枇杷")
    phone.get_by_role("button", name="打开记录表").click()
    phone.wait_for_url("**/field/day?product=loquat")
    households = phone.locator("fieldset", has_text="白泉村 农户")
    assert households.count() == 10
    phone.get_by_label("发生时间").fill("2026-05-10T07:00")
    for n in range(10):
        households.nth(n).get_by_label("采收量").fill(str(40 + n))
    fits_a_phone(phone)
    phone.screenshot(path=str(SHOTS / "youpin-field-360-day-sheet.png"), full_page=True)
    phone.get_by_role("button", name="全部保存").click()
    phone.wait_for_url("**/field/?day_recorded=10")
    assert "已一起记录 10 个批次" in phone.get_by_role("status").first.inner_text()
    harvested = select(Event).join(Batch).where(Batch.lot_code.like("LQ-%"), Event.stage == "harvest")
    stored = [e for e in db.session.scalars(harvested) if e.batch.producer.name.startswith("白泉村 农户")]
    assert sorted(Decimal(e.data["quantity"]) for e in stored) == [Decimal(40 + n) / 2 for n in range(10)]
    db.session.rollback()
