"""Declared standards and organizations' own enterprise standards; the strictest limit governs."""

from __future__ import annotations

from sqlalchemy import select

from app.catalog.models import Standard
from app.db import db
from tests.compliance.factories import post_inspection, rows_for


def _id(code):
    return db.session.scalar(select(Standard.id).where(Standard.code == code))


def enterprise(owner_org_id, *requirements, code="Q/CBQZ 0001S-2026", products=("brick_tea",)):
    return {
        "code": code,
        "title_zh": "赤壁青砖茶 企业标准",
        "title_en": "Chibi brick tea - enterprise standard",
        "products": list(products),
        "owner_org_id": owner_org_id,
        "requirements": list(requirements)
        or [{"parameter": "lead", "unit": "mg/kg", "comparator": "<=", "limit": "2", "clause": "4.2 表2"}],
    }


def test_an_organization_registers_its_own_standard(client, producer, producer_headers):
    response = client.post("/api/v1/standards", json=enterprise(producer.organization.id), headers=producer_headers)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["code"], body["edition"], body["level"], body["mandatory"]) == (
        "Q/CBQZ 0001S-2026",
        "2026",
        "enterprise",
        False,
    )
    [req] = body["requirements"]
    assert (req["parameter"], req["parameter_zh"], req["limit"], req["unit"], req["provisional"]) == (
        "lead", "铅", "2", "mg/kg", False
    )  # fmt: skip
    # The catalog lists it like any other standard.
    listed = client.get("/api/v1/standards?level=enterprise&product=brick_tea").get_json()["items"]
    assert "Q/CBQZ 0001S-2026" in [s["code"] for s in listed]
    again = client.post("/api/v1/standards", json=enterprise(producer.organization.id), headers=producer_headers)
    assert again.status_code == 409


def test_a_limit_looser_than_a_mandatory_one_is_refused_naming_its_clause(client, producer, producer_headers):
    org = producer.organization.id
    looser = {"parameter": "lead", "unit": "mg/kg", "comparator": "<=", "limit": "6", "clause": "4.2"}
    response = client.post("/api/v1/standards", json=enterprise(org, looser), headers=producer_headers)
    assert response.status_code == 422
    body = response.get_json()
    [reason] = body["errors"]["json"]["requirements"]["0"]["limit"]
    assert "GB 2762-2022" in reason and "4.1 表1" in reason and "brick_tea" in reason
    assert db.session.scalar(select(Standard.id).where(Standard.code == "Q/CBQZ 0001S-2026")) is None

    # After unit conversion: 6000 µg/kg is 6 mg/kg (refused), 4000 µg/kg is 4 mg/kg (accepted).
    micro = {**looser, "unit": "µg/kg", "limit": "6000"}
    assert client.post("/api/v1/standards", json=enterprise(org, micro), headers=producer_headers).status_code == 422
    micro["limit"] = "4000"
    assert client.post("/api/v1/standards", json=enterprise(org, micro), headers=producer_headers).status_code == 201

    # A provisional mandatory limit is a floor too (fluoride <= 300 mg/kg, GB 19965-2005).
    fluoride = {"parameter": "fluoride", "unit": "mg/kg", "comparator": "<=", "limit": "350", "clause": "5"}
    response = client.post(
        "/api/v1/standards", json=enterprise(org, fluoride, code="Q/CBQZ 0002S-2026"), headers=producer_headers
    )
    assert response.status_code == 422 and "GB 19965-2005" in response.get_json()["message"]


def test_an_enterprise_standard_is_checked_per_product(client, producer, producer_headers):
    # Lead <= 0.3 mg/kg is strict for tea (5.0) but looser than loquat's 0.1 (GB 2762-2022).
    lead = {"parameter": "lead", "unit": "mg/kg", "comparator": "<=", "limit": "0.3", "clause": "4"}
    body = enterprise(producer.organization.id, lead, products=("brick_tea", "loquat"))
    response = client.post("/api/v1/standards", json=body, headers=producer_headers)
    assert response.status_code == 422 and "loquat" in response.get_json()["message"]


def test_bad_enterprise_standards_are_refused_field_by_field(client, producer, producer_headers, auth):
    org = producer.organization.id
    cases = [
        (enterprise(org, {"parameter": "lead", "unit": "CFU/g", "comparator": "<=", "limit": "1"}), "unit"),
        (enterprise(org, {"parameter": "vibes", "unit": "mg/kg", "comparator": "<=", "limit": "1"}), "parameter"),
        (enterprise(org, {"parameter": "lead", "unit": "mg/kg", "comparator": "<="}), "limit"),
    ]
    for body, field in cases:
        response = client.post("/api/v1/standards", json=body, headers=producer_headers)
        assert response.status_code == 422, body
        assert field in response.get_json()["errors"]["json"]["requirements"]["0"]
    unit = client.post("/api/v1/standards", json=cases[0][0], headers=producer_headers).get_json()
    assert "GB 2762-2022" in unit["message"] and "CFU/g" in unit["message"]
    not_q = {**enterprise(org), "code": "GB/T 99999-2026"}
    response = client.post("/api/v1/standards", json=not_q, headers=producer_headers)
    assert response.status_code == 422 and "code" in response.get_json()["errors"]["json"]
    # A new pesticide with no mandatory limit is a valid key; not detected needs no figure.
    novel = {"parameter": "pesticide.tolfenpyrad", "unit": "mg/kg", "comparator": "not_detected"}
    assert client.post("/api/v1/standards", json=enterprise(org, novel), headers=producer_headers).status_code == 201
    # Only for one's own organization, unless an admin registers it.
    other = enterprise(org, code="Q/CBQZ 0003S-2026")
    assert client.post("/api/v1/standards", json=other, headers=auth("cooperative")).status_code == 403
    assert client.post("/api/v1/standards", json=other, headers=auth("admin")).status_code == 201


def test_the_producer_declares_standards_for_its_batch(client, producer_headers, make_batch, auth):
    batch = make_batch()
    url = f"/api/v1/batches/{batch.id}/standards"
    response = client.post(url, json={"standard": _id("NY/T 288")}, headers=producer_headers)
    assert response.status_code == 201, response.get_json()
    assert (response.get_json()["source"], response.get_json()["standard"]["code"]) == ("declared", "NY/T 288")
    assert client.post(url, json={"standard": _id("NY/T 288")}, headers=producer_headers).status_code == 409
    # Mandatory standards are bound already.
    assert client.post(url, json={"standard": _id("GB 2762-2022")}, headers=producer_headers).status_code == 409
    wrong_product = client.post(url, json={"standard": _id("NY/T 751-2017")}, headers=producer_headers)
    assert wrong_product.status_code == 422 and "does not apply" in wrong_product.get_json()["message"]
    assert client.post(url, json={"standard": 999999}, headers=producer_headers).status_code == 422
    # A stranger cannot tell the batch exists; an inspector reads it but neither holds nor produced it.
    hidden = client.post(url, json={"standard": _id("NY/T 288")}, headers=auth("cooperative"))
    assert (hidden.status_code, hidden.get_json()["message"]) == (404, f"no batch with id {batch.id}")
    assert batch.lot_code not in hidden.get_data(as_text=True)
    refused = client.post(url, json={"standard": _id("NY/T 288")}, headers=auth("inspector"))
    assert refused.status_code == 403 and batch.lot_code in refused.get_json()["message"]


def test_another_organizations_enterprise_standard_cannot_be_declared(
    client, auth, make_user, make_batch, producer_headers
):
    rival = make_user("cooperative")
    created = client.post("/api/v1/standards", json=enterprise(rival.organization.id), headers=auth(user=rival))
    assert created.status_code == 201, created.get_json()
    batch = make_batch()
    response = client.post(
        f"/api/v1/batches/{batch.id}/standards", json={"standard": created.get_json()["id"]}, headers=producer_headers
    )
    assert response.status_code == 422 and "another organization" in response.get_json()["message"]


def test_the_strictest_limit_governs_and_the_verdict_names_it(
    client, producer, producer_headers, inspector_headers, make_batch
):
    created = client.post("/api/v1/standards", json=enterprise(producer.organization.id), headers=producer_headers)
    batch = make_batch()
    declared = client.post(
        f"/api/v1/batches/{batch.id}/standards", json={"standard": created.get_json()["id"]}, headers=producer_headers
    )
    assert declared.status_code == 201
    # 3 mg/kg of lead: within GB 2762-2022 (5.0) but over the enterprise's own 2 mg/kg.
    post_inspection(client, inspector_headers, batch.id, [{"parameter": "lead", "value": "3000", "unit": "µg/kg"}])
    body = client.get(f"/api/v1/batches/{batch.id}/compliance", headers=inspector_headers).get_json()
    by_standard = {r["standard"]: r for r in rows_for(body, "lead")}
    assert by_standard["GB 2762-2022"]["verdict"] == "pass" and by_standard["GB 2762-2022"]["governing"] is False
    strict = by_standard["Q/CBQZ 0001S-2026"]
    assert (strict["verdict"], strict["governing"], strict["binding"], strict["clause"]) == (
        "fail",
        True,
        "declared",
        "4.2 表2",
    )
    assert body["verdict"] == "fail"
    assert any("Q/CBQZ 0001S-2026" in r for r in body["reasons"])
    [finding] = body["findings"]
    assert finding["detail"]["standard"] == "Q/CBQZ 0001S-2026"
