"""Organizations, users and tokens: the admin API, the credit code and bearer-token rules."""

from __future__ import annotations

import datetime as dt

import pytest

from app.db import db
from app.orgs import service
from app.orgs.credit_code import credit_code_error
from tests.conftest import valid_credit_code

# A real-format code: 91 (enterprise) 421200 (Xianning) + 9 characters + check character.
GOOD = valid_credit_code(123456789)


def test_credit_code_check_character():
    assert credit_code_error(GOOD) is None
    wrong_check = GOOD[:17] + ("0" if GOOD[17] != "0" else "1")
    assert "check character" in credit_code_error(wrong_check)
    assert "18 characters" in credit_code_error(GOOD[:17])
    assert credit_code_error("91421200MA4F0I0O0X") is not None  # I and O are not in the charset


def test_known_published_code_validates():
    # The check character of this widely published sample code (GB 32100 worked example shape).
    assert credit_code_error("91350100M000100Y43") is None


def test_admin_creates_and_lists_organizations(client, auth):
    headers = auth("admin")
    body = {
        "code": "TS-COOP",
        "name": "通山县大畈枇杷专业合作社",
        "kind": "cooperative",
        "county": "通山县",
        "credit_code": GOOD,
    }
    response = client.post("/api/v1/organizations", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["credit_code"] == GOOD
    listed = client.get("/api/v1/organizations", headers=headers).get_json()["items"]
    assert "TS-COOP" in [o["code"] for o in listed]


def test_bad_credit_code_names_the_field_and_stores_nothing(client, auth):
    headers = auth("admin")
    bad = GOOD[:17] + ("0" if GOOD[17] != "0" else "1")
    response = client.post(
        "/api/v1/organizations",
        json={"code": "BAD-CC", "name": "x", "kind": "enterprise", "credit_code": bad},
        headers=headers,
    )
    assert response.status_code == 422
    assert "check character" in response.get_json()["errors"]["json"]["credit_code"][0]
    listed = client.get("/api/v1/organizations", headers=headers).get_json()["items"]
    assert "BAD-CC" not in [o["code"] for o in listed]


def test_unknown_fields_are_refused(client, auth):
    response = client.post(
        "/api/v1/organizations",
        json={"code": "X1", "name": "x", "kind": "farm_household", "colour": "red"},
        headers=auth("admin"),
    )
    assert response.status_code == 422
    assert "colour" in response.get_json()["errors"]["json"]


def test_household_with_masked_id_belongs_to_a_cooperative(client, auth, make_org):
    coop = make_org(kind="cooperative")
    response = client.post(
        "/api/v1/organizations",
        json={
            "code": "HH-001",
            "name": "陈家",
            "kind": "farm_household",
            "masked_id": "4212**********123X",
            "cooperative": coop.code,
        },
        headers=auth("admin"),
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["cooperative"] == coop.code
    unmasked = client.post(
        "/api/v1/organizations",
        json={"code": "HH-002", "name": "李家", "kind": "farm_household", "masked_id": "421222199001011234"},
        headers=auth("admin"),
    )
    assert unmasked.status_code == 422
    assert "masked_id" in unmasked.get_json()["errors"]["json"]


def test_duplicate_code_is_a_conflict(client, auth, make_org):
    org = make_org()
    response = client.post(
        "/api/v1/organizations", json={"code": org.code, "name": "y", "kind": "farm_household"}, headers=auth("admin")
    )
    assert response.status_code == 409


def test_admin_creates_users_and_others_may_not(client, auth, make_org):
    org = make_org()
    created = client.post(
        "/api/v1/users", json={"username": "chen", "org": org.code, "role": "cooperative"}, headers=auth("admin")
    )
    assert created.status_code == 201
    assert created.get_json()["org"] == org.code
    assert "password" not in created.get_json()
    farmer = client.post(
        "/api/v1/users", json={"username": "li", "org": org.code, "role": "farmer"}, headers=auth("farmer")
    )
    assert farmer.status_code == 403
    assert "farmer" in farmer.get_json()["message"]
    users = client.get("/api/v1/users", headers=auth("admin")).get_json()["items"]
    assert any(u["username"] == "chen" for u in users)


@pytest.mark.parametrize("case", ["missing", "garbage", "revoked", "expired", "wrong_scheme"])
def test_bad_tokens_get_401(client, make_user, case):
    user = make_user("admin")
    token, secret = service.create_token(user.username)
    headers = {"Authorization": f"Bearer {secret}"}
    if case == "missing":
        headers = {}
    elif case == "garbage":
        headers = {"Authorization": "Bearer yt_not-a-real-token"}
    elif case == "revoked":
        service.revoke_token(token.id)
    elif case == "expired":
        token.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        db.session.flush()
    elif case == "wrong_scheme":
        headers = {"Authorization": f"Basic {secret}"}
    response = client.get("/api/v1/organizations", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.get_json()["code"] == 401


def test_tokens_are_stored_hashed(make_user):
    user = make_user("admin")
    token, secret = service.create_token(user.username)
    assert secret not in token.token_hash
    assert len(token.token_hash) == 64


def test_passwords_are_hashed_at_the_configured_argon2_cost(app, make_user, monkeypatch):
    user = make_user("inspector", password="a-long-password")
    assert user.password_hash.startswith("$argon2id$v=19$m=8,t=1,p=1$")  # the tests' own, low cost
    assert service.check_password(user.username, "a-long-password") == user
    monkeypatch.setitem(app.config, "PASSWORD_HASH_TIME_COST", 2)
    monkeypatch.setitem(app.config, "PASSWORD_HASH_MEMORY_COST", 16)
    assert make_user("inspector", password="a-long-password").password_hash.startswith("$argon2id$v=19$m=16,t=2,p=1$")
    # A hash keeps its own cost, so a change of cost does not lock anyone out.
    assert service.check_password(user.username, "a-long-password") == user


def test_cli_creates_org_user_and_token(app, tmp_path):
    runner = app.test_cli_runner()
    code = valid_credit_code(777)
    result = runner.invoke(
        args=[
            "orgs",
            "create",
            "CLI-ORG",
            "--name",
            "赤壁茶厂",
            "--kind",
            "processor",
            "--county",
            "赤壁市",
            "--credit-code",
            code,
        ]
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["users", "create", "cli_user", "--org", "CLI-ORG", "--role", "processor"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["tokens", "create", "cli_user", "--expires-days", "7"])
    assert result.exit_code == 0, result.output
    secret = result.output.strip().splitlines()[-1]
    assert secret.startswith("yt_") and " " not in secret
    client = app.test_client()
    products = client.get("/api/v1/organizations", headers={"Authorization": f"Bearer {secret}"})
    assert products.status_code == 403  # a processor is authenticated, but not an admin
    bad = runner.invoke(
        args=["orgs", "create", "CLI-BAD", "--name", "x", "--kind", "processor", "--credit-code", "123"]
    )
    assert bad.exit_code != 0
    assert "credit_code" in bad.output
