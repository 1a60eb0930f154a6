"""A cooperative adds a member household, and a user for it when it has a phone."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from app.db import db
from app.orgs.models import Organization, User
from tests.field.conftest import post_form, sign_in


def test_a_household_with_a_phone_gets_an_account_that_signs_in(signed_in, coop, client):
    signed_in(coop.user)
    response = post_form(
        client,
        "/field/members/new",
        {"name": "大畈镇白泉村 李四", "masked_id": "421224********0011", "phone": "13900001111"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "已添加：大畈镇白泉村 李四" in page
    household = db.session.scalar(select(Organization).where(Organization.name == "大畈镇白泉村 李四"))
    assert household.kind == "farm_household" and household.cooperative_id == coop.org.id
    assert household.masked_id == "421224********0011"
    user = db.session.scalar(select(User).where(User.username == "13900001111"))
    assert user.organization_id == household.id and user.role == "farmer"
    password = re.search(r'id="one-time-password">([^<]+)<', page)[1]
    client.post("/logout", data={"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', page)[1]})
    # A first password: the farmer sets one of their own before anything else opens.
    assert sign_in(client, "13900001111", password).headers["Location"] == "/account/password"
    assert client.get("/field/").headers["Location"] == "/account/password"
    form = client.get("/account/password").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)[1]
    own = "白泉村枇杷园-2026-李四"
    new = {"current_password": password, "new_password": own, "repeat_password": own}
    assert client.post("/account/password", data={**new, "csrf_token": token}).headers["Location"] == "/field/"
    assert client.get("/field/").status_code == 200
    # ...and the cooperative can now log batches for it.
    client.post(
        "/logout",
        data={
            "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', client.get("/field/").get_data(as_text=True))[
                1
            ]
        },
    )
    sign_in(client, coop.user.username)
    assert "大畈镇白泉村 李四" in client.get("/field/batches/new").get_data(as_text=True)


def test_a_household_without_a_phone_and_refusals(signed_in, coop, client, make_user):
    signed_in(coop.user)
    before = db.session.scalar(select(func.count(Organization.id)))
    refused = post_form(client, "/field/members/new", {"name": "", "masked_id": "421224199001010011", "phone": "123"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "农户姓名：必填" in page and "手机号：请填写 11 位手机号" in page
    whole_id = post_form(client, "/field/members/new", {"name": "张三", "masked_id": "421224199001010011"})
    assert whole_id.status_code == 422 and "身份证号（只留首尾）：" in whole_id.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Organization.id))) == before
    assert post_form(client, "/field/members/new", {"name": "张三"}).status_code == 200
    assert db.session.scalar(select(func.count(User.id)).where(User.display_name == "张三")) == 0
    farmer = make_user("farmer", password="desk-password-1")
    client.post(
        "/logout",
        data={
            "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', client.get("/field/").get_data(as_text=True))[
                1
            ]
        },
    )
    sign_in(client, farmer.username)
    assert client.get("/field/members/new").status_code == 403
