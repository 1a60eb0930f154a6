"""Inspections and clause-by-clause verdicts through the API, against the catalog as loaded."""

from __future__ import annotations

from sqlalchemy import func, select

from app.batches.models import Batch, Event
from app.batches.service import verify_batch
from app.catalog.models import Standard
from app.compliance.models import Finding, Inspection
from app.db import db
from tests.compliance.factories import post_inspection, rows_for

TEA_PESTICIDES = ("flonicamid", "fenpyroximate", "imidacloprid", "acetamiprid", "bifenthrin", "carbendazim",
                  "cypermethrin", "fenvalerate",
                  # Added by the 2026-12 catalog audit (provisional 2016-list values, glyphosate carried over).
                  "glyphosate", "hch", "ddt", "methamidophos", "carbofuran", "glufosinate", "indoxacarb",
                  "pymetrozine", "chlorfenapyr", "deltamethrin", "difenoconazole", "thiamethoxam",
                  "cyhalothrin")  # fmt: skip


def tea_results(**overrides):
    """A brick tea report meeting every numeric limit bound in mid-2026 (GB 2763-2026 in force)."""
    values = {
        "fluoride": ("200", "mg/kg"),
        "lead": ("1.2", "mg/kg"),
        "stem_content": ("12", "%"),
        "moisture": ("10.5", "%"),
        "total_ash": ("6.8", "%"),
        "non_tea_inclusions": ("0.1", "%"),
        "water_extract": ("25", "%"),
    }
    results = [{"parameter": k, "value": v, "unit": u} for k, (v, u) in values.items() if k not in overrides]
    results += [
        {"parameter": f"pesticide.{p}", "not_detected": True, "lod": "0.01", "unit": "mg/kg"}
        for p in TEA_PESTICIDES
        if f"pesticide.{p}" not in overrides
    ]
    results += [r for r in overrides.values() if r is not None]
    return results


def compliance(client, headers, batch_id):
    response = client.get(f"/api/v1/batches/{batch_id}/compliance", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_a_report_meeting_every_limit_passes_clause_by_clause(client, inspector_headers, make_batch):
    batch = make_batch()
    response = post_inspection(client, inspector_headers, batch.id, tea_results())
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["verdict"] == "pass"
    body = compliance(client, inspector_headers, batch.id)
    assert body["verdict"] == "pass"
    assert body["evaluated_on"] == "2026-06-01" and body["basis"] == "sampling"
    [fluoride] = rows_for(body, "fluoride")
    assert fluoride["standard"] == "GB 19965-2005" and fluoride["clause"] == "4 (指标)"
    assert (fluoride["comparator"], fluoride["limit"], fluoride["unit"]) == ("<=", "300", "mg/kg")
    assert fluoride["provisional"] is True  # never found in a source: shown as provisional
    assert (fluoride["value"], fluoride["verdict"], fluoride["governing"]) == ("200", "pass", True)
    [lead] = rows_for(body, "lead")
    assert (lead["standard"], lead["limit"], lead["provisional"]) == ("GB 2762-2022", "5", False)
    # The verdict rests partly on provisional limits, and says so.
    assert body["provisional_basis"] is True
    # GB 2763 is judged in its 2026 edition; the 2021 edition and loquat limits are not rows here.
    assert {r["standard"] for r in body["rows"] if r["parameter"].startswith("pesticide.")} == {"GB 2763-2026"}
    gb2763 = next(s for s in body["standards"] if s["base_code"] == "GB 2763")
    assert (gb2763["standard"], gb2763["applied"], gb2763["binding"]) == ("GB 2763-2026", True, "mandatory")
    assert "2026-03-01" in gb2763["note"]
    supplement = next(s for s in body["standards"] if s["base_code"] == "GB 2763.1")
    assert supplement["applied"] is False and "superseded by GB 2763-2026" in supplement["note"]
    assert not rows_for(body, "cadmium")  # GB 2762's cadmium limits name loquat and lotus root only
    assert body["findings"] == []


def test_the_edition_is_chosen_by_the_sampling_date(client, inspector_headers, make_batch):
    glyphosate = {"parameter": "pesticide.glyphosate", "value": "0.4", "unit": "mg/kg"}
    before = make_batch()
    post_inspection(client, inspector_headers, before.id, [glyphosate], sampled_at="2026-02-20T10:00:00+08:00")
    body = compliance(client, inspector_headers, before.id)
    [row] = rows_for(body, "pesticide.glyphosate")
    assert (row["standard"], row["edition"], row["limit"], row["verdict"]) == ("GB 2763-2021", "2021", "1", "pass")
    assert not rows_for(body, "pesticide.flonicamid")  # a 2026 limit, not in force yet

    after = make_batch()
    post_inspection(client, inspector_headers, after.id, [glyphosate], sampled_at="2026-03-05T10:00:00+08:00")
    body = compliance(client, inspector_headers, after.id)
    # GB 2763-2026 carries the 2021 tea glyphosate limit over (audit 2026-12), provisionally.
    [row] = rows_for(body, "pesticide.glyphosate")
    assert (row["standard"], row["limit"], row["verdict"], row["provisional"]) == ("GB 2763-2026", "1", "pass", True)
    assert rows_for(body, "pesticide.flonicamid")[0]["standard"] == "GB 2763-2026"


def test_units_convert_and_a_failure_opens_a_finding(client, inspector_headers, make_batch):
    batch = make_batch()
    lead = {"parameter": "lead", "value": "6000", "unit": "µg/kg"}
    response = post_inspection(client, inspector_headers, batch.id, tea_results(lead=lead), report_no="XN-LEAD-1")
    assert response.status_code == 201
    assert response.get_json()["verdict"] == "fail"
    assert len(response.get_json()["findings_opened"]) == 1
    body = compliance(client, inspector_headers, batch.id)
    [row] = rows_for(body, "lead")
    assert (row["value"], row["value_unit"], row["verdict"], row["governing"]) == ("6", "mg/kg", "fail", True)
    assert body["verdict"] == "fail"
    [finding] = body["findings"]
    assert (finding["kind"], finding["subject"], finding["status"]) == ("failed_verdict", "lead", "open")
    assert finding["detail"]["standard"] == "GB 2762-2022" and finding["detail"]["report_no"] == "XN-LEAD-1"
    # Reading the verdict again opens nothing new.
    compliance(client, inspector_headers, batch.id)
    assert db.session.scalar(select(func.count()).select_from(Finding).where(Finding.batch_id == batch.id)) == 1


def test_4000_micrograms_per_kilogram_is_four_milligrams_and_passes(client, inspector_headers, make_batch):
    batch = make_batch()
    lead = {"parameter": "lead", "value": "4000", "unit": "ug/kg"}
    post_inspection(client, inspector_headers, batch.id, tea_results(lead=lead))
    body = compliance(client, inspector_headers, batch.id)
    [row] = rows_for(body, "lead")
    assert (row["value"], row["value_unit"], row["verdict"]) == ("4", "mg/kg", "pass")
    assert body["verdict"] == "pass"


def test_not_detected_is_judged_by_its_detection_limit(client, inspector_headers, make_batch):
    batch = make_batch()
    imidacloprid = {"parameter": "pesticide.imidacloprid", "not_detected": True, "lod": "1", "unit": "mg/kg"}
    post_inspection(client, inspector_headers, batch.id, tea_results(**{"pesticide.imidacloprid": imidacloprid}))
    body = compliance(client, inspector_headers, batch.id)
    [row] = rows_for(body, "pesticide.imidacloprid")
    # LOD 1 mg/kg above a 0.5 mg/kg limit proves nothing: not a pass.
    assert (row["verdict"], row["not_detected"], row["value"]) == ("not_tested", True, "1")
    assert "inconclusive" in row["note"]
    assert body["verdict"] == "incomplete"
    [acetamiprid] = rows_for(body, "pesticide.acetamiprid")
    assert (acetamiprid["verdict"], acetamiprid["value"]) == ("pass", "0.01")


def test_untested_limits_make_the_verdict_incomplete(client, inspector_headers, make_batch):
    batch = make_batch()
    post_inspection(client, inspector_headers, batch.id, [{"parameter": "lead", "value": "1", "unit": "mg/kg"}])
    body = compliance(client, inspector_headers, batch.id)
    assert body["verdict"] == "incomplete"
    assert rows_for(body, "fluoride")[0]["verdict"] == "not_tested"
    assert any("fluoride not tested" in r for r in body["reasons"])


def test_a_batch_without_inspections_is_incomplete_on_its_own_date(client, producer_headers, make_batch):
    batch = make_batch()
    body = compliance(client, producer_headers, batch.id)
    assert body["verdict"] == "incomplete" and body["basis"] == "creation"
    assert body["inspections"] == []


def declare(client, headers, batch_id, code):
    standard_id = db.session.scalar(select(Standard.id).where(Standard.code == code))
    response = client.post(f"/api/v1/batches/{batch_id}/standards", json={"standard": standard_id}, headers=headers)
    assert response.status_code == 201, response.get_json()


def test_a_range_limit_is_judged_and_a_text_limit_is_no_limit_on_record(
    client, inspector_headers, producer_headers, make_batch
):
    loquat = make_batch("loquat")
    # A product default is a suggestion: the stalk length binds once GB/T 13867 is declared, and
    # as a grading item it gives a grade (1.6 cm is 16 mm, inside 15 ± 2), never a safety verdict.
    declare(client, producer_headers, loquat.id, "GB/T 13867-1992")
    post_inspection(client, inspector_headers, loquat.id, [{"parameter": "stalk_length", "value": "1.6", "unit": "cm"}])
    [row] = rows_for(compliance(client, inspector_headers, loquat.id), "stalk_length")
    assert (row["standard"], row["limit_text"], row["verdict"], row["grading"]) == (
        "GB/T 13867-1992",
        "15 ± 2",
        "grade_met",
        True,
    )
    assert (row["value"], row["value_unit"]) == ("16", "mm")

    apc = [{"parameter": "aerobic_plate_count", "value": "800", "unit": "CFU/g"}]
    april = make_batch("mahua")
    # GB/T 20977 is recommended: it binds a mahua batch whose producer declares it (audit 2026-12).
    declare(client, producer_headers, april.id, "GB/T 20977-2007")
    post_inspection(client, inspector_headers, april.id, apc, sampled_at="2026-04-01T09:00:00+08:00")
    by_standard = {
        r["standard"]: r for r in rows_for(compliance(client, inspector_headers, april.id), apc[0]["parameter"])
    }
    assert by_standard["GB 7099-2015"]["verdict"] == "no_limit"  # a sampling plan, not one number
    assert by_standard["GB 7099-2015"]["limit_text"] == "n=5,c=2,m=10^4,M=10^5"
    assert by_standard["GB/T 20977-2007"]["verdict"] == "pass"  # <= 1500 CFU/g
    # From 2026-05-01 GB/T 20977-2024 replaces it, and the new edition's figures are not on record.
    june = make_batch("mahua")
    declare(client, producer_headers, june.id, "GB/T 20977-2007")
    post_inspection(client, inspector_headers, june.id, apc, sampled_at="2026-06-01T09:00:00+08:00")
    body = compliance(client, inspector_headers, june.id)
    assert {r["standard"] for r in rows_for(body, apc[0]["parameter"])} == {"GB 7099-2015"}
    pastry = next(s for s in body["standards"] if s["base_code"] == "GB/T 20977")
    assert (pastry["standard"], pastry["binding"]) == ("GB/T 20977-2024", "declared")
    # Undeclared, it binds nothing.
    plain = make_batch("mahua")
    post_inspection(client, inspector_headers, plain.id, apc, sampled_at="2026-04-01T09:00:00+08:00")
    body = compliance(client, inspector_headers, plain.id)
    assert {r["standard"] for r in rows_for(body, apc[0]["parameter"])} == {"GB 7099-2015"}
    assert not [s for s in body["standards"] if s["base_code"] == "GB/T 20977"]


def test_a_unit_that_cannot_convert_is_refused_naming_the_result(client, inspector_headers, make_batch):
    batch = make_batch()
    head = batch.head_seq
    results = [
        {"parameter": "fluoride", "value": "10", "unit": "mg/kg"},
        {"parameter": "lead", "value": "1", "unit": "CFU/g"},
    ]
    response = post_inspection(client, inspector_headers, batch.id, results)
    assert response.status_code == 422
    body = response.get_json()
    assert body["errors"]["json"]["results"]["1"]["unit"]
    assert "results.1.unit" in body["message"] and "CFU/g" in body["message"] and "mg/kg" in body["message"]
    # All or nothing: no inspection, no chain event.
    assert db.session.scalar(select(func.count()).select_from(Inspection).where(Inspection.batch_id == batch.id)) == 0
    assert db.session.get(Batch, batch.id).head_seq == head


def test_bad_results_are_refused_field_by_field(client, inspector_headers, make_batch):
    batch = make_batch()
    cases = [
        ([{"parameter": "unobtainium", "value": "1", "unit": "mg/kg"}], ("0", "parameter")),
        ([{"parameter": "lead", "unit": "mg/kg"}], ("0", "value")),
        ([{"parameter": "lead", "not_detected": True, "unit": "mg/kg"}], ("0", "lod")),
        ([{"parameter": "lead", "value": "-1", "unit": "mg/kg"}], ("0", "value")),
        (
            [
                {"parameter": "lead", "value": "1", "unit": "mg/kg"},
                {"parameter": "lead", "value": "2", "unit": "mg/kg"},
            ],
            ("1", "parameter"),
        ),
    ]
    for results, (index, field) in cases:
        response = post_inspection(client, inspector_headers, batch.id, results)
        assert response.status_code == 422, (results, response.get_json())
        assert field in response.get_json()["errors"]["json"]["results"][index], response.get_json()
    late = post_inspection(
        client, inspector_headers, batch.id, [{"parameter": "lead", "value": "1", "unit": "mg/kg"}],
        sampled_at="2026-06-02T09:00:00+08:00", tested_at="2026-06-01T09:00:00+08:00",
    )  # fmt: skip
    assert late.status_code == 422 and "tested_at" in late.get_json()["errors"]["json"]


def test_an_inspection_enters_the_batch_chain(client, inspector_headers, make_batch):
    batch = make_batch()
    response = post_inspection(
        client, inspector_headers, batch.id, [{"parameter": "lead", "value": "1", "unit": "mg/kg"}], report_no="XN-9"
    )
    assert response.status_code == 201
    event = db.session.scalar(select(Event).where(Event.batch_id == batch.id, Event.stage == "inspection"))
    assert event.data["report_no"] == "XN-9" and event.data["results"][0]["value"] == "1"
    report = verify_batch(db.session.get(Batch, batch.id))
    assert report.valid and report.events == 2  # created, inspection
    again = post_inspection(
        client, inspector_headers, batch.id, [{"parameter": "lead", "value": "1", "unit": "mg/kg"}], report_no="XN-9"
    )
    assert again.status_code == 409


def test_who_may_record_and_read(client, auth, make_batch, producer_headers):
    batch = make_batch()
    results = [{"parameter": "lead", "value": "1", "unit": "mg/kg"}]
    assert post_inspection(client, {}, batch.id, results).status_code == 401
    assert post_inspection(client, producer_headers, batch.id, results).status_code == 403
    assert post_inspection(client, auth("lab"), batch.id, results).status_code == 201
    assert post_inspection(client, auth("inspector"), 999999, results).status_code == 404
    assert client.get(f"/api/v1/batches/{batch.id}/compliance", headers=auth("farmer")).status_code == 404
    assert client.get(f"/api/v1/batches/{batch.id}/compliance", headers=producer_headers).status_code == 200
    assert client.get(f"/api/v1/batches/{batch.id}/compliance", headers=auth("admin")).status_code == 200
