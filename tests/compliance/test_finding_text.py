"""Findings as people read them: ``subject_text`` in the API (in the caller's language), the desk's
batch page, and no placeholder clause anywhere in the catalog."""

from __future__ import annotations

import datetime as dt

import yaml

from app.catalog import service as catalog_service
from app.compliance.finding_text import PLACEHOLDER, clause_shown, subject_text
from tests.compliance.factories import add_event, post_inspection

CST = dt.timezone(dt.timedelta(hours=8))


def test_the_api_gives_each_finding_its_subject_in_words_in_the_callers_language(client, auth, make_batch):
    inspector = auth("inspector")
    batch = make_batch(product="camellia_oil")
    results = [{"parameter": "benzo_a_pyrene", "value": "12.5", "unit": "ug/kg"}]
    assert post_inspection(client, inspector, batch.id, results, report_no="XN-FT-1").status_code == 201

    [finding] = client.get(f"/api/v1/findings?batch={batch.id}", headers=inspector).get_json()["items"]
    assert finding["subject"] == "benzo_a_pyrene"  # the key stays for programs
    assert finding["subject_text"] == "苯并[a]芘 12.5 µg/kg（限量 ≤ 10 µg/kg），GB 2762-2022，报告 XN-FT-1"
    english = client.get(f"/api/v1/findings?batch={batch.id}", headers={**inspector, "Accept-Language": "en"})
    [finding] = english.get_json()["items"]
    assert finding["subject_text"] == "benzo[a]pyrene 12.5 µg/kg (limit ≤ 10 µg/kg), GB 2762-2022, report XN-FT-1"


def test_a_pre_harvest_finding_names_the_records_pesticide_and_china_dates(client, auth, producer, make_batch):
    inspector = auth("inspector")
    batch = make_batch()
    # Applied at 23:30 UTC on 1 April: 2 April in Xianning.
    spray = {"kind": "pesticide", "name": "多菌灵", "dose": "50", "dose_unit": "g/亩",
             "applied_at": "2026-04-01T23:30:00+00:00", "phi_days": 14}  # fmt: skip
    add_event(batch, producer, "planting", dt.datetime(2026, 4, 1, 8, tzinfo=CST), {"inputs": [spray]})
    add_event(batch, producer, "harvest", dt.datetime(2026, 4, 10, 8, tzinfo=CST), {"quantity": "300", "unit": "kg"})
    [finding] = client.get(f"/api/v1/findings?batch={batch.id}", headers=inspector).get_json()["items"]
    assert finding["subject"].startswith("planting#")
    text = finding["subject_text"]
    assert text == "种植第 2 条施用多菌灵（2026-04-02，安全间隔期 14 天），采收第 3 条于 2026-04-10 采收，差 6 天", text


def test_a_placeholder_clause_is_never_shown():
    for placeholder in ("4.x 表", "表x", "x.1", "待定", "?"):
        assert clause_shown(placeholder) is None, placeholder
    for clause in ("4.1 表1", "3.3 表2 (注)", "附录A", "理化指标表", "卫生指标 (2007 text)", "4.4"):
        assert clause_shown(clause) == clause
    detail = {"parameter": "lead", "parameter_zh": "铅", "value": "1", "value_unit": "mg/kg", "clause": "4.x 表",
              "standard": "GB 2762-2022", "comparator": "<=", "limit": "0.1", "unit": "mg/kg"}  # fmt: skip
    assert "4.x" not in subject_text("failed_verdict", "lead", detail)


def test_the_catalog_holds_no_placeholder_clause():
    with open(catalog_service.default_catalog_path(), encoding="utf-8") as f:
        data = yaml.safe_load(f)
    clauses = [
        (s["code"], r.get("clause"))
        for s in data["standards"]
        for r in s.get("requirements") or []
        if r.get("clause") and PLACEHOLDER.search(str(r["clause"]))
    ]
    assert clauses == []


def test_the_desk_batch_page_shows_findings_in_words_and_china_time(client, auth, make_batch, make_user):
    from tests.web.conftest import PASSWORD, sign_in

    inspector = make_user("inspector", password=PASSWORD)
    batch = make_batch(product="camellia_oil")
    results = [{"parameter": "benzo_a_pyrene", "value": "12.5", "unit": "微克/千克"}]
    assert post_inspection(client, auth(user=inspector), batch.id, results).status_code == 201
    assert sign_in(client, inspector.username).status_code == 302
    page = client.get(f"/desk/batches/{batch.id}").get_data(as_text=True)
    findings = page[page.index('id="findings"') : page.index('id="commitment"')]
    assert "苯并[a]芘 12.5 µg/kg（限量 ≤ 10 µg/kg）" in findings
    assert "benzo_a_pyrene" not in findings and "UTC" not in findings and "北京时间" in findings
