"""The inspector's desk through the test client: login, CSRF, roles, the batch list, a batch page,
the PDF, closing a finding, and recording an inspection (success and refusal)."""

from __future__ import annotations

import datetime as dt
import io
import re

from pypdf import PdfReader
from sqlalchemy import func, select

from app.batches.models import Batch, Event
from app.clock import CHINA_TZ as CST
from app.compliance.models import Finding, Inspection
from app.db import db
from tests.compliance.factories import add_event, new_batch, post_inspection
from tests.web.conftest import PASSWORD, csrf_from, sign_in

LEAD_FAIL = [{"parameter": "lead", "value": "8", "unit": "mg/kg"}]


def _lots(html: str) -> set[str]:
    return set(re.findall(r'data-lot="([^"]+)"', html))


# --- login, CSRF, roles ---------------------------------------------------------------------------


def test_sign_in_and_out(client, inspector):
    page = client.get("/login")
    assert page.status_code == 200 and "<h1>登录</h1>" in page.get_data(as_text=True)
    wrong = sign_in(client, inspector.username, "not-the-password")
    assert wrong.status_code == 401 and "用户名或密码不正确" in wrong.get_data(as_text=True)
    response = sign_in(client, inspector.username)
    assert response.status_code == 302 and response.headers["Location"].endswith("/desk/batches")
    listing = client.get("/desk/batches")
    assert listing.status_code == 200 and "批次" in listing.get_data(as_text=True)
    token = csrf_from(listing.get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    after = client.get("/desk/batches")
    assert after.status_code == 302 and "/login?next=/desk/batches" in after.headers["Location"]


def test_sign_in_returns_to_the_page_asked_for_but_never_off_site(client, inspector):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    form = {
        "username": inspector.username,
        "password": PASSWORD,
        "csrf_token": token,
        "next": "/desk/batches?product=loquat",
    }
    assert client.post("/login", data=form).headers["Location"].endswith("/desk/batches?product=loquat")
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/desk/batches").get_data(as_text=True))})
    token = csrf_from(client.get("/login").get_data(as_text=True))
    form = {**form, "csrf_token": token, "next": "//evil.example/phish"}
    assert client.post("/login", data=form).headers["Location"].endswith("/desk/batches")


def test_forms_without_the_session_token_are_refused(client, inspector):
    client.get("/login")
    response = client.post("/login", data={"username": inspector.username, "password": PASSWORD})
    assert response.status_code == 400
    response = client.post(
        "/login", data={"username": inspector.username, "password": PASSWORD, "csrf_token": "forged"}
    )
    assert response.status_code == 400
    assert client.get("/desk/batches").status_code == 302  # not signed in


def test_only_inspectors_the_lab_and_admins_use_the_desk(client, make_user, auth):
    farmer = make_user("farmer", password=PASSWORD)
    response = sign_in(client, farmer.username)
    # A farmer signs in to the field app (tests/field), and the desk stays closed to them.
    assert response.status_code == 302 and response.headers["Location"].endswith("/field/")
    refused = client.get("/desk/batches")
    assert refused.status_code == 403 and "仅供检查员、检测中心和管理员使用" in refused.get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/field/").get_data(as_text=True))})
    lab = make_user("lab", password=PASSWORD)
    assert sign_in(client, lab.username).headers["Location"].endswith("/desk/batches")
    assert client.get("/desk/batches").status_code == 200
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/desk/batches").get_data(as_text=True))})
    # A bearer token of another role is refused too.
    assert client.get("/desk/batches", headers=auth("cooperative")).status_code == 403
    admin = make_user("admin", password=PASSWORD)
    assert sign_in(client, admin.username).status_code == 302
    assert client.get("/desk/batches").status_code == 200


# --- the batch list and a batch -------------------------------------------------------------------


def test_batches_filter_by_product_county_and_verdict(desk, make_user, make_org, auth):
    tea_coop = make_user("cooperative", org=make_org(kind="cooperative", county="赤壁市"))
    loquat_coop = make_user("cooperative", org=make_org(kind="cooperative", county="通山县"))
    tea_failed = new_batch(tea_coop, "brick_tea")
    tea_untested = new_batch(tea_coop, "brick_tea")
    loquat = new_batch(loquat_coop, "loquat")
    assert post_inspection(desk, auth("inspector"), tea_failed.id, LEAD_FAIL).status_code == 201

    def lots(query):
        response = desk.get(f"/desk/batches{query}")
        assert response.status_code == 200
        return _lots(response.get_data(as_text=True)) & {tea_failed.lot_code, tea_untested.lot_code, loquat.lot_code}

    assert lots("") == {tea_failed.lot_code, tea_untested.lot_code, loquat.lot_code}
    assert lots("?product=loquat") == {loquat.lot_code}
    assert lots("?county=赤壁市") == {tea_failed.lot_code, tea_untested.lot_code}
    assert lots("?verdict=fail") == {tea_failed.lot_code}
    assert lots("?verdict=incomplete&county=赤壁市") == {tea_untested.lot_code}
    assert lots("?product=loquat&verdict=fail") == set()
    page = desk.get("/desk/batches").get_data(as_text=True)
    assert "通山县" in page and "不合格" in page


def test_a_batch_page_shows_clauses_chain_findings_and_closes_a_finding(desk, make_user, auth):
    coop = make_user("cooperative")
    batch = new_batch(coop, "brick_tea")
    assert post_inspection(desk, auth("inspector"), batch.id, LEAD_FAIL).status_code == 201
    finding = db.session.scalar(select(Finding).where(Finding.batch_id == batch.id))
    page = desk.get(f"/desk/batches/{batch.id}").get_data(as_text=True)
    assert batch.lot_code in page
    assert 'data-standard="GB 19965-2005"' in page and "暂定" in page  # fluoride's provisional limit
    assert 'data-parameter="lead" data-standard="GB 2762-2022"' in page
    assert "完整：共 3 条记录" in page  # created, inspection, and the hold the failed lead caused
    assert f'id="finding-{finding.id}"' in page and "等待持有者记录整改措施" in page
    assert f"/desk/batches/{batch.id}/compliance.pdf" in page

    # The custodian records its action (API); the inspector verifies and closes it on the desk.
    acted = desk.post(f"/api/v1/findings/{finding.id}/actions", json={"note": "整批下架"}, headers=auth(user=coop))
    assert acted.status_code == 201
    page = desk.get(f"/desk/batches/{batch.id}").get_data(as_text=True)
    assert f'action="/desk/findings/{finding.id}/close"' in page
    token = csrf_from(page)
    closed = desk.post(f"/desk/findings/{finding.id}/close", data={"note": "复检合格", "csrf_token": token})
    assert closed.status_code == 302
    db.session.refresh(finding)
    assert finding.status == "closed"
    page = desk.get(f"/desk/batches/{batch.id}").get_data(as_text=True)
    assert "问题已核查关闭" in page and 'data-status="closed"' in page


def test_the_pdf_is_served_to_the_signed_in_inspector(desk, client, make_user):
    batch = new_batch(make_user("cooperative"), "brick_tea")
    response = desk.get(f"/desk/batches/{batch.id}/compliance.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = "".join(PdfReader(io.BytesIO(response.data)).pages[0].extract_text().split())
    assert batch.lot_code in text and "检测不全INCOMPLETE" in text


# --- recording an inspection ------------------------------------------------------------------------


def _form_for(desk, batch):
    page = desk.get(f"/desk/batches/{batch.id}/inspections/new")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    rows = {p: int(i) for i, p in re.findall(r'name="results-(\d+)-parameter" value="([^"]*)"', html) if p}
    count = int(re.search(r'name="row_count" value="(\d+)"', html).group(1))
    return html, rows, count


def _base_form(html, count, **fields):
    form = {
        "csrf_token": csrf_from(html),
        "row_count": str(count),
        "report_no": "XN-DESK-1",
        "lab": "咸宁市农产品质量检测中心",
        "sampled_at": "2026-06-01T09:30",
        "tested_at": "2026-06-02T16:00",
    }
    form.update(fields)
    return form


def test_recording_an_inspection_from_the_form(desk, make_user):
    batch = new_batch(make_user("cooperative"), "brick_tea")
    html, rows, count = _form_for(desk, batch)
    assert {"fluoride", "lead", "pesticide.imidacloprid"} <= set(rows)  # the batch's parameters, prefilled
    blank = count - 1  # a blank row for a parameter not prefilled
    form = _base_form(
        html, count,
        **{
            f"results-{rows['fluoride']}-parameter": "fluoride", f"results-{rows['fluoride']}-value": "180",
            f"results-{rows['fluoride']}-unit": "mg/kg",
            f"results-{rows['lead']}-parameter": "lead", f"results-{rows['lead']}-not_detected": "1",
            f"results-{rows['lead']}-lod": "20", f"results-{rows['lead']}-unit": "µg/kg",
            f"results-{blank}-parameter": "pesticide.glyphosate", f"results-{blank}-value": "0.2",
            f"results-{blank}-unit": "mg/kg",
        },
    )  # fmt: skip
    response = desk.post(f"/desk/batches/{batch.id}/inspections/new", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    inspection = db.session.scalar(select(Inspection).where(Inspection.batch_id == batch.id))
    assert inspection.report_no == "XN-DESK-1"
    # The form's times are Beijing time.
    assert inspection.sampled_at.isoformat() == "2026-06-01T01:30:00+00:00"
    stored = {r.parameter_key: r for r in inspection.results}
    assert set(stored) == {"fluoride", "lead", "pesticide.glyphosate"}  # empty rows were not tested
    assert stored["lead"].not_detected and stored["lead"].lod == 20 and stored["lead"].unit == "µg/kg"
    page = desk.get(f"/desk/batches/{batch.id}").get_data(as_text=True)
    assert "检测报告已记录" in page and "XN-DESK-1" in page


def test_a_wrong_row_is_shown_in_place_and_nothing_is_stored(desk, make_user):
    batch = new_batch(make_user("cooperative"), "brick_tea")
    html, rows, count = _form_for(desk, batch)
    lead = rows["lead"]
    form = _base_form(
        html, count,
        **{
            f"results-{rows['fluoride']}-parameter": "fluoride", f"results-{rows['fluoride']}-value": "180",
            f"results-{rows['fluoride']}-unit": "mg/kg",
            f"results-{lead}-parameter": "lead", f"results-{lead}-value": "1", f"results-{lead}-unit": "CFU/g",
        },
    )  # fmt: skip
    response = desk.post(f"/desk/batches/{batch.id}/inspections/new", data=form)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'id="err-results-{lead}-unit"' in page and "CFU/g" in page
    assert 'value="XN-DESK-1"' in page and 'value="180"' in page  # what was typed is kept
    assert db.session.scalar(select(func.count()).select_from(Inspection).where(Inspection.batch_id == batch.id)) == 0
    assert db.session.scalar(select(func.count()).select_from(Event).where(Event.batch_id == batch.id)) == 1  # created
    assert db.session.get(Batch, batch.id).head_seq == 1

    missing = _base_form(html, count, report_no="", sampled_at="")
    missing[f"results-{lead}-parameter"] = "lead"
    missing[f"results-{lead}-value"] = "abc"
    missing[f"results-{lead}-unit"] = "mg/kg"
    response = desk.post(f"/desk/batches/{batch.id}/inspections/new", data=missing)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="err-sampled_at"' in page
    # Once the times are right, the schema's own errors land on their fields too.
    missing["sampled_at"] = "2026-06-01T09:30"
    page = desk.post(f"/desk/batches/{batch.id}/inspections/new", data=missing).get_data(as_text=True)
    assert 'id="err-report_no"' in page and f'id="err-results-{lead}-value"' in page

    no_results = _base_form(html, count)
    response = desk.post(f"/desk/batches/{batch.id}/inspections/new", data=no_results)
    assert response.status_code == 422 and "至少填写一项检测结果" in response.get_data(as_text=True)
    del no_results["csrf_token"]
    assert desk.post(f"/desk/batches/{batch.id}/inspections/new", data=no_results).status_code == 400


def test_the_list_counts_the_findings_the_facts_call_for(desk, make_user):
    coop = make_user("cooperative")
    batch = new_batch(coop, "loquat")
    spray = {"kind": "pesticide", "name": "多菌灵", "dose": "50", "dose_unit": "mL/亩",
             "applied_at": "2026-04-01T08:00:00+08:00", "phi_days": 21}  # fmt: skip
    add_event(batch, coop, "planting", dt.datetime(2026, 4, 1, 8, tzinfo=CST), {"inputs": [spray]})
    add_event(batch, coop, "harvest", dt.datetime(2026, 4, 12, 8, tzinfo=CST), {"quantity": "300", "unit": "kg"})
    # Nobody has opened the batch yet: the list itself judges it and counts the interval breach.
    page = desk.get("/desk/batches?product=loquat&verdict=fail").get_data(as_text=True)
    assert f'data-lot="{batch.lot_code}" data-open-findings="1"' in page
    page = desk.get(f"/desk/batches/{batch.id}").get_data(as_text=True)
    assert "提前 10 天采收" in page and "未过安全间隔期采收" in page
