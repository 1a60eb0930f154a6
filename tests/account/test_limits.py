"""Login limits: per client address and per account (429 with Retry-After, in the page's language or
the JSON error shape), a lockout that backs off, and password checks bounded per process.

They count in the app's limiter storage: Redis when REDIS_URL is set (CI), memory otherwise.
"""

from __future__ import annotations

import re
import time

import pytest

from app.account import limits
from tests.account.conftest import PASSWORD, sign_in, token_of
from tests.conftest import settle


def _post(client, username, password, address="10.1.1.1", lang="", **headers):
    path = "/login" + (f"?lang={lang}" if lang else "")
    token = token_of(client.get(path).get_data(as_text=True))
    return client.post(
        path,
        data={"username": username, "password": password, "csrf_token": token},
        environ_base={"REMOTE_ADDR": address},
        headers=headers,
    )


def _retry_after(response) -> int:
    return int(response.headers["Retry-After"])


def test_one_address_is_limited_whatever_the_names_it_tries(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ADDRESS", "6 per minute")
    for n in range(6):
        assert _post(client, f"nobody-{n}", "wrong-password", address="10.2.2.2").status_code == 401
    refused = _post(client, "nobody-7", "wrong-password", address="10.2.2.2")
    assert refused.status_code == 429 and 1 <= _retry_after(refused) <= 61
    assert "登录尝试过于频繁" in refused.get_data(as_text=True)
    english = _post(client, "nobody-8", "wrong-password", address="10.2.2.2", lang="en")
    assert english.status_code == 429 and "Too many sign-in attempts" in english.get_data(as_text=True)
    as_json = _post(client, "nobody-9", "wrong-password", address="10.2.2.2", Accept="application/json")
    body = as_json.get_json()
    assert as_json.status_code == 429 and body["code"] == 429 and body["status"] == "Too Many Requests"
    assert "Retry-After" in as_json.headers
    # Another address is not held up.
    assert _post(client, "nobody-10", "wrong-password", address="10.3.3.3").status_code == 401


def test_one_account_is_limited_from_any_address(client, app, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ACCOUNT", "3 per minute")
    user = make_user("inspector", password=PASSWORD)
    settle()
    for n in range(3):
        assert _post(client, user.username, PASSWORD, address=f"10.4.0.{n}").status_code == 302
    refused = _post(client, user.username.upper(), PASSWORD, address="10.4.0.9")
    assert refused.status_code == 429 and _retry_after(refused) >= 1


def test_five_wrong_passwords_lock_the_account_and_each_lockout_doubles(client, app, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_LOCKOUT_SECONDS", 1)
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ACCOUNT", "100 per minute")  # the lockout alone here
    user = make_user("farmer", password=PASSWORD)
    settle()
    for _ in range(5):
        assert _post(client, user.username, "wrong-password").status_code == 401
    locked = _post(client, user.username, PASSWORD)  # the right password, during the lockout
    assert locked.status_code == 429 and _retry_after(locked) == 1
    assert "登录失败次数过多" in locked.get_data(as_text=True)
    time.sleep(1.2)
    for _ in range(5):
        assert _post(client, user.username, "wrong-password").status_code == 401
    again = _post(client, user.username, PASSWORD)
    assert again.status_code == 429 and _retry_after(again) == 2  # backed off: twice as long
    time.sleep(2.2)
    assert _post(client, user.username, PASSWORD).status_code == 302  # and it opens again


def test_an_unknown_name_is_locked_like_a_real_one(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_LOCKOUT_SECONDS", 30)
    for _ in range(5):
        assert _post(client, "no-such-user", "wrong-password").status_code == 401
    locked = _post(client, "no-such-user", "wrong-password")
    assert locked.status_code == 429 and _retry_after(locked) == 30


def _shown(response) -> str:
    # The page as a person sees it: without the form's per-session token and the per-response nonce.
    html = re.sub(r'name="csrf_token" value="[^"]+"', "", response.get_data(as_text=True))
    return re.sub(r'nonce="[^"]+"', "", html)


@pytest.mark.parametrize("how", ["deactivated", "no password"])
def test_a_right_password_for_an_account_that_may_not_sign_in_gets_the_wrong_password_answer(client, make_user, how):
    may = make_user("inspector", password=PASSWORD, username="desk-may")
    may_not = make_user("inspector", password=PASSWORD if how == "deactivated" else None, username="desk-maynot")
    if how == "deactivated":
        may_not.is_active = False
    settle()
    wrong = _post(client, may.username, "not-the-password")
    refused = _post(client, may_not.username, PASSWORD)
    assert wrong.status_code == refused.status_code == 401
    assert _shown(wrong).replace(may.username, "NAME") == _shown(refused).replace(may_not.username, "NAME")
    assert client.get("/desk/batches").status_code == 302


def test_password_checks_wait_for_a_free_slot_and_refuse_after_a_second(client, app, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_CHECK_WAIT_SECONDS", 0.05)
    user = make_user("lab", password=PASSWORD)
    settle()
    with app.test_request_context(), limits.password_check():  # every slot of this process taken
        busy = _post(client, user.username, PASSWORD)
    assert busy.status_code == 429 and busy.headers["Retry-After"] == "1"
    assert "登录的人较多" in busy.get_data(as_text=True)
    assert sign_in(client, user.username).status_code == 302  # a slot free again: signed in
