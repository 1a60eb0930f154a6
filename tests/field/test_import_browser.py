"""The spreadsheet import in a real headless Chromium at 360 x 740: download the template from the
page, fill it as a farmer would (one bad row), upload it (nothing stored, the row named), correct
it (stored, the count shown), and upload the same file again (nothing new).

As tests/field/test_browser.py does, the app runs in a werkzeug server thread and the data is
committed, then deleted when the module is done. Screenshots: /tmp/youpin-import-360-*.png.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import delete, func, select
from werkzeug.serving import make_server

from app.auth import Actor
from app.batches import service as batches
from app.batches.models import Batch, Event
from app.compliance.models import Finding, FindingStep
from app.db import db
from app.field.models import EnteredQuantity
from app.orgs import service as orgs
from tests.public.builders import remove_journey

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]  # fmt: skip
PHONE = {"width": 360, "height": 740}
SHOTS = Path(tempfile.gettempdir())
PASSWORD = "import-password-1"

pytestmark = [pytest.mark.browser, pytest.mark.committing]

if not Path(CHROMIUM).exists():
    if os.environ.get("REQUIRE_BROWSER") == "1":
        raise RuntimeError(f"REQUIRE_BROWSER=1 but {CHROMIUM} is missing: apt-get install chromium fonts-noto-cjk")
    pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium fonts-noto-cjk)", allow_module_level=True)

from playwright.sync_api import Page, sync_playwright  # noqa: E402 - only once chromium is known present


@dataclass(frozen=True)
class Farm:
    base: str
    username: str
    lots: list[str]


@pytest.fixture(scope="module")
def farm(app) -> Iterator[Farm]:
    suffix = dt.datetime.now(dt.UTC).strftime("%H%M%S%f")
    org = orgs.create_organization(code=f"IH-{suffix}", name="隐水村 刘家", kind="farm_household", county="通山县")
    user = orgs.create_user(username=f"import-{suffix}", org_code=org.code, role="farmer", password=PASSWORD)
    lots = [
        batches.create_batch(
            Actor(user=user, org=org), product="loquat", quantity=Decimal(100), unit="kg", lot_code=f"IMP{n}-{suffix}"
        ).lot_code
        for n in range(2)
    ]
    username, org_code = user.username, org.code
    db.session.commit()
    db.session.close()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Farm(base=f"http://127.0.0.1:{server.server_port}", username=username, lots=lots)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        batch_ids = select(Batch.id).where(Batch.lot_code.in_(lots))
        db.session.execute(delete(EnteredQuantity).where(EnteredQuantity.batch_id.in_(batch_ids)))
        finding_ids = select(Finding.id).where(Finding.batch_id.in_(batch_ids))
        db.session.execute(delete(FindingStep).where(FindingStep.finding_id.in_(finding_ids)))
        db.session.execute(delete(Finding).where(Finding.batch_id.in_(batch_ids)))
        db.session.commit()
        remove_journey([org_code])


@pytest.fixture
def phone() -> Iterator[Page]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport=PHONE, device_scale_factor=2, locale="zh-CN", accept_downloads=True)
        try:
            yield context.new_page()
        finally:
            context.close()
            browser.close()


def harvests(lots: list[str]) -> int:
    db.session.expire_all()
    query = select(func.count()).select_from(Event).join(Batch, Batch.id == Event.batch_id)
    count = db.session.scalar(query.where(Batch.lot_code.in_(lots), Event.stage == "harvest")) or 0
    db.session.rollback()  # no read transaction left open while the server writes (SQLite)
    return count


def no_sideways_scroll(page: Page) -> None:
    page.wait_for_load_state("load")  # measured with the stylesheet applied, not mid-load
    scroll, client = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert scroll <= client == PHONE["width"]


def test_import_one_bad_row_then_good_then_the_same_again(farm: Farm, phone: Page, tmp_path: Path):
    phone.goto(f"{farm.base}/login")
    phone.get_by_label("用户名").fill(farm.username)
    phone.get_by_label("密码").fill(PASSWORD)
    phone.get_by_role("button", name="登录").click()
    phone.wait_for_url("**/field/")
    phone.get_by_role("link", name="表格导入").click()
    phone.wait_for_url("**/field/import")
    no_sideways_scroll(phone)
    phone.get_by_label("产品").select_option(label="通山枇杷")
    phone.get_by_label("环节").select_option("harvest")
    with phone.expect_download() as download:
        phone.get_by_role("button", name="下载模板（Excel）").click()
    template = tmp_path / "template.xlsx"
    download.value.save_as(template)

    book = load_workbook(template)
    sheet = book["记录"]
    headers = [c.value for c in sheet[1]]
    assert headers[:4] == ["批次号", "发生时间", "采收量", "采收量单位"]
    sheet.append([farm.lots[0], "2026-05-20 07:30", 200, "斤"])
    sheet.append([farm.lots[1], "2026-05-20 08:00", "两百", "斤"])  # not a number
    bad = tmp_path / "bad.xlsx"
    book.save(bad)
    phone.set_input_files("#file", str(bad))
    phone.get_by_role("button", name="上传并保存").click()
    errors = phone.locator("#import-errors")
    errors.wait_for(state="visible")
    assert "有错误，什么都没有保存" in errors.inner_text()
    assert errors.locator("li").all_inner_texts() == ["第 3 行 采收量：请填写数字，例如 200 或 12.5"]
    assert phone.locator("#import-progress").evaluate("p => p.value") == 100
    assert harvests(farm.lots) == 0
    no_sideways_scroll(phone)
    phone.screenshot(path=str(SHOTS / "youpin-import-360-refused.png"), full_page=True)

    sheet.cell(row=3, column=3, value=150)
    good = tmp_path / "good.xlsx"
    book.save(good)
    phone.set_input_files("#file", str(good))
    phone.get_by_role("button", name="上传并保存").click()
    phone.wait_for_selector("#import-status[data-stored='2']")
    assert phone.locator("#import-status").inner_text() == "已保存 2 条记录。"
    assert phone.locator("#import-errors").is_hidden()
    assert harvests(farm.lots) == 2
    phone.screenshot(path=str(SHOTS / "youpin-import-360-stored.png"), full_page=True)

    phone.set_input_files("#file", str(good))
    phone.get_by_role("button", name="上传并保存").click()
    phone.wait_for_selector("#import-status[data-stored='0']")
    assert phone.locator("#import-status").inner_text() == "这些记录以前都已保存，没有新的记录。"
    assert harvests(farm.lots) == 2
