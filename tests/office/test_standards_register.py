"""The office's register of standards: stage (立项, 征求意见, 发布, 备案) and dates, counted by the dashboard."""

from __future__ import annotations

from app.office import dashboard
from tests.office.test_pages import sign_in

LOCAL = {
    "code": "DB4212/T 9001-2026",
    "title": "通山枇杷 生产技术规程",
    "level": "local",
    "products": ["loquat"],
    "stage": "proposed",
    "proposed_on": "2026-03-01",
}


def test_a_local_standard_registered_at_its_stage_counts_and_moves_on(client, auth):
    headers = auth("admin")
    before = dashboard.summary()["standards"]
    created = client.post("/api/v1/office/standards", json=LOCAL, headers=headers)
    assert created.status_code == 201, created.get_json()
    record = created.get_json()
    assert record["stage"] == "proposed" and record["proposed_on"] == "2026-03-01" and record["published_on"] is None

    after = client.get("/api/v1/office/summary", headers=headers).get_json()["standards"]
    assert after["local"]["count"] == before["local"]["count"] + 1
    assert after["by_stage"]["local"]["proposed"] == before["by_stage"]["local"]["proposed"] + 1
    assert after["by_product_stage"]["loquat"]["proposed"] == before["by_product_stage"]["loquat"]["proposed"] + 1

    # Published without the date of publication: refused, naming the field; nothing changes.
    refused = client.patch(f"/api/v1/office/standards/{record['id']}", json={"stage": "published"}, headers=headers)
    assert refused.status_code == 422 and "published_on" in refused.get_json()["errors"]["json"]
    moved = client.patch(
        f"/api/v1/office/standards/{record['id']}",
        json={"stage": "published", "published_on": "2026-06-01", "consultation_on": "2026-04-10"},
        headers=headers,
    )
    assert moved.status_code == 200 and moved.get_json()["stage"] == "published"
    later = client.get("/api/v1/office/summary", headers=headers).get_json()["standards"]
    assert later["local"]["count"] == after["local"]["count"]  # the same standard, counted once
    assert later["by_stage"]["local"]["published"] == after["by_stage"]["local"]["published"] + 1
    assert later["by_stage"]["local"]["proposed"] == after["by_stage"]["local"]["proposed"] - 1
    log = client.get("/api/v1/office/audit?action=standard.update", headers=headers).get_json()["items"]
    assert log[0]["target"] == LOCAL["code"] and log[0]["details"]["changed"]["stage"] == "published"


def test_a_code_that_does_not_fit_its_level_or_dates_out_of_order_are_refused(client, auth):
    headers = auth("admin")
    wrong_prefix = client.post("/api/v1/office/standards", json=LOCAL | {"code": "T/XNYP 9001-2026"}, headers=headers)
    assert wrong_prefix.status_code == 422 and "code" in wrong_prefix.get_json()["errors"]["json"]
    backwards = LOCAL | {
        "code": "DB4212/T 9002-2026", "stage": "consultation", "consultation_on": "2026-02-01",
    }  # fmt: skip
    assert client.post("/api/v1/office/standards", json=backwards, headers=headers).status_code == 422
    future = LOCAL | {"code": "DB4212/T 9003-2026", "proposed_on": "2099-01-01"}
    assert client.post("/api/v1/office/standards", json=future, headers=headers).status_code == 422
    filed = LOCAL | {"code": "Q/XNYP 9004S-2026", "level": "enterprise", "stage": "filed", "filed_on": "2026-05-01"}
    no_number = client.post("/api/v1/office/standards", json=filed, headers=headers)
    assert no_number.status_code == 422 and "filing_no" in no_number.get_json()["errors"]["json"]
    listed = client.get("/api/v1/office/standards", headers=headers).get_json()["items"]
    assert not {"DB4212/T 9002-2026", "DB4212/T 9003-2026", "Q/XNYP 9004S-2026"} & {r["code"] for r in listed}
    assert client.post("/api/v1/office/standards", json=LOCAL, headers=auth("cooperative")).status_code == 403


def test_a_national_standard_proposed_counts_toward_its_target(client, auth):
    headers = auth("admin")
    proposal = {
        "code": "建议-青砖茶-2026", "title": "青砖茶 国家标准（建议稿）", "level": "national",
        "products": ["brick_tea"], "stage": "proposed", "proposed_on": "2026-04-01",
    }  # fmt: skip
    before = dashboard.summary()["standards"]["national_proposed"]["count"]
    assert client.post("/api/v1/office/standards", json=proposal, headers=headers).status_code == 201
    after = client.get("/api/v1/office/summary", headers=headers).get_json()["standards"]["national_proposed"]
    assert after == {"target": 1, "count": before + 1}


def test_the_register_page_registers_lists_and_edits_the_stage(client, make_user):
    token = sign_in(client, make_user("admin"))
    bad = client.post(
        "/office/standards",
        data={"csrf_token": token, "code": "T/XN 9100-2026", "title_zh": "赤壁青砖茶 加工规范", "level": "group",
              "products": "brick_tea", "stage": "proposed", "proposed_on": "2026-13-40"},
    )  # fmt: skip
    assert bad.status_code == 422 and "日期格式应为" in bad.get_data(as_text=True)
    good = client.post(
        "/office/standards",
        data={"csrf_token": token, "code": "T/XN 9100-2026", "title_zh": "赤壁青砖茶 加工规范", "level": "group",
              "products": "brick_tea", "stage": "proposed", "proposed_on": "2026-02-01"},
    )  # fmt: skip
    assert good.status_code == 302
    page = client.get("/office/standards").get_data(as_text=True)
    assert "T/XN 9100-2026" in page and "立项" in page
    drill = client.get("/office/drill/standards?param=product&key=brick_tea").get_data(as_text=True)
    assert "T/XN 9100-2026" in drill and "试点办登记" in drill
