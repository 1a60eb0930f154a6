"""The office's pages and the dashboard's figures, through HTTP: sign in, onboard, read the log, drill down."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook
from sqlalchemy import select

from app.account import sessions
from app.db import db
from app.office import dashboard
from app.orgs import service as orgs
from app.orgs.models import User
from tests.conftest import settle, valid_credit_code
from tests.office.conftest import coop_row, household_row, roster_xlsx


def sign_in(client, user: User) -> str:
    settle()  # the user outlives a refused request's rollback
    sid = sessions.store().create(user.id)  # a server-side session, as /login makes
    settle()
    with client.session_transaction() as s:
        s["sid"] = sid
        s["csrf_token"] = "t"
    return "t"


def admin(make_user) -> User:
    return make_user("admin", username="office-admin")


def test_an_admin_signing_in_lands_on_the_dashboard(client, make_user):
    user = make_user("admin", username="office-login")
    user.password_hash = None
    settle()
    from app.office.service import _passwords

    user.password_hash = _passwords.hash("office-pass-2026")
    settle()
    client.get("/login")
    with client.session_transaction() as s:
        token = s["csrf_token"]
    response = client.post(
        "/login", data={"username": "office-login", "password": "office-pass-2026", "csrf_token": token}
    )
    assert response.status_code == 302 and response.headers["Location"].rstrip("/").endswith("/office")
    page = client.get("/office")
    assert page.status_code == 200 and "试点看板" in page.get_data(as_text=True)


def test_the_dashboard_needs_the_office(client, make_user):
    assert client.get("/office").status_code == 302  # to sign in
    sign_in(client, make_user("inspector"))
    assert client.get("/office").status_code == 403


def test_the_adoption_figure_counts_the_organizations_created_and_the_drill_down_lists_them(client, make_user, auth):
    headers = auth("admin")
    before = dashboard.summary()["adoption"]
    rows = [
        coop_row("DASH-COOP", 71_001, county="嘉鱼县", products="嘉鱼莲藕"),
        household_row("DASH-HH", "DASH-COOP", county="嘉鱼县"),
    ]
    body = {"file": (io.BytesIO(roster_xlsx(rows)), "r.xlsx")}
    assert (
        client.post(
            "/api/v1/organizations/import", headers=headers, data=body, content_type="multipart/form-data"
        ).status_code
        == 201
    )
    summary = client.get("/api/v1/office/summary", headers=headers).get_json()
    assert summary["adoption"]["enrolled"] == before["enrolled"] + 2
    assert summary["adoption"]["target"] == 200
    assert summary["adoption"]["by_county"]["嘉鱼县"] == before["by_county"]["嘉鱼县"] + 2
    assert summary["adoption"]["by_product"]["lotus_root"] == before["by_product"]["lotus_root"] + 1
    assert summary["adoption"]["by_kind"]["farm_household"] == before["by_kind"]["farm_household"] + 1
    assert summary["standards"]["local"]["target"] == 6 and summary["standards"]["group_enterprise"]["target"] == 70

    sign_in(client, make_user("admin"))
    page = client.get("/office").get_data(as_text=True)
    assert f"{summary['adoption']['enrolled']} <small>/ 200</small>" in page
    assert "echarts-6.1.0/echarts.common.min.js" in page
    drill = client.get("/office/drill/organizations?param=county&key=嘉鱼县").get_data(as_text=True)
    assert "DASH-COOP" in drill and "DASH-HH" in drill
    script = client.get("/office/static/echarts-6.1.0/echarts.common.min.js")
    assert script.status_code == 200 and b"echarts" in script.data[:2000].lower()
    script.close()

    as_csv = client.get("/office/drill/organizations.csv?param=county&key=嘉鱼县")
    assert as_csv.status_code == 200 and as_csv.data.startswith("\ufeff".encode())
    table = list(csv.reader(io.StringIO(as_csv.data.decode("utf-8-sig"))))
    assert table[0][0] == "编码" and {"DASH-COOP", "DASH-HH"} <= {r[0] for r in table[1:]}
    as_xlsx = client.get("/office/drill/organizations.xlsx?param=county&key=嘉鱼县")
    book = load_workbook(io.BytesIO(as_xlsx.data))
    codes = {row[0].value for row in book["数据"].iter_rows(min_row=2)}
    assert {"DASH-COOP", "DASH-HH"} <= codes
    assert book["说明"]["A2"].value == "数据截止（北京时间）"


def test_creating_and_editing_an_organization_is_checked_and_audited(client, make_user):
    token = sign_in(client, admin(make_user))
    bad = {"csrf_token": token, "code": "FORM-ENT", "name": "表单企业", "kind": "enterprise", "county": "赤壁市",
           "credit_code": valid_credit_code(72_001)[:17] + "Z"}  # fmt: skip
    response = client.post("/office/organizations/new", data=bad)
    assert response.status_code == 422
    assert "统一社会信用代码" in response.get_data(as_text=True) or "含有不允许的字符" in response.get_data(
        as_text=True
    )
    good = bad | {"credit_code": valid_credit_code(72_001), "products": ["brick_tea"]}
    created = client.post("/office/organizations/new", data=good)
    assert created.status_code == 302, created.headers
    org = orgs.get_org_by_code("FORM-ENT")
    assert client.post(f"/office/organizations/{org.id}", data=good | {"name": "改名企业"}).status_code == 302
    assert orgs.get_org_by_code("FORM-ENT").name == "改名企业"
    audit = client.get("/office/audit").get_data(as_text=True)
    assert "新建主体" in audit and "修改主体" in audit and "FORM-ENT" in audit


def test_a_user_gets_a_one_time_password_then_a_reset_then_is_deactivated(client, make_user, make_org, auth):
    token = sign_in(client, admin(make_user))
    org = make_org(kind="cooperative")
    response = client.post("/office/users/new", data={"csrf_token": token, "username": "new-coop-user", "org": org.code,
                                                      "role": "cooperative", "display_name": "社员"})  # fmt: skip
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    password = page.split('id="secret">')[1].split("<")[0]
    assert len(password) == 16
    assert orgs.check_password("new-coop-user", password) is not None
    user = db.session.scalar(select(User).where(User.username == "new-coop-user"))
    reset = client.post(f"/office/users/{user.id}/reset", data={"csrf_token": token}).get_data(as_text=True)
    new_password = reset.split('id="secret">')[1].split("<")[0]
    assert orgs.check_password("new-coop-user", password) is None
    assert orgs.check_password("new-coop-user", new_password) is not None
    headers = auth(user=user)
    assert client.get("/api/v1/batches", headers=headers).status_code == 200
    assert client.post(f"/office/users/{user.id}/deactivate", data={"csrf_token": token}).status_code == 302
    assert orgs.check_password("new-coop-user", new_password) is None
    assert client.get("/api/v1/batches", headers=headers).status_code == 401
    log = client.get("/office/audit").get_data(as_text=True)
    for action in ("新建用户", "重置密码", "停用用户"):
        assert action in log
    assert new_password not in log and password not in log


def test_a_form_without_the_session_token_is_refused(client, make_user):
    sign_in(client, admin(make_user))
    response = client.post("/office/organizations/new", data={"csrf_token": "wrong", "code": "X"})
    assert response.status_code == 400


def test_the_import_page_lists_every_bad_row(client, make_user):
    token = sign_in(client, admin(make_user))
    rows = [coop_row("PAGE-COOP", 73_001), household_row("PAGE-HH", "NO-SUCH")]
    body = {"csrf_token": token, "file": (io.BytesIO(roster_xlsx(rows)), "r.xlsx")}
    response = client.post("/office/organizations/import", data=body, content_type="multipart/form-data")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "未导入任何数据" in page and "第 3 行" in page and "所属合作社编码" in page


def test_the_office_pages_speak_english_by_the_same_switch(client, make_user):
    sign_in(client, admin(make_user))
    page = client.get("/office/?lang=en").get_data(as_text=True)
    assert "Pilot dashboard" in page and "Organizations enrolled" in page and "试点看板" not in page
    assert 'href="?lang=zh"' in page  # the switch back
    # The charts' options are built in the caller's language too.
    assert "By kind of organization" in page and "Farm household" in page
    english = client.get("/office/standards", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Register of standards" in english and "Approved for drafting" in english
    drill = client.get("/office/drill/organizations?lang=en").get_data(as_text=True)
    assert "Organizations in the pilot" in drill and "Unified social credit code" in drill
    for path in ("/office/organizations", "/office/users", "/office/audit", "/office/standards/coverage"):
        assert "咸宁优品溯源" not in client.get(f"{path}?lang=en").get_data(as_text=True).split("<main>")[0], path
    assert "试点看板" in client.get("/office/").get_data(as_text=True)  # Chinese when nothing says otherwise
