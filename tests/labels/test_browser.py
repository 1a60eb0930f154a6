"""A unit's page in a real headless Chromium at a phone's size: scan, scratch off, type the PIN, see 正品.

Committed for real (the server thread has its own sessions) and deleted again afterwards, as in
tests/public/test_browser.py.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete, select
from werkzeug.serving import make_server

from app.db import db
from app.jobs.models import Job
from app.labels import runs
from app.labels.models import LabelRun, LabelRunFile, PinAttempt, Scan, Unit, UnitFlag
from tests.public.builders import build_journey, remove_journey

CHROMIUM = "/usr/bin/chromium"
PHONE = {"width": 360, "height": 740}
SCREENSHOT = Path(tempfile.gettempdir()) / "youpin-unit-verified-360.png"

pytestmark = [pytest.mark.browser, pytest.mark.committing]

if not Path(CHROMIUM).exists():
    if os.environ.get("REQUIRE_BROWSER") == "1":
        raise RuntimeError(f"REQUIRE_BROWSER=1 but {CHROMIUM} is missing: apt-get install chromium fonts-noto-cjk")
    pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium fonts-noto-cjk)", allow_module_level=True)

from playwright.sync_api import sync_playwright  # noqa: E402 - only once chromium is known present


def _remove_labels(batch_id: int) -> None:
    run_ids = select(LabelRun.id).where(LabelRun.batch_id == batch_id)
    unit_ids = select(Unit.id).where(Unit.batch_id == batch_id)
    job_ids = list(db.session.scalars(select(LabelRun.job_id).where(LabelRun.batch_id == batch_id)))
    for model, clause in ((UnitFlag, UnitFlag.unit_id.in_(unit_ids)), (Scan, Scan.unit_id.in_(unit_ids)),
                          (PinAttempt, PinAttempt.unit_id.in_(unit_ids)), (Unit, Unit.batch_id == batch_id),
                          (LabelRunFile, LabelRunFile.run_id.in_(run_ids)), (LabelRun, LabelRun.batch_id == batch_id),
                          (Job, Job.id.in_(job_ids))):  # fmt: skip
        db.session.execute(delete(model).where(clause))
    db.session.commit()


@pytest.fixture(scope="module")
def unit_site(app) -> Iterator[tuple[str, dict[str, str]]]:
    with app.app_context():
        saved, app.config["REDIS_URL"] = app.config.get("REDIS_URL"), None
        journey = build_journey()
        run = runs.create_run(journey.actor, journey.batch.id, 1, "zpl")
        _, table = runs.run_file(journey.actor, run.id, "csv")
        [unit] = csv.DictReader(io.StringIO(table.decode("utf-8-sig")))
        batch_id = journey.batch.id
        org_codes = [journey.household.code, journey.coop.code]
        db.session.commit()
        db.session.close()
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_port}", unit
        finally:
            server.shutdown()
            thread.join(timeout=10)
            server.server_close()
            _remove_labels(batch_id)
            remove_journey(org_codes)
            app.config["REDIS_URL"] = saved


def test_a_consumer_verifies_a_unit_on_a_phone(unit_site):
    base, unit = unit_site
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            phone = browser.new_context(viewport=PHONE, device_scale_factor=2, locale="zh-CN").new_page()
            response = phone.goto(f"{base}/u/{unit['serial']}")
            assert response is not None and response.status == 200
            assert phone.locator("#unit h2").inner_text() == "验证真伪"
            assert "此码尚未被验证过" in phone.locator("#unit-verifications").inner_text()
            assert "正品" not in phone.locator("#unit").inner_text()
            phone.fill("#pin", unit["pin"])
            phone.click("#verify-form button")
            phone.wait_for_load_state()
            result = phone.locator("#unit-result").inner_text()
            assert result.startswith("✓ 正品") and "第一次验证" in result
            scroll, width = phone.evaluate(
                "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
            )
            assert scroll <= width
            phone.screenshot(path=str(SCREENSHOT), full_page=True)
            # Scanned again and checked again: a warning, not a second "genuine".
            phone.goto(f"{base}/u/{unit['serial']}")
            assert "此码此前已被验证 1 次" in phone.locator("#unit-verifications").inner_text()
            phone.fill("#pin", unit["pin"])
            phone.click("#verify-form button")
            phone.wait_for_load_state()
            assert "首次验证" in phone.locator("#unit-result").inner_text()
        finally:
            browser.close()
