"""The consumer pages in a real headless Chromium at a phone's size (360 x 740).

The app runs in a werkzeug server thread against the test database. The server's requests use
their own sessions and connections, so they cannot see the test's rolled-back transaction: the
data is committed for real (``committing``) and deleted again when the module is done.
"""

from __future__ import annotations

import io
import os
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image
from werkzeug.serving import make_server

from app.db import db
from app.orgs import service as orgs
from tests.conftest import PUBLIC_BASE_URL
from tests.public.builders import build_failed_tea, build_journey, build_merged, remove_journey

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
# Screenshots to look at by eye (CJK fonts, layout): /tmp/youpin-consumer-360*.png.
SHOTS = Path(tempfile.gettempdir())
SCREENSHOT = SHOTS / "youpin-consumer-360.png"

pytestmark = [pytest.mark.browser, pytest.mark.committing]

if not Path(CHROMIUM).exists():
    if os.environ.get("REQUIRE_BROWSER") == "1":
        raise RuntimeError(f"REQUIRE_BROWSER=1 but {CHROMIUM} is missing: apt-get install chromium fonts-noto-cjk")
    pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium fonts-noto-cjk)", allow_module_level=True)

from playwright.sync_api import Browser, Page, sync_playwright  # noqa: E402 - only once chromium is known present


@dataclass(frozen=True)
class Site:
    base: str
    code: str
    recalled_code: str
    lot_code: str
    batch_id: int
    token: str
    failed_code: str
    merged_code: str
    source_lots: tuple[str, ...]


@pytest.fixture(scope="module")
def site(app) -> Iterator[Site]:
    active = build_journey()
    recalled = build_journey(recalled=True)
    failed = build_failed_tea()
    merged = build_merged()
    _, token = orgs.create_token(active.user.username)
    # Read everything the tests need before committing: afterwards this session must stay idle,
    # since on SQLite an open transaction would hold the lock the server's requests wait for.
    values = dict(
        code=active.batch.public_code,
        recalled_code=recalled.batch.public_code,
        lot_code=active.batch.lot_code,
        batch_id=active.batch.id,
        token=token,
        failed_code=failed.batch.public_code,
        merged_code=merged.batch.public_code,
        source_lots=tuple(lot.lot_code for lot in merged.sources),
    )
    org_codes = [
        active.household.code,
        active.coop.code,
        recalled.household.code,
        recalled.coop.code,
        failed.processor.code,
        failed.inspector.code,
        merged.coop.code,
        *(h.code for h in merged.households),
    ]
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


# What sticks out past the viewport's right edge, to name it when a page scrolls sideways.
_OVERFLOWING = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
  .map(e => `${e.tagName}.${e.className} ${Math.round(e.getBoundingClientRect().right)}px: `
            + e.innerText.slice(0, 60))"""


def no_sideways_scroll(page: Page) -> None:
    page.wait_for_load_state("load")  # measured with the stylesheet applied, not mid-load
    scroll, client = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert client == PHONE["width"]
    assert scroll <= client, (f"page is {scroll}px wide in a {client}px viewport", page.evaluate(_OVERFLOWING))


def test_consumer_page_in_chinese_fits_a_phone(site: Site, phone: Page):
    response = phone.goto(f"{site.base}/t/{site.code}")
    assert response is not None and response.status == 200
    assert phone.locator("html").get_attribute("lang") == "zh-CN"
    assert phone.locator("h1").inner_text() == "通山枇杷"
    no_sideways_scroll(phone)
    timeline = phone.locator("#journey ol.timeline")
    timeline.scroll_into_view_if_needed()
    assert timeline.is_visible()
    steps = timeline.locator("> li h3")
    assert steps.count() == 7
    assert steps.first.inner_text() == "育苗"
    box = timeline.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    # What the chain proves, and no more: the records were not changed (not that they are complete).
    assert phone.locator("#chain").inner_text().startswith("✓ 记录未被改动")
    assert "记录完整" not in phone.locator("body").inner_text()
    assert not phone.locator("#recall").count()
    phone.screenshot(path=str(SCREENSHOT), full_page=True)


def test_consumer_page_in_english_with_lang(site: Site, phone: Page):
    assert phone.goto(f"{site.base}/t/{site.code}?lang=en").status == 200
    assert phone.locator("html").get_attribute("lang") == "en"
    assert phone.locator("h1").inner_text() == "Tongshan loquat"
    assert phone.locator("#journey h2").inner_text() == "Journey"
    assert phone.locator("#journey ol.timeline > li h3").nth(2).inner_text().startswith("Harvest")
    assert phone.locator("#journey ol.timeline").is_visible()
    no_sideways_scroll(phone)
    phone.screenshot(path=str(SHOTS / "youpin-consumer-360-en.png"), full_page=True)


def test_english_by_the_browsers_language(site: Site, browser: Browser):
    context = browser.new_context(viewport=PHONE, locale="en-US")
    try:
        page = context.new_page()
        page.goto(f"{site.base}/t/{site.code}")
        assert page.locator("h1").inner_text() == "Tongshan loquat"
        # ...and the switch back to Chinese is one tap away.
        page.get_by_role("link", name="中文").click()
        page.wait_for_url("**?lang=zh")
        assert page.locator("h1").inner_text() == "通山枇杷"
    finally:
        context.close()


def test_recall_notice_is_the_first_thing_seen(site: Site, phone: Page):
    assert phone.goto(f"{site.base}/t/{site.recalled_code}").status == 200
    notice = phone.locator("#recall")
    assert notice.is_visible()
    box = notice.bounding_box()
    assert box is not None and box["y"] < PHONE["height"] / 2  # above the fold
    text = notice.inner_text()
    assert "召回通知" in text and "Recall notice" in text and "抽检发现吡虫啉残留超标" in text
    no_sideways_scroll(phone)
    phone.screenshot(path=str(SHOTS / "youpin-consumer-360-recalled.png"))


def within_first_screen(page: Page, selector: str) -> dict:
    box = page.locator(selector).bounding_box()
    assert box is not None, selector
    assert page.evaluate("window.scrollY") == 0
    assert box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"], (selector, box)
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (selector, box)
    return box


def test_a_failed_batch_shows_the_fail_on_the_first_screen(site: Site, phone: Page):
    assert phone.goto(f"{site.base}/t/{site.failed_code}").status == 200
    no_sideways_scroll(phone)
    # The whole verdict, its title and the failed item's value and limit, without scrolling.
    within_first_screen(phone, "#verdict")
    within_first_screen(phone, "#verdict li[data-kind=fail]")
    verdict = phone.locator("#verdict").inner_text().replace("\u00a0", " ")
    assert verdict.startswith("✗ 检测不合格")
    assert "吡虫啉 0.8 mg/kg，超过限量 ≤ 0.5 mg/kg（GB 2763-2021）" in verdict
    assert "安全间隔期" in verdict
    red = phone.evaluate("getComputedStyle(document.querySelector('#verdict')).borderTopColor")
    assert red == "rgb(179, 38, 30)", red  # the warning colour, not the green of a pass
    phone.screenshot(path=str(SHOTS / "youpin-consumer-360-failed.png"))
    phone.screenshot(path=str(SHOTS / "youpin-consumer-360-failed-full.png"), full_page=True)
    phone.goto(f"{site.base}/t/{site.failed_code}?lang=en")
    within_first_screen(phone, "#verdict li[data-kind=fail]")
    english = phone.locator("#verdict").inner_text().replace("\u00a0", " ")
    assert "imidacloprid 0.8 mg/kg, over the limit ≤ 0.5 mg/kg" in english
    no_sideways_scroll(phone)
    phone.screenshot(path=str(SHOTS / "youpin-consumer-360-failed-en.png"), full_page=True)


def test_a_merged_lot_lists_its_sources(site: Site, phone: Page):
    assert phone.goto(f"{site.base}/t/{site.merged_code}").status == 200
    no_sideways_scroll(phone)
    sources = phone.locator("#sources ul.sources > li")
    sources.first.scroll_into_view_if_needed()
    assert sources.count() == 3
    assert [sources.nth(i).get_attribute("data-lot") for i in range(3)] == list(site.source_lots)
    assert "大畈镇王家枇杷园 · 通山县" in sources.first.inner_text()
    assert "投入 100 千克" in sources.first.inner_text()
    phone.screenshot(path=str(SHOTS / "youpin-consumer-360-merged.png"), full_page=True)
    # Each source's link opens its own consumer page.
    sources.nth(1).get_by_role("link").click()
    phone.wait_for_url("**/t/*")
    assert site.source_lots[1] in phone.locator("#product").inner_text()
    assert phone.locator("#verdict").is_visible()


def test_unknown_code_gets_the_404_page(site: Site, phone: Page):
    response = phone.goto(f"{site.base}/t/AAAAAAAAAAAAAAAAAAAAAA")
    assert response is not None and response.status == 404
    assert phone.locator("h1").inner_text() == "没有找到这个追溯码"
    no_sideways_scroll(phone)
    phone.goto(f"{site.base}/t/AAAAAAAAAAAAAAAAAAAAAA?lang=en")
    assert phone.locator("h1").inner_text() == "We could not find this trace code"


def test_index_shows_scannable_qr_codes_that_lead_to_the_page(site: Site, phone: Page):
    assert phone.goto(f"{site.base}/").status == 200
    no_sideways_scroll(phone)
    card = phone.locator("#batches li", has_text=site.lot_code)
    image = card.locator("img")
    image.scroll_into_view_if_needed()
    phone.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    shot = Image.open(io.BytesIO(image.screenshot()))
    assert [c.text for c in zxingcpp.read_barcodes(shot)] == [f"{PUBLIC_BASE_URL}/t/{site.code}"]
    card.get_by_role("link").last.click()
    phone.wait_for_url(f"**/t/{site.code}")
    assert phone.locator("#journey ol.timeline").is_visible()


def test_the_svg_as_chromium_draws_it_decodes(site: Site, browser: Browser):
    context = browser.new_context(
        viewport={"width": 400, "height": 400}, extra_http_headers={"Authorization": f"Bearer {site.token}"}
    )
    try:
        page = context.new_page()
        response = page.goto(f"{site.base}/api/v1/batches/{site.batch_id}/qr.svg?size=300")
        assert response is not None and response.status == 200
        shot = Image.open(io.BytesIO(page.screenshot()))
        assert [c.text for c in zxingcpp.read_barcodes(shot)] == [f"{PUBLIC_BASE_URL}/t/{site.code}"]
    finally:
        context.close()


def test_pages_load_their_styles_under_the_content_security_policy(site: Site, browser: Browser):
    """The CSP blocks nothing the pages use: their CSS applies and Chromium reports no violation."""
    context = browser.new_context(viewport=PHONE, locale="zh-CN")
    page = context.new_page()
    refused: list[str] = []
    page.on(
        "console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None
    )
    try:
        for path in (f"/t/{site.code}", f"/t/{site.recalled_code}", "/", "/t/no-such-code", "/login", "/api/docs"):
            response = page.goto(f"{site.base}{path}")
            assert response is not None and response.status < 500, path
            if path != "/api/docs":
                assert "frame-ancestors 'none'" in response.headers["content-security-policy"], path
                green = page.evaluate("getComputedStyle(document.querySelector('header.top')).backgroundColor")
                assert green == "rgb(47, 107, 58)", (path, green)  # static/css/base.css applied
        page.goto(f"{site.base}/login")
        width = page.evaluate("getComputedStyle(document.querySelector('section.card')).maxWidth")
        assert width == "420px"  # the page's own <style>, allowed by the request's nonce
        page.goto(f"{site.base}/api/docs")
        page.wait_for_selector(".swagger-ui", timeout=10_000)
    finally:
        context.close()
    assert not refused, refused
