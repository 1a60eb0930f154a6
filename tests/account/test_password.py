"""A signed-in user changes their own password; a one-time password forces a change first."""

from __future__ import annotations

import pytest

from app.auth import Actor
from app.office import service as office
from app.orgs import service as orgs
from tests.account.conftest import PASSWORD, sign_in, token_of
from tests.conftest import settle

NEW = "loquat-orchard-2026-spring"


def _change(client, current, new, repeat=None, lang=""):
    path = "/account/password" + (f"?lang={lang}" if lang else "")
    token = token_of(client.get(path).get_data(as_text=True))
    data = {"current_password": current, "new_password": new, "repeat_password": new if repeat is None else repeat}
    return client.post(path, data={**data, "csrf_token": token})


def test_a_user_changes_their_password_and_the_old_one_stops_working(app, client, make_user):
    user = make_user("farmer", password=PASSWORD, username="wang-2026")
    settle()
    other = app.test_client()  # the same user on another phone
    assert sign_in(other, user.username).status_code == 302
    assert sign_in(client, user.username).status_code == 302
    page = client.get("/field/").get_data(as_text=True)
    assert 'href="/account/password"' in page  # the way there, beside sign-out
    changed = _change(client, PASSWORD, NEW)
    assert changed.status_code == 302 and changed.headers["Location"] == "/field/"
    assert "密码已修改" in client.get("/field/").get_data(as_text=True)
    # The other phone's session ended with the old password; this one goes on.
    assert other.get("/field/").status_code == 302
    client.post("/logout", data={"csrf_token": token_of(client.get("/field/").get_data(as_text=True))})
    assert sign_in(client, user.username, PASSWORD).status_code == 401
    assert sign_in(client, user.username, NEW).status_code == 302


@pytest.mark.parametrize(
    ("current", "new", "repeat", "field", "zh", "en"),
    [
        ("wrong-password", NEW, None, "current_password", "当前密码不正确", "The current password is not right"),
        (PASSWORD, "short-one", None, "new_password", "至少 12 个字符", "at least 12 characters"),
        (PASSWORD, "password1234", None, "new_password", "太常见", "too common"),
        (PASSWORD, "my-name-is-chen-li", None, "new_password", "不能包含用户名", "must not contain the username"),
        (PASSWORD, PASSWORD, None, "new_password", "不能与当前密码相同", "must differ from the current one"),
        (PASSWORD, NEW, NEW + "x", "repeat_password", "两次输入的新密码不一致", "The two new passwords differ"),
    ],
)
def test_a_refused_change_names_the_field_in_the_pages_language_and_changes_nothing(
    client, make_user, current, new, repeat, field, zh, en
):
    user = make_user("inspector", password=PASSWORD, username="chen-li")
    settle()
    sign_in(client, user.username)
    refused = _change(client, current, new, repeat)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and f'id="{field}-error"' in page and zh in page
    english = _change(client, current, new, repeat, lang="en")
    assert english.status_code == 422 and en in english.get_data(as_text=True)
    client.post("/logout", data={"csrf_token": token_of(client.get("/desk/batches").get_data(as_text=True))})
    assert sign_in(client, user.username, PASSWORD).status_code == 302  # the password is as it was


def test_the_password_page_asks_to_sign_in_first(client):
    response = client.get("/account/password")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=/account/password")


def test_an_office_one_time_password_forces_a_change_before_anything_else(client, make_user, auth):
    admin = make_user("admin", password=PASSWORD)
    inspector = make_user("inspector", password=PASSWORD)
    settle()
    one_time = office.reset_password(Actor(admin, admin.organization), inspector)
    settle()
    assert sign_in(client, inspector.username, PASSWORD).status_code == 401  # the old one is gone
    first = sign_in(client, inspector.username, one_time)
    assert first.status_code == 302 and first.headers["Location"] == "/account/password"
    for elsewhere in ("/desk/batches", "/office/", "/field/", "/desk/batches/1"):
        held = client.get(elsewhere)
        assert held.status_code == 302 and held.headers["Location"] == "/account/password", elsewhere
    page = client.get("/account/password").get_data(as_text=True)
    assert "您正在使用临时密码登录" in page and "临时密码" in page
    assert client.get("/t/not-a-code").status_code == 404  # public pages stay public
    done = _change(client, one_time, NEW)
    assert done.status_code == 302 and done.headers["Location"] == "/desk/batches"
    assert client.get("/desk/batches").status_code == 200
    assert orgs.check_password(inspector.username, NEW) is not None


def test_a_user_the_office_creates_sets_their_own_password_at_first_sign_in(client, make_user):
    admin = make_user("admin", password=PASSWORD)
    org = make_user("farmer").organization
    settle()
    user, one_time = office.create_user(Actor(admin, admin.organization), username="new-household", org_code=org.code,
                                        role="farmer")  # fmt: skip
    settle()
    assert user.must_change_password is True
    assert sign_in(client, "new-household", one_time).headers["Location"] == "/account/password"
    assert _change(client, one_time, NEW).headers["Location"] == "/field/"
