"""Offline in a real Chromium at 360 x 740: the outbox (IndexedDB) and the service worker.

Five entries made with no signal are kept, survive a reload, and are stored exactly once when the
phone is online again: once with the service worker blocked (WeChat's browser has none: the page
is reloaded online) and once with it (the reload itself is offline, served from its cache). A
double tap stores once; a write the server refuses shows its reason and can be discarded.
Screenshots: /tmp/youpin-field-360-outbox*.png.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from app.batches.models import Batch, Event
from app.db import db
from tests.field import test_browser as shared
from tests.field.test_browser import PHONE, SHOTS, Site, _sign_in, fits_a_phone

pytestmark = [pytest.mark.browser, pytest.mark.committing]

from playwright.sync_api import Browser, BrowserContext, Page  # noqa: E402 - after test_browser's chromium check

# test_browser's fixtures: the app served on a real port with a cooperative, its lots, and Chromium.
site = shared.site
browser = shared.browser

# The outbox's store is empty: everything queued has been answered.
OUTBOX_EMPTY = """() => new Promise(done => {
    const open = indexedDB.open("youpin-field");
    open.onsuccess = () => {
        const db = open.result;
        if (!db.objectStoreNames.length) { done(true); return; }
        const names = Array.from(db.objectStoreNames);
        const count = db.transaction(names, "readonly").objectStore(names[0]).count();
        count.onsuccess = () => done(count.result === 0);
    };
    open.onerror = () => done(false);
})"""


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    made = browser.new_context(viewport=PHONE, device_scale_factor=2, locale="zh-CN")
    try:
        yield made
    finally:
        made.close()


def _temperatures(batch_id: int) -> list[str]:
    stored = select(Event.data).where(Event.batch_id == batch_id, Event.stage == "storage")
    found = sorted(d["temperature_c"] for d in db.session.scalars(stored))
    db.session.rollback()
    return found


def _stored_once(phone: Page, batch_id: int, expected: list[str]) -> None:
    """The batch's storage temperatures become ``expected`` (each entry stored exactly once).

    Read again for a few seconds: the outbox empties as the replies arrive, and the server's commit
    may reach this test's own connection a moment later.
    """
    found = _temperatures(batch_id)
    for _ in range(50):
        if found == expected:
            break
        phone.wait_for_timeout(200)
        found = _temperatures(batch_id)
    assert found == expected


def _five_offline(phone: Page, first: int) -> None:
    for n in range(5):
        phone.get_by_label("温度(℃)").fill(str(first + n))
        phone.get_by_label("湿度(%)").fill("85")
        phone.get_by_role("button", name="保存").click()
        phone.locator("#outbox .count").filter(has_text=f"待上传 {n + 1} 条").wait_for()
    assert phone.locator("#outbox-saved").is_visible()
    assert phone.locator("#outbox li[data-state=pending]").count() == 5


def test_five_entries_without_a_service_worker(site: Site, browser: Browser):
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, locale="zh-CN", service_workers="block")
    try:
        phone = context.new_page()
        _sign_in(phone, site)
        phone.goto(f"{site.base}/field/batches/{site.scan_batch_id}/stages/storage")
        before = _temperatures(site.scan_batch_id)
        context.set_offline(True)
        _five_offline(phone, 11)
        fits_a_phone(phone)
        phone.screenshot(path=str(SHOTS / "youpin-field-360-outbox.png"), full_page=True)
        assert _temperatures(site.scan_batch_id) == before
        context.set_offline(False)
        phone.reload()  # on page load (and on reconnecting) the outbox sends what it holds
        phone.wait_for_function(OUTBOX_EMPTY, timeout=30_000)
        phone.locator("#outbox").wait_for(state="hidden")
        _stored_once(phone, site.scan_batch_id, sorted([*before, "11", "12", "13", "14", "15"]))
        # Another reload sends nothing more: each entry carried its own key and is answered.
        phone.reload()
        phone.wait_for_function(OUTBOX_EMPTY, timeout=30_000)
        assert len(_temperatures(site.scan_batch_id)) == len(before) + 5
    finally:
        context.close()


def test_the_service_worker_serves_a_visited_page_offline_and_five_entries_go_once(site: Site, context):
    phone = context.new_page()
    _sign_in(phone, site)
    # Registered where supported; it takes the page over once active.
    assert phone.evaluate("() => navigator.serviceWorker.ready.then(r => !!r.active)")
    phone.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=15_000)
    path = f"{site.base}/field/batches/{site.scan_batch_id}/stages/storage"
    phone.goto(path)  # visited online: the worker keeps this copy
    before = _temperatures(site.scan_batch_id)
    context.set_offline(True)
    phone.reload()  # no signal: the page still opens, from the worker's cache
    assert phone.locator("h1").inner_text() == "储存"
    _five_offline(phone, 21)
    phone.reload()  # still offline: the five are still there, waiting
    phone.locator("#outbox .count").filter(has_text="待上传 5 条").wait_for()
    phone.screenshot(path=str(SHOTS / "youpin-field-360-outbox-offline-reload.png"), full_page=True)
    assert _temperatures(site.scan_batch_id) == before
    context.set_offline(False)  # the "online" event sends them
    phone.wait_for_function(OUTBOX_EMPTY, timeout=30_000)
    phone.locator("#outbox").wait_for(state="hidden")
    _stored_once(phone, site.scan_batch_id, sorted([*before, "21", "22", "23", "24", "25"]))
    # The worker keeps no API answer and no sync reply.
    cached = phone.evaluate(
        "() => caches.keys().then(ns => Promise.all(ns.map(n => caches.open(n).then(c => c.keys()))))"
        ".then(lists => lists.flat().map(r => r.url))"
    )
    assert cached and not [u for u in cached if "/api/" in u or u.endswith("/sync")], cached
    phone.goto(f"{site.base}/field/batches/{site.scan_batch_id}/stages/storage")
    phone.get_by_role("button", name="退出登录").click()
    phone.wait_for_url("**/login**")
    assert phone.evaluate("() => caches.keys().then(ns => ns.filter(n => n.startsWith('youpin-field-')))") == []


def _lots(lot_code_like: str) -> int:
    found = db.session.scalar(select(func.count(Batch.id)).where(Batch.lot_code.like(lot_code_like)))
    db.session.rollback()
    return found or 0


def test_a_double_tap_stores_once(site: Site, context):
    phone = context.new_page()
    _sign_in(phone, site)
    phone.goto(f"{site.base}/field/batches/new")
    lot = f"TAP-{site.scan_lot[-8:]}"
    phone.get_by_label("产品").select_option(label="通山枇杷")
    phone.get_by_label("重量或数量").fill("12")
    phone.locator("#lot_code").fill(lot)
    phone.get_by_role("button", name="保存批次").dblclick()
    phone.wait_for_url("**/field/batches/*?created=1")
    phone.wait_for_function(OUTBOX_EMPTY, timeout=30_000)
    assert _lots(lot) == 1


def test_a_refused_entry_shows_its_reason_and_can_be_discarded(site: Site, context):
    phone = context.new_page()
    _sign_in(phone, site)
    phone.goto(f"{site.base}/field/batches/new")
    context.set_offline(True)
    phone.get_by_label("产品").select_option(label="通山枇杷")
    phone.get_by_label("重量或数量").fill("30")
    phone.locator("#lot_code").fill(site.scan_lot)  # taken: the server will refuse it
    phone.get_by_role("button", name="保存批次").click()
    phone.locator("#outbox .count").filter(has_text="待上传 1 条").wait_for()
    context.set_offline(False)
    refused = phone.locator("#outbox li[data-state=refused]")
    refused.wait_for(timeout=30_000)
    assert "未被接受" in refused.inner_text() and "批次号：这个批次号已被使用" in refused.inner_text()
    assert phone.locator("#outbox .count").inner_text() == "待上传 0 条"
    fits_a_phone(phone)
    phone.screenshot(path=str(SHOTS / "youpin-field-360-outbox-refused.png"), full_page=True)
    phone.reload()  # it stays, with its reason, until discarded
    refused.wait_for()
    refused.get_by_role("button", name="放弃这条").click()
    phone.locator("#outbox").wait_for(state="hidden")
    phone.wait_for_function(OUTBOX_EMPTY)
    assert _lots(site.scan_lot) == 1


def test_a_refused_entry_is_corrected_in_its_form_and_then_stored(site: Site, context):
    phone = context.new_page()
    _sign_in(phone, site)
    phone.goto(f"{site.base}/field/batches/new")
    context.set_offline(True)
    phone.get_by_label("产品").select_option(label="通山枇杷")
    phone.get_by_label("重量或数量").fill("31")
    phone.locator("#lot_code").fill(site.scan_lot)  # taken
    phone.get_by_role("button", name="保存批次").click()
    phone.locator("#outbox .count").filter(has_text="待上传 1 条").wait_for()
    context.set_offline(False)
    refused = phone.locator("#outbox li[data-state=refused]")
    refused.wait_for(timeout=30_000)
    refused.get_by_role("link", name="去改正").click()
    # The form comes back as it was typed; only the lot code needs changing.
    phone.wait_for_function("() => document.getElementById('quantity').value === '31'")
    assert phone.locator("#lot_code").input_value() == site.scan_lot
    fixed = f"FIX-{site.scan_lot[-8:]}"
    phone.locator("#lot_code").fill(fixed)
    phone.get_by_role("button", name="保存批次").click()
    phone.wait_for_url("**/field/batches/*?created=1")
    phone.wait_for_function(OUTBOX_EMPTY, timeout=30_000)
    assert _lots(fixed) == 1
