"""The 承诺达标合格证 in a real headless Chromium at a phone's width: a cooperative issues one for its
loquat lot, prints it (the PDF rendered by pdftoppm, its QR code read back by zxing-cpp opens the
lot's consumer page), hands the lot over, and the buyer confirms on its own phone the certificate
it received.

The app runs in a werkzeug server thread; what it stores is committed for real (``committing``)
and deleted again when the module is done.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import shutil
import subprocess
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
from app.commitments.models import CommitmentCertificate
from app.custody import service as custody
from app.custody.models import Transfer
from app.db import db
from app.orgs import service as orgs
from app.orgs.models import Organization, User
from tests.conftest import PUBLIC_BASE_URL, valid_credit_code
from tests.public.builders import remove_journey

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]  # fmt: skip
PHONE = {"width": 360, "height": 740}
PASSWORD = "field-cert-2026"
MOMENT = dt.datetime(2026, 6, 2, 9, tzinfo=dt.UTC)

pytestmark = [pytest.mark.browser, pytest.mark.committing]

if not Path(CHROMIUM).exists():
    if os.environ.get("REQUIRE_BROWSER") == "1":
        raise RuntimeError(f"REQUIRE_BROWSER=1 but {CHROMIUM} is missing: apt-get install chromium fonts-noto-cjk")
    pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium fonts-noto-cjk)", allow_module_level=True)

import zxingcpp  # noqa: E402
from playwright.sync_api import Page, sync_playwright  # noqa: E402 - only once chromium is known present


@dataclass
class Shop:
    base: str
    lot_id: int
    public_code: str
    grower: str
    buyer: str
    buyer_code: str


@pytest.fixture(scope="module")
def shop(app) -> Iterator[Shop]:
    tag = secrets.token_hex(4)
    serial = int(tag, 16) % 10**8
    coop = orgs.create_organization(
        code=f"CB-COOP-{tag}", name="九宫山枇杷专业合作社（浏览器测试）", kind="cooperative", county="通山县",
        credit_code=valid_credit_code(serial * 10 + 1),
    )  # fmt: skip
    store = orgs.create_organization(
        code=f"CB-SHOP-{tag}", name="温泉果品店（浏览器测试）", kind="retailer", county="咸安区",
        credit_code=valid_credit_code(serial * 10 + 2),
    )  # fmt: skip
    grower = orgs.create_user(username=f"cb-coop-{tag}", org_code=coop.code, role="cooperative", password=PASSWORD)
    buyer = orgs.create_user(username=f"cb-shop-{tag}", org_code=store.code, role="retailer", password=PASSWORD)
    lot = batches.create_batch(Actor(user=grower, org=coop), product="loquat", quantity=Decimal(50), unit="kg")
    found = Shop("", lot.id, lot.public_code, grower.username, buyer.username, store.code)
    codes = [coop.code, store.code]
    db.session.commit()
    db.session.close()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        found.base = f"http://127.0.0.1:{server.server_port}"
        yield found
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        db.session.rollback()
        org_ids = select(Organization.id).where(Organization.code.in_(codes))
        ids = select(Batch.id).where(Batch.producer_org_id.in_(org_ids))
        db.session.execute(delete(CommitmentCertificate).where(CommitmentCertificate.batch_id.in_(ids)))
        db.session.execute(delete(Transfer).where(Transfer.batch_id.in_(ids)))
        db.session.commit()
        remove_journey(codes)


def _sign_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/field/")


def test_a_certificate_issued_printed_read_back_and_received_by_the_next_holder(shop: Shop, tmp_path):
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) renders the PDF; CI installs it")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            grower = browser.new_context(viewport=PHONE, locale="zh-CN").new_page()
            _sign_in(grower, shop.base, shop.grower)
            grower.goto(f"{shop.base}/field/batches/{shop.lot_id}/certificate")
            grower.fill("#contact", "0715-8123456")
            grower.check('input[name="basis"][value="quality_control"]')
            grower.get_by_role("button", name="开具并保存").click()
            grower.wait_for_url(f"**/field/batches/{shop.lot_id}*")
            assert "合格证已开具" in grower.locator("main").inner_text()
            number = db.session.scalar(
                select(CommitmentCertificate.number).where(CommitmentCertificate.batch_id == shop.lot_id)
            )
            db.session.rollback()
            assert number and number in grower.locator("#certificate").inner_text()

            # The printed label, fetched as the phone would with its session, rendered and decoded.
            href = grower.get_by_role("link", name="打印合格证（PDF）").get_attribute("href")
            printed = grower.request.get(f"{shop.base}{href}")
            assert printed.ok and printed.headers["content-type"] == "application/pdf"
            (tmp_path / "certificate.pdf").write_bytes(printed.body())
            subprocess.run(["pdftoppm", "-png", "-r", "300", "-singlefile", tmp_path / "certificate.pdf",
                            tmp_path / "certificate"], check=True)  # fmt: skip
            text = subprocess.run(["pdftotext", tmp_path / "certificate.pdf", "-"], capture_output=True, check=True)
            assert "承诺达标合格证" in text.stdout.decode().replace(" ", "")
            codes = zxingcpp.read_barcodes(Image.open(tmp_path / "certificate.png"))
            assert [c.text for c in codes] == [f"{PUBLIC_BASE_URL}/t/{shop.public_code}"]

            # The lot changes hands; the buyer confirms, on its own phone, the certificate it received.
            coop_user = db.session.scalar(select(User).where(User.username == shop.grower))
            shop_user = db.session.scalar(select(User).where(User.username == shop.buyer))
            seller = Actor(user=coop_user, org=coop_user.organization)
            taker = Actor(user=shop_user, org=shop_user.organization)
            transfer = custody.create_transfer(seller, shop.lot_id, to_org=shop.buyer_code, occurred_at=MOMENT)
            custody.accept_transfer(taker, transfer.id, occurred_at=MOMENT)
            db.session.commit()
            buyer = browser.new_context(viewport=PHONE, locale="zh-CN").new_page()
            _sign_in(buyer, shop.base, shop.buyer)
            buyer.goto(f"{shop.base}/field/batches/{shop.lot_id}")
            buyer.get_by_role("button", name="确认已收到此合格证").click()
            buyer.wait_for_load_state()
            buyer.wait_for_function("() => document.body.innerText.includes('已确认收到合格证')")
            assert buyer.get_by_role("button", name="确认已收到此合格证").count() == 0
            receipts = db.session.scalar(
                select(Event.id).where(Event.batch_id == shop.lot_id, Event.stage == "certificate_receipt")
            )
            db.session.rollback()
            assert receipts is not None  # the receipt is in the lot's chain
        finally:
            browser.close()
