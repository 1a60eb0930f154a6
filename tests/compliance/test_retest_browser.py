"""The whole 不合格 story on the desk, in a real headless Chromium: an inspector records a failed
监督抽检 with its 抽样单, the lot and the lots split from it are held, a release is refused while it
fails, a 复检 by another lab passes, and the release frees the lot and its children; then a positive
快检 opens a finding asking for a laboratory test, and holds nothing.

The app runs in a werkzeug server thread; what it stores is committed for real (``committing``)
and deleted again when the module is done.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from app.batches.models import Batch
from app.compliance.models import Inspection
from app.db import db
from app.lineage import service as lineage
from app.orgs import service as orgs
from tests.compliance.factories import actor_of, new_batch
from tests.conftest import valid_credit_code
from tests.public.builders import remove_journey

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]  # fmt: skip
SCREEN = {"width": 1280, "height": 900}
PASSWORD = "desk-retest-2026"

pytestmark = [pytest.mark.browser, pytest.mark.committing]

if not Path(CHROMIUM).exists():
    if os.environ.get("REQUIRE_BROWSER") == "1":
        raise RuntimeError(f"REQUIRE_BROWSER=1 but {CHROMIUM} is missing: apt-get install chromium fonts-noto-cjk")
    pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium fonts-noto-cjk)", allow_module_level=True)

from playwright.sync_api import Page, sync_playwright  # noqa: E402 - only once chromium is known present


@dataclass
class Story:
    base: str
    lot_id: int
    children: list[int]
    username: str
    first_lab: str
    second_lab: str
    tag: str


@pytest.fixture(scope="module")
def story(app) -> Iterator[Story]:
    tag = secrets.token_hex(4)
    serial = int(tag, 16) % 10**8
    maker_org = orgs.create_organization(
        code=f"RT-TEA-{tag}", name="赤壁示例茶厂（浏览器测试）", kind="processor",
        credit_code=valid_credit_code(serial * 10),
    )
    maker = orgs.create_user(username=f"rt_maker_{tag}", org_code=maker_org.code, role="processor", password=PASSWORD)
    office = orgs.create_organization(code=f"RT-MS-{tag}", name="咸宁市市场监管局（浏览器测试）", kind="regulator")
    inspector = orgs.create_user(
        username=f"rt_inspector_{tag}", org_code=office.code, role="inspector", password=PASSWORD
    )
    labs = [
        orgs.create_organization(
            code=f"RT-LAB{n}-{tag}", name=name, kind="lab", credit_code=valid_credit_code(serial * 10 + n),
            cma_no=f"示例-CMA-RT{n}", cma_valid_from=dt.date(2024, 1, 1), cma_valid_to=dt.date(2030, 12, 31),
            cma_parameters=["lead"],
        )
        for n, name in ((1, "示例检测中心甲（浏览器测试）"), (2, "示例检测中心乙（浏览器测试）"))
    ]
    lot = new_batch(maker, "brick_tea")
    split = lineage.split_batch(
        actor_of(maker), lot.id, parts=[Decimal("40"), Decimal("30")],
        occurred_at=dt.datetime(2026, 6, 2, 9, tzinfo=dt.UTC),
    )  # fmt: skip
    codes = [maker_org.code, office.code, *(lab.code for lab in labs)]
    story = Story("", lot.id, [out.id for out in split.outputs], inspector.username, labs[0].name, labs[1].name, tag)
    db.session.commit()
    db.session.close()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        story.base = f"http://127.0.0.1:{server.server_port}"
        yield story
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        db.session.rollback()
        remove_journey(codes)


def _statuses(story: Story) -> list[str]:
    db.session.expire_all()
    ids = [story.lot_id, *story.children]
    found = dict(db.session.execute(select(Batch.id, Batch.status).where(Batch.id.in_(ids))).all())
    db.session.rollback()  # ends the test's read, so it holds no lock the server's next write would wait on
    return [str(found[i]) for i in ids]


def _report(page: Page, story: Story, *, report_no: str, lab: str, lead: str, supervision: bool) -> None:
    page.goto(f"{story.base}/desk/batches/{story.lot_id}/inspections/new")
    page.select_option("#type", "supervision" if supervision else "commissioned")
    page.select_option("#lab_org_id", label=next(o for o in page.locator("#lab_org_id option").all_inner_texts()
                                                 if o.startswith(lab)))  # fmt: skip
    page.fill("#report_no", report_no)
    page.fill("#sampled_at", "2026-06-03T09:00")
    page.fill("#tested_at", "2026-06-04T15:00")
    row = page.locator("tr", has=page.locator('input[type=hidden][value="lead"]')).first
    row.locator('input[name$="-value"]').fill(lead)
    row.locator('input[name$="-unit"]').fill("毫克/千克")
    row.locator('input[name$="-method"]').fill("GB 5009.12-2023")


def test_a_failed_supervision_holds_a_retest_passes_and_the_release_frees_the_lots(story: Story):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport=SCREEN, locale="zh-CN").new_page()
            page.goto(f"{story.base}/login")
            page.fill("#username", story.username)
            page.fill("#password", PASSWORD)
            page.click("form button[type=submit]")
            page.wait_for_load_state()

            # The 监督抽检: lead 8 mg/kg in brick tea (GB 2762 limit 5 mg/kg), with its 抽样单.
            _report(page, story, report_no=f"RT-A-{story.tag}", lab=story.first_lab, lead="8", supervision=True)
            page.locator("details.sampling-fields").evaluate("d => d.open = true")
            for field, value in (("number", f"示例-RT-{story.tag}"), ("task_source", "2026年监督抽检计划（示例）"),
                                 ("place", "赤壁市赵李桥镇 成品库"), ("sampled_org_name", "赤壁示例茶厂"),
                                 ("sampling_base", "500 kg"), ("quantity", "2 kg"), ("sampler_1", "王建国"),
                                 ("sampler_2", "李秀英")):  # fmt: skip
                page.fill(f"#sampling-{field}", value)
            page.select_option("#sampling-stage", "production")
            page.fill("#notified_at", "2026-06-05T10:00")
            page.click("form.stack button[type=submit]")
            page.wait_for_url(f"**/desk/batches/{story.lot_id}")
            assert page.locator("[data-status]").first.get_attribute("data-status") == "on_hold"
            assert "暂停（待处置）" in page.locator("main").inner_text()
            hold = page.locator("#hold")
            assert hold.is_visible() and "铅" in hold.inner_text()
            assert _statuses(story) == ["on_hold", "on_hold", "on_hold"]  # the lot and both lots split from it

            # Released while it still fails: refused, in Chinese, and nothing changes.
            page.select_option("#disposition-kind", "released")
            page.fill("#disposition-note", "申请放行")
            page.click("#hold form button[type=submit]")
            page.wait_for_load_state()
            assert "复检" in page.locator("main").inner_text()
            assert _statuses(story) == ["on_hold", "on_hold", "on_hold"]

            # The 复检 by the other lab: lead 0.5 mg/kg, naming the report it re-tests.
            _report(page, story, report_no=f"RT-B-{story.tag}", lab=story.second_lab, lead="0.5", supervision=False)
            first = db.session.scalar(select(Inspection.id).where(Inspection.report_no == f"RT-A-{story.tag}"))
            db.session.rollback()
            page.select_option("#retest_of", str(first))
            page.click("form.stack button[type=submit]")
            page.wait_for_load_state()
            assert page.url.endswith(f"/desk/batches/{story.lot_id}"), page.locator("main").inner_text()[:600]
            page.wait_for_url(f"**/desk/batches/{story.lot_id}")
            reports = page.locator("#inspections").inner_text()
            assert f"RT-A-{story.tag}" in reports and f"RT-B-{story.tag}" in reports  # both stay on the record

            # Now the release is taken, and frees every lot held because of this one.
            page.select_option("#disposition-kind", "released")
            page.fill("#disposition-note", "复检合格，解除暂停")
            page.click("#hold form button[type=submit]")
            page.wait_for_load_state()
            assert "/dispositions" not in page.url, page.locator("main").inner_text()[:800]
            assert page.locator("#hold").count() == 0
            assert "在用" in page.locator("main").inner_text()
            assert _statuses(story) == ["active", "active", "active"]
            page.screenshot(path=str(Path(tempfile.gettempdir()) / "youpin-desk-retest-released.png"), full_page=True)

            # A 快检 with a positive result: no 合格/不合格, but a finding that asks for a laboratory test.
            _report(page, story, report_no=f"RT-K-{story.tag}", lab=story.first_lab, lead="2", supervision=False)
            page.select_option("#type", "rapid")
            page.click("form.stack button[type=submit]")
            page.wait_for_load_state()
            assert page.url.endswith(f"/desk/batches/{story.lot_id}"), page.locator("main").inner_text()[:600]
            findings = page.locator(".finding", has_text="快检阳性，需实验室检测")
            assert findings.count() == 1 and "铅" in findings.inner_text()
            assert _statuses(story) == ["active", "active", "active"]  # a screening test holds nothing
        finally:
            browser.close()
