"""The password pages in a real headless Chromium at a phone's size (360 x 740), in Chinese first.

A household signs in with the first password its cooperative handed over, is held on the password
page, sets its own, and lands in the field app. The app runs in a werkzeug server thread, so the
data is committed for real (``committing``) and deleted again afterwards. Screenshot to look at by
eye: /tmp/youpin-account-360-password.png.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import delete, select
from werkzeug.serving import make_server

from app.account.models import WebSession
from app.db import db
from app.orgs import service as orgs
from app.orgs.models import Organization, User
from tests.field.test_browser import PHONE, SHOTS, browser, fits_a_phone, phone  # noqa: F401 - fixtures

pytestmark = [pytest.mark.browser, pytest.mark.committing]
FIRST = "first-password-42"
OWN = "my-own-loquat-orchard-2026"


@pytest.fixture(scope="module")
def base(app) -> Iterator[tuple[str, str]]:
    suffix = dt.datetime.now(dt.UTC).strftime("%H%M%S%f")
    org = orgs.create_organization(code=f"PW-{suffix}", name="浏览器测试农户", kind="farm_household", county="通山县")
    user = orgs.create_user(username=f"pw-{suffix}", org_code=org.code, role="farmer", password=FIRST)
    user.must_change_password = True
    username = user.username
    db.session.commit()
    db.session.close()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", username
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        user_ids = select(User.id).where(User.username == username)
        db.session.execute(delete(WebSession).where(WebSession.user_id.in_(user_ids)))
        db.session.execute(delete(User).where(User.username == username))
        db.session.execute(delete(Organization).where(Organization.code == f"PW-{suffix}"))
        db.session.commit()


def test_a_first_password_leads_to_the_password_page_which_fits_a_phone(base, phone):  # noqa: F811
    url, username = base
    phone.goto(f"{url}/login")
    phone.fill("#username", username)
    phone.fill("#password", FIRST)
    phone.click("button[type=submit]")
    phone.wait_for_url("**/account/password")
    assert phone.locator("h1").inner_text() == "设置新密码"
    fits_a_phone(phone)
    phone.goto(f"{url}/field/")  # nothing else opens yet
    assert phone.url.endswith("/account/password")
    phone.fill("#current_password", FIRST)
    phone.fill("#new_password", "short")
    phone.fill("#repeat_password", "short")
    phone.evaluate("document.querySelector('#new_password').removeAttribute('minlength')")
    phone.click("form.stack button[type=submit]")
    assert "至少 12 个字符" in phone.locator("#new_password-error").inner_text()
    fits_a_phone(phone)
    phone.screenshot(path=str(SHOTS / "youpin-account-360-password.png"), full_page=True)
    phone.fill("#current_password", FIRST)
    phone.fill("#new_password", OWN)
    phone.fill("#repeat_password", OWN)
    phone.click("form.stack button[type=submit]")
    phone.wait_for_url("**/field/")
    assert "密码已修改" in phone.content()
