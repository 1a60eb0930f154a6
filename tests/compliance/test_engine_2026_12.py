"""Issue 9, the judging engine, through the API: what binds a batch (its forms, its 执行标准, its
declarations), each result by its own sampling date's editions, results awaiting an inspector's
review, bases, LOQs, units, and what the JSON and the PDF say of them."""

from __future__ import annotations

from sqlalchemy import select

from app.batches.models import Batch, Event
from app.batches.service import verify_batch
from app.catalog.models import Standard
from app.compliance import verdicts
from app.compliance.models import BatchVerdict
from app.db import db
from tests.compliance.factories import post_inspection, rows_for
from tests.compliance.test_pdf import pdf_text


def _id(code: str) -> int:
    return db.session.scalar(select(Standard.id).where(Standard.code == code))


def compliance(client, headers, batch_id):
    response = client.get(f"/api/v1/batches/{batch_id}/compliance", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def create(client, headers, **body):
    return client.post("/api/v1/batches", json={"product": "camellia_oil", "quantity": "50", "unit": "L", **body},
                       headers=headers)  # fmt: skip


def records(batch_id, stage):
    return list(db.session.scalars(select(Event).where(Event.batch_id == batch_id, Event.stage == stage)))


# --- forms ------------------------------------------------------------------------------------------


def test_a_product_lists_its_forms_and_a_batch_is_created_with_some(client, producer_headers):
    product = client.get("/api/v1/products/camellia_oil").get_json()
    assert product["forms"] == ["crude_oil", "edible_oil", "pressed", "solvent_extracted"]
    response = create(client, producer_headers, forms=["edible_oil", "pressed"])
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["forms"] == ["edible_oil", "pressed"]
    # The forms are in the batch's first chained record, beside its facts.
    [opened] = records(body["id"], "created")
    assert opened.data["forms"] == ["edible_oil", "pressed"]
    assert client.get(f"/api/v1/batches/{body['id']}/verify", headers=producer_headers).get_json()["valid"]


def test_a_form_the_product_does_not_have_is_refused_naming_the_field(client, producer_headers):
    before = db.session.scalar(select(db.func.count(Batch.id)))
    for forms in (["fresh_leaf"], ["edible_oil", "edible_oil"], []):
        response = create(client, producer_headers, forms=forms)
        assert response.status_code == 422, forms
        assert "forms" in response.get_json()["errors"]["json"]
    mahua = client.post("/api/v1/batches", json={"product": "mahua", "quantity": "5", "unit": "kg",
                                                 "forms": ["pressed"]}, headers=producer_headers)  # fmt: skip
    assert mahua.status_code == 422 and "forms" in mahua.get_json()["errors"]["json"]
    assert db.session.scalar(select(db.func.count(Batch.id))) == before  # nothing stored


def test_a_processing_record_changes_the_forms_in_the_chain(client, producer_headers, inspector_headers):
    batch = create(client, producer_headers, forms=["crude_oil", "pressed"]).get_json()
    acid = [{"parameter": "acid_value", "value": "3.5", "unit": "mg/g"}]
    post_inspection(client, inspector_headers, batch["id"], acid, sampled_at="2026-06-01T09:00:00+08:00")
    body = compliance(client, inspector_headers, batch["id"])
    # Crude oil is held to 4 mg/g, not to the finished oil's 3.
    assert [(r["limit"], r["verdict"]) for r in rows_for(body, "acid_value")] == [("4", "pass")]
    assert body["verdict"] != "fail"

    refined = {"stage": "processing", "occurred_at": "2026-06-02T09:00:00+08:00",
               "data": {"steps": [{"name": "精炼", "started_at": "2026-06-02T08:00:00+08:00"}],
                        "forms": ["edible_oil", "pressed"]}}  # fmt: skip
    # A form the product does not have is refused (before the refining below fails and holds the lot).
    bad = {**refined, "data": {**refined["data"], "forms": ["scented_tea"]}}
    response = client.post(f"/api/v1/batches/{batch['id']}/events", json=bad, headers=producer_headers)
    assert response.status_code == 422
    assert "forms" in response.get_json()["errors"]["json"]["data"]
    response = client.post(f"/api/v1/batches/{batch['id']}/events", json=refined, headers=producer_headers)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["data"]["forms"] == ["edible_oil", "pressed"]
    after = client.get(f"/api/v1/batches/{batch['id']}", headers=producer_headers).get_json()
    assert after["forms"] == ["edible_oil", "pressed"]
    body = compliance(client, inspector_headers, batch["id"])
    assert [(r["limit"], r["verdict"]) for r in rows_for(body, "acid_value")] == [("3", "fail")]
    assert body["verdict"] == "fail" and body["forms"] == ["edible_oil", "pressed"]


def test_pressed_oil_is_judged_by_the_pressed_rule_and_an_unknown_form_by_every_form(
    client, producer_headers, inspector_headers
):
    solvent = [{"parameter": "solvent_residue", "value": "5", "unit": "mg/kg"}]
    pressed = create(client, producer_headers, forms=["edible_oil", "pressed"]).get_json()
    post_inspection(client, inspector_headers, pressed["id"], solvent)
    [row] = rows_for(compliance(client, inspector_headers, pressed["id"]), "solvent_residue")
    # 压榨油: 检出值小于 10 mg/kg 时视为未检出; the solvent-extracted 20 mg/kg row does not bind.
    assert (row["comparator"], row["verdict"], row["note"]) == ("not_detected", "pass", "counts as not detected")

    unknown = create(client, producer_headers).get_json()
    assert unknown["forms"] == []
    post_inspection(
        client, inspector_headers, unknown["id"], [{"parameter": "acid_value", "value": "3.5", "unit": "mg/g"}]
    )
    body = compliance(client, inspector_headers, unknown["id"])
    assert (body["forms"], body["form_known"]) == ([], False)
    assert "form not known" in body["form_note"]
    by_limit = {r["limit"]: r for r in rows_for(body, "acid_value")}
    assert set(by_limit) == {"3", "4"}  # every form's rows, the strictest governing
    assert by_limit["3"]["governing"] and by_limit["3"]["verdict"] == "fail"


# --- what binds: the 执行标准, declarations, suggestions, status -----------------------------------------


def test_the_executive_standard_binds_is_chained_and_is_replaced_by_another(
    client, producer, producer_headers, inspector_headers
):
    batch = create(client, producer_headers, forms=["edible_oil", "pressed"]).get_json()
    url = f"/api/v1/batches/{batch['id']}/standards"
    before = compliance(client, inspector_headers, batch["id"])
    assert before["executive_standard"] is None
    assert "GB/T 11765-2018" in [s["standard"] for s in before["suggested_standards"]]  # offered, not binding
    assert not [s for s in before["standards"] if s["base_code"] == "GB/T 11765"]

    response = client.post(url, json={"standard": _id("GB/T 11765-2018"), "executive": True}, headers=producer_headers)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["source"] == "executive"
    body = compliance(client, inspector_headers, batch["id"])
    assert body["executive_standard"]["standard"] == "GB/T 11765-2018"
    assert next(s for s in body["standards"] if s["base_code"] == "GB/T 11765")["binding"] == "executive"
    assert body["suggested_standards"] == []
    [record] = records(batch["id"], "executive_standard")
    assert record.data == {"standard": "GB/T 11765-2018", "filing_no": None, "replaces": None}

    # An enterprise standard as 执行标准 needs its 备案号.
    own = client.post("/api/v1/standards", headers=producer_headers, json={
        "code": "Q/TCYC 0001S-2026", "title_zh": "黄袍山茶油企业标准", "products": ["camellia_oil"],
        "owner_org_id": producer.organization.id,
        "requirements": [{"parameter": "acid_value", "unit": "mg/g", "comparator": "<=", "limit": "1.5"}],
    })  # fmt: skip
    assert own.status_code == 201, own.get_json()
    missing = client.post(url, json={"standard": own.get_json()["id"], "executive": True}, headers=producer_headers)
    assert missing.status_code == 422 and "filing_no" in missing.get_json()["errors"]["json"]
    filed = {"standard": own.get_json()["id"], "executive": True, "filing_no": "421222-2026-0001"}
    assert client.post(url, json=filed, headers=producer_headers).status_code == 201
    body = compliance(client, inspector_headers, batch["id"])
    assert (body["executive_standard"]["standard"], body["executive_standard"]["filing_no"]) == (
        "Q/TCYC 0001S-2026",
        "421222-2026-0001",
    )
    # One 执行标准: the earlier one is a suggestion again, and the replacement is chained.
    sources = {
        s["code"]: s["source"]
        for s in client.get(f"/api/v1/batches/{batch['id']}", headers=producer_headers).get_json()["standards"]
    }
    assert sources["Q/TCYC 0001S-2026"] == "executive" and sources["GB/T 11765-2018"] == "default"
    assert [r.data["replaces"] for r in records(batch["id"], "executive_standard")] == [None, "GB/T 11765-2018"]
    assert verify_batch(db.session.get(Batch, batch["id"])).valid


def test_a_standard_not_in_force_cannot_be_declared_and_an_uncertain_one_is_shown_not_binding(
    client, producer_headers, inspector_headers
):
    batch = client.post("/api/v1/batches", json={"product": "mahua", "quantity": "5", "unit": "kg"},
                        headers=producer_headers).get_json()  # fmt: skip
    uncertain = _id("GB 16565-2003")
    response = client.post(f"/api/v1/batches/{batch['id']}/standards", json={"standard": uncertain, "executive": True},
                           headers=producer_headers)  # fmt: skip
    assert response.status_code == 422 and "uncertain" in response.get_json()["errors"]["json"]["standard"][0]
    shown = next(
        s for s in compliance(client, inspector_headers, batch["id"])["standards"] if s["standard"] == "GB 16565-2003"
    )
    assert (shown["applied"], shown["status"]) == (False, "uncertain")
    assert "not binding" in shown["note"]


# --- each result by the editions in force on its own sampling date -----------------------------------


def test_each_report_is_judged_by_the_edition_in_force_on_its_sampling_date(client, make_batch, inspector_headers):
    batch = make_batch()
    imidacloprid = [{"parameter": "pesticide.imidacloprid", "value": "0.8", "unit": "mg/kg"}]
    # 23:30 on 28 February in China: GB 2763-2021 judges it (the 2026 edition is in force from 1 March).
    post_inspection(client, inspector_headers, batch.id, imidacloprid, sampled_at="2026-02-28T23:30:00+08:00",
                    tested_at="2026-03-02T10:00:00+08:00", report_no="XN-FEB")  # fmt: skip
    # 00:30 on 1 March in China (16:30 UTC the day before): the day the new edition takes effect.
    ok = [{"parameter": "pesticide.imidacloprid", "value": "0.3", "unit": "mg/kg"}]
    post_inspection(client, inspector_headers, batch.id, ok, sampled_at="2026-02-28T16:30:00+00:00",
                    tested_at="2026-03-02T10:00:00+08:00", report_no="XN-MAR")  # fmt: skip
    body = compliance(client, inspector_headers, batch.id)
    rows = {r["standard"]: r for r in rows_for(body, "pesticide.imidacloprid")}
    assert set(rows) == {"GB 2763-2021", "GB 2763-2026"}  # one row per judged limit, both editions
    feb, mar = rows["GB 2763-2021"], rows["GB 2763-2026"]
    assert (feb["verdict"], feb["value"], feb["report_no"], feb["sampled_on"]) == (
        "fail",
        "0.8",
        "XN-FEB",
        "2026-02-28",
    )
    assert feb["edition_dates"] == ["2026-02-28"]
    assert (mar["verdict"], mar["report_no"], mar["sampled_on"], mar["edition_dates"]) == (
        "pass",
        "XN-MAR",
        "2026-03-01",
        ["2026-03-01"],
    )
    assert body["verdict"] == "fail"  # a later pass never hides the failure
    assert body["evaluated_on"] == "2026-03-01"
    text = pdf_text(client.get(f"/api/v1/batches/{batch.id}/compliance.pdf", headers=inspector_headers).data)
    assert "GB2763-2021" in text and "GB2763-2026" in text and "抽样2026-02-28" in text and "抽样2026-03-01" in text


# --- needs_review and the inspector's decision --------------------------------------------------------


def test_a_detected_residue_with_no_limit_awaits_an_inspectors_decision(
    client, make_batch, inspector_headers, producer_headers, auth
):
    batch = make_batch("loquat")
    found = [{"parameter": "pesticide.glyphosate", "value": "0.05", "unit": "mg/kg"},
             {"parameter": "pesticide.chlorpyrifos", "value": "0.2", "unit": "mg/kg"}]  # fmt: skip
    post_inspection(client, inspector_headers, batch.id, found, report_no="XN-CPF-1")
    body = compliance(client, inspector_headers, batch.id)
    [row] = rows_for(body, "pesticide.chlorpyrifos")
    assert (row["standard"], row["verdict"], row["value"]) == (None, "needs_review", "0.2")
    assert body["verdict"] == "incomplete"
    assert any("needs an inspector's review" in r for r in body["reasons"])
    text = pdf_text(client.get(f"/api/v1/batches/{batch.id}/compliance.pdf", headers=inspector_headers).data)
    assert "待判定" in text and "须由检验人员判定" in text

    url = f"/api/v1/batches/{batch.id}/reviews"
    decision = {
        "parameter": "pesticide.chlorpyrifos",
        "decision": "fail",
        "basis": "GB 2763-2026 未规定枇杷限量；按公告处理",
    }
    assert client.post(url, json=decision, headers=producer_headers).status_code == 403
    assert client.post(url, json=decision, headers=auth("lab")).status_code == 403
    no_basis = client.post(url, json={**decision, "basis": ""}, headers=inspector_headers)
    assert no_basis.status_code == 422 and "basis" in no_basis.get_json()["errors"]["json"]
    wrong = client.post(url, json={**decision, "parameter": "pesticide.glyphosate"}, headers=inspector_headers)
    assert wrong.status_code == 422 and "parameter" in wrong.get_json()["errors"]["json"]  # it has a limit
    head = db.session.get(Batch, batch.id).head_seq
    response = client.post(url, json=decision, headers=inspector_headers)
    assert response.status_code == 201, response.get_json()
    assert (response.get_json()["verdict"], response.get_json()["report_no"]) == ("fail", "XN-CPF-1")
    # A record of the chain, and the hold the failing decision puts on the lot (app/holds).
    assert db.session.get(Batch, batch.id).head_seq == head + 2
    assert db.session.get(Batch, batch.id).status == "on_hold"
    stored = db.session.get(BatchVerdict, batch.id)  # the stored verdict was judged again with it
    assert stored is not None and stored.verdict == "fail"
    assert verdicts.current(db.session.get(Batch, batch.id)).stored

    body = compliance(client, inspector_headers, batch.id)
    [row] = rows_for(body, "pesticide.chlorpyrifos")
    assert (row["verdict"], row["review"]["decision"], row["review"]["basis"]) == ("fail", "fail", decision["basis"])
    assert body["verdict"] == "fail"
    [review] = records(batch.id, "review")
    assert review.data["parameter"] == "pesticide.chlorpyrifos" and review.data["basis"] == decision["basis"]
    assert verify_batch(db.session.get(Batch, batch.id)).valid
    # Nothing awaits review now, so a second decision has no row to decide.
    again = client.post(url, json={**decision, "decision": "pass"}, headers=inspector_headers)
    assert again.status_code == 422

    # A later report that finds it again awaits a decision of its own.
    post_inspection(client, inspector_headers, batch.id, found[1:], report_no="XN-CPF-2",
                    sampled_at="2026-06-05T09:00:00+08:00")  # fmt: skip
    [row] = rows_for(compliance(client, inspector_headers, batch.id), "pesticide.chlorpyrifos")
    assert row["verdict"] == "needs_review" and row["report_no"] == "XN-CPF-2"
    by_row = {"row": compliance(client, inspector_headers, batch.id)["rows"].index(row), "decision": "pass",
              "basis": "复检结果"}  # fmt: skip
    assert client.post(url, json=by_row, headers=inspector_headers).status_code == 201


def test_a_grading_item_gives_a_grade_and_never_a_safety_fail(client, make_batch, producer_headers, inspector_headers):
    batch = make_batch("loquat")
    url = f"/api/v1/batches/{batch.id}/standards"
    assert (
        client.post(
            url, json={"standard": _id("GB/T 13867-1992"), "executive": True}, headers=producer_headers
        ).status_code
        == 201
    )
    results = [{"parameter": "stalk_length", "value": "3", "unit": "cm"},
               {"parameter": "pesticide.glyphosate", "value": "0.01", "unit": "mg/kg"},
               {"parameter": "soluble_solids", "value": "11", "unit": "%"}]  # fmt: skip
    post_inspection(client, inspector_headers, batch.id, results)
    body = compliance(client, inspector_headers, batch.id)
    [stalk] = rows_for(body, "stalk_length")
    assert (stalk["verdict"], stalk["grading"], stalk["value"]) == ("grade_not_met", True, "30")
    [brix] = rows_for(body, "soluble_solids")  # a grading item without a figure does not block
    assert brix["verdict"] == "no_limit"
    # Untested mandatory limits keep it incomplete; the grade missed is no fail and opens nothing.
    assert body["verdict"] == "incomplete" and body["findings"] == []
    assert not any("stalk_length" in r for r in body["reasons"])


# --- below the LOQ, bases -------------------------------------------------------------------------------


def test_below_the_loq_is_recorded_in_the_chain_and_judged_by_its_loq(client, make_batch, inspector_headers):
    batch = make_batch()
    lead = {"parameter": "lead", "below_loq": True, "loq": "0.5", "unit": "毫克/千克"}
    response = post_inspection(client, inspector_headers, batch.id, [lead], report_no="XN-LOQ")
    assert response.status_code == 201, response.get_json()
    [stored] = response.get_json()["results"]
    assert (stored["below_loq"], stored["loq"], stored["value"], stored["unit"]) == (True, "0.5", None, "mg/kg")
    [record] = records(batch.id, "inspection")
    assert record.data["results"][0]["below_loq"] is True and record.data["results"][0]["loq"] == "0.5"
    assert verify_batch(db.session.get(Batch, batch.id)).valid
    [row] = rows_for(compliance(client, inspector_headers, batch.id), "lead")
    assert (row["verdict"], row["below_loq"], row["loq"]) == ("pass", True, "0.5")  # LOQ under 5 mg/kg

    for bad, field in (({**lead, "loq": None}, "loq"), ({**lead, "not_detected": True, "lod": "0.1"}, "below_loq"),
                       ({**lead, "value": "0.3"}, "value")):  # fmt: skip
        response = post_inspection(client, inspector_headers, batch.id, [bad])
        assert response.status_code == 422, bad
        assert field in response.get_json()["errors"]["json"]["results"]["0"]


def test_a_result_is_judged_only_against_a_limit_on_its_basis(client, make_batch, inspector_headers):
    batch = make_batch("mahua")
    aluminium = {"parameter": "aluminium_residue", "value": "80", "unit": "mg/kg"}
    post_inspection(client, inspector_headers, batch.id, [aluminium], report_no="XN-AL-1")
    [row] = rows_for(compliance(client, inspector_headers, batch.id), "aluminium_residue")
    # GB 2760's aluminium limit is 以干样品计: a result as is is not judged, and says why.
    assert (row["verdict"], row["basis"], row["result_basis"]) == ("not_tested", "dry_matter", "as_is")
    assert "basis mismatch" in row["note"]
    post_inspection(client, inspector_headers, batch.id, [{**aluminium, "basis": "dry_matter"}], report_no="XN-AL-2")
    [row] = rows_for(compliance(client, inspector_headers, batch.id), "aluminium_residue")
    assert (row["verdict"], row["result_basis"], row["report_no"]) == ("pass", "dry_matter", "XN-AL-2")
    bad = post_inspection(client, inspector_headers, batch.id, [{**aluminium, "basis": "wet"}])
    assert bad.status_code == 422 and "basis" in bad.get_json()["errors"]["json"]["results"]["0"]


def test_peroxide_value_in_mmol_per_kg_meets_a_limit_in_grams_per_100g(client, producer_headers, inspector_headers):
    batch = create(client, producer_headers, forms=["edible_oil", "pressed"]).get_json()
    pv = [{"parameter": "peroxide_value", "value": "9.85", "unit": "mmol/kg"}]  # 0.25 g/100g × (1/0.02538)
    assert post_inspection(client, inspector_headers, batch["id"], pv).status_code == 201
    [row] = rows_for(compliance(client, inspector_headers, batch["id"]), "peroxide_value")
    assert (row["limit"], row["unit"], row["verdict"]) == ("0.25", "g/100g", "pass")
    acid = [{"parameter": "acid_value", "value": "3000", "unit": "mg/kg"}]  # mg KOH/g is no mass fraction
    response = post_inspection(client, inspector_headers, batch["id"], acid)
    assert response.status_code == 422 and "unit" in response.get_json()["errors"]["json"]["results"]["0"]
