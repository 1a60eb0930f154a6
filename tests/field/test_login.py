"""/login serves every role, and each lands on its own home."""

from __future__ import annotations

import pytest

from tests.field.conftest import PASSWORD, csrf_from, sign_in


@pytest.mark.parametrize(
    ("role", "home"),
    [
        ("farmer", "/field/"),
        ("cooperative", "/field/"),
        ("processor", "/field/"),
        ("logistics", "/field/"),
        ("retailer", "/field/"),
        ("inspector", "/desk/batches"),
        ("admin", "/office/"),
        ("lab", "/desk/batches"),
    ],
)
def test_each_role_lands_on_its_home(client, make_user, role, home):
    user = make_user(role, password=PASSWORD)
    response = sign_in(client, user.username)
    assert response.status_code == 302
    assert response.headers["Location"] == home
    assert client.get(home).status_code == 200


def test_the_field_app_asks_to_sign_in_and_returns_there(client, coop):
    response = client.get("/field/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=/field/")
    token = csrf_from(client.get("/login").get_data(as_text=True))
    form = {"username": coop.user.username, "password": PASSWORD, "csrf_token": token, "next": "/field/batches/new"}
    assert client.post("/login", data=form).headers["Location"] == "/field/batches/new"


def test_desk_roles_are_refused_in_the_field_app_in_the_page_language(client, make_user):
    inspector = make_user("inspector", password=PASSWORD)
    sign_in(client, inspector.username)
    page = client.get("/field/")
    assert page.status_code == 403 and "田间记录仅供农户、合作社和经营主体使用" in page.get_data(as_text=True)
    english = client.get("/field/?lang=en")
    assert english.status_code == 403
    assert "for farm households, cooperatives and businesses" in english.get_data(as_text=True)


def test_a_wrong_password_is_still_refused(client, coop):
    assert sign_in(client, coop.user.username, "wrong").status_code == 401
    assert client.get("/field/").status_code == 302


def test_the_english_switch_is_kept_through_sign_in(client, coop):
    token = csrf_from(client.get("/login?lang=en").get_data(as_text=True))
    response = client.post(
        "/login?lang=en", data={"username": coop.user.username, "password": PASSWORD, "csrf_token": token}
    )
    assert response.headers["Location"] == "/field/?lang=en"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "My batches" in page and 'href="/field/batches/new?lang=en"' in page
