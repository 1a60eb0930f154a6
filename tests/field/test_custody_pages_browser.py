"""Custody and lineage pages in a real headless Chromium at 360 x 740: a household sends a lot, the
processor accepts it with its own login, then splits it with the mass balance shown before it submits.

The app runs in a werkzeug server thread; the data is committed and deleted when the module is
done. Screenshots: /tmp/youpin-custody-360-*.png.
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
from sqlalchemy import delete, select
from werkzeug.serving import make_server

from app.auth import Actor
from app.batches import service as batches
from app.batches.models import Batch
from app.compliance.models import Finding, FindingStep
from app.custody.models import Transfer
from app.db import db
from app.lineage.models import LineageEdge
from app.orgs import service as orgs
from tests.conftest import valid_credit_code
from tests.public.builders import remove_journey

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]  # fmt: skip
PHONE = {"width": 360, "height": 740}
SHOTS = Path(tempfile.gettempdir())
PASSWORD = "custody-password-1"

pytestmark = [pytest.mark.browser, pytest.mark.committing]

if not Path(CHROMIUM).exists():
    if os.environ.get("REQUIRE_BROWSER") == "1":
        raise RuntimeError(f"REQUIRE_BROWSER=1 but {CHROMIUM} is missing: apt-get install chromium fonts-noto-cjk")
    pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium fonts-noto-cjk)", allow_module_level=True)

from playwright.sync_api import Browser, Page, sync_playwright  # noqa: E402 - only once chromium is known present


@dataclass(frozen=True)
class Chain:
    base: str
    farmer: str
    processor: str
    processor_name: str
    lot_id: int
    lot_code: str


@pytest.fixture(scope="module")
def chain(app) -> Iterator[Chain]:
    suffix = dt.datetime.now(dt.UTC).strftime("%H%M%S%f")
    farm = orgs.create_organization(code=f"CH-{suffix}", name="高桥村 王家", kind="farm_household", county="通山县")
    plant = orgs.create_organization(
        code=f"CP-{suffix}", name=f"通山枇杷加工厂{suffix[-4:]}", kind="processor", county="通山县",
        credit_code=valid_credit_code(int(suffix[-9:]) + 7),
    )  # fmt: skip
    farmer = orgs.create_user(username=f"cfarm-{suffix}", org_code=farm.code, role="farmer", password=PASSWORD)
    orgs.create_user(username=f"cplant-{suffix}", org_code=plant.code, role="processor", password=PASSWORD)
    lot = batches.create_batch(
        Actor(user=farmer, org=farm), product="loquat", quantity=Decimal(100), unit="kg", lot_code=f"CUS-{suffix}"
    )
    values = Chain("", f"cfarm-{suffix}", f"cplant-{suffix}", plant.name, lot.id, lot.lot_code)
    codes = [farm.code, plant.code]
    db.session.commit()
    db.session.close()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Chain(f"http://127.0.0.1:{server.server_port}", *list(values.__dict__.values())[1:])
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        parents = select(LineageEdge.output_batch_id).where(LineageEdge.input_batch_id == values.lot_id)
        ids = [values.lot_id, *db.session.scalars(parents)]
        db.session.execute(delete(Transfer).where(Transfer.batch_id.in_(ids)))
        finding_ids = select(Finding.id).where(Finding.batch_id.in_(ids))
        db.session.execute(delete(FindingStep).where(FindingStep.finding_id.in_(finding_ids)))
        db.session.execute(delete(Finding).where(Finding.batch_id.in_(ids)))
        db.session.commit()
        remove_journey(codes)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def signed_in(browser: Browser, base: str, username: str) -> Page:
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{base}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/field/")
    return page


def no_sideways_scroll(page: Page) -> None:
    page.wait_for_load_state("load")  # measured with the stylesheet applied, not mid-load
    scroll, client = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert scroll <= client == PHONE["width"]


def test_send_accept_and_split_with_the_balance_shown(chain: Chain, browser: Browser):
    farmer = signed_in(browser, chain.base, chain.farmer)
    farmer.goto(f"{chain.base}/field/batches/{chain.lot_id}")
    farmer.get_by_role("link", name="转交", exact=True).click()
    farmer.wait_for_url("**/transfer")
    no_sideways_scroll(farmer)
    farmer.get_by_label("接收的主体").select_option(
        label=f"{chain.processor_name}（{chain.processor.replace('cplant', 'CP')}）"
    )
    farmer.get_by_label("车牌号").fill("鄂L12345")
    farmer.screenshot(path=str(SHOTS / "youpin-custody-360-send.png"), full_page=True)
    farmer.get_by_role("button", name="发出").click()
    farmer.wait_for_url("**?sent=1")
    assert "已发出，等待对方接收" in farmer.locator("#sent").inner_text()
    farmer.context.close()

    plant = signed_in(browser, chain.base, chain.processor)
    plant.get_by_role("link", name="转交（接收和发出）").click()
    card = plant.locator(f"li[data-lot='{chain.lot_code}']")
    assert "来自 高桥村 王家" in card.inner_text()
    no_sideways_scroll(plant)
    plant.screenshot(path=str(SHOTS / "youpin-custody-360-incoming.png"), full_page=True)
    card.get_by_role("button", name="接收").click()
    plant.wait_for_url("**done=accept")
    assert "已接收，批次现在由您持有" in plant.locator("#transfer-done").inner_text()
    db.session.expire_all()
    assert db.session.get(Batch, chain.lot_id).custodian.code == chain.processor.replace("cplant", "CP")
    db.session.rollback()

    plant.goto(f"{chain.base}/field/batches/{chain.lot_id}")
    plant.get_by_role("link", name="分批").click()
    plant.wait_for_url("**/split")
    plant.get_by_label("单位").select_option(label="斤")
    plant.get_by_label("第 1 份").fill("120")
    plant.get_by_label("第 2 份").fill("30")
    assert plant.locator("#balance-inputs").inner_text() == "150 斤"
    assert plant.locator("#balance-outputs").inner_text() == "150 斤"
    assert plant.locator("#balance-loss").inner_text() == "0 斤"
    assert plant.locator("#balance-stays").inner_text() == "50 斤"
    assert plant.locator("#balance-over").is_hidden()
    plant.get_by_label("第 3 份").fill("60")
    assert plant.locator("#balance-stays").inner_text() == "-10 斤"
    assert plant.locator("#balance-over").is_visible()
    no_sideways_scroll(plant)
    plant.screenshot(path=str(SHOTS / "youpin-custody-360-split-over.png"), full_page=True)
    plant.get_by_label("第 3 份").fill("")
    plant.screenshot(path=str(SHOTS / "youpin-custody-360-split.png"), full_page=True)
    plant.get_by_role("button", name="分批", exact=True).click()
    plant.wait_for_url("**split=*")
    assert "已分批" in plant.locator("#split-done").inner_text()
    edges = db.session.scalars(select(LineageEdge).where(LineageEdge.input_batch_id == chain.lot_id)).all()
    assert sorted(Decimal(e.quantity) for e in edges) == [Decimal(15), Decimal(60)]
    db.session.rollback()
    plant.context.close()
