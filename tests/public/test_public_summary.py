"""The consumer page's summary: tests (what, when, which lab), valid certifications, and the verdict.

Moved here from tests/compliance with the summary itself (app/public/compliance.py).
"""

from __future__ import annotations

import json

from flask import render_template
from flask_babel import refresh

from app.batches.models import Batch
from app.db import db
from app.public.compliance import public_summary
from tests.compliance.factories import post_inspection
from tests.compliance.test_inspections_api import tea_results
from tests.public.test_verdict_page import plain


def _certify(client, headers, holder, number, valid_from, valid_to):
    response = client.post(
        "/api/v1/certifications",
        json={"kind": "green_food", "number": number, "issuer": "中国绿色食品发展中心", "holder": holder,
              "product": "brick_tea", "valid_from": valid_from, "valid_to": valid_to},
        headers=headers,
    )  # fmt: skip
    assert response.status_code == 201


def render(app, summary, lang):
    with app.test_request_context(f"/?lang={lang}"):
        # The tests share one app context, where Flask-Babel caches the locale; pick it afresh.
        refresh()
        return render_template("public/_compliance.html", summary=summary)


def test_a_passing_batch_lists_its_tests_and_only_valid_certifications(app, client, auth, producer, make_batch):
    inspector = auth("inspector")
    batch = make_batch()
    post_inspection(client, inspector, batch.id, tea_results(), lab="湖北省茶叶质量检测中心",
                    sampled_at="2026-06-01T09:00:00+08:00", tested_at="2026-06-03T15:00:00+08:00")  # fmt: skip
    _certify(client, inspector, producer.organization.code, "LB-OK", "2026-01-01", "2028-12-31")
    _certify(client, inspector, producer.organization.code, "LB-OLD", "2020-01-01", "2021-12-31")

    summary = public_summary(db.session.get(Batch, batch.id))
    assert json.loads(json.dumps(summary)) == summary  # JSON-safe as it is
    summary = plain(summary)
    assert (summary["verdict"], summary["compliant"]) == ("pass", True)
    lead = next(t for t in summary["tests"] if t["parameter"] == "lead")
    assert lead == {
        "parameter": "lead", "name": "铅", "name_zh": "铅", "name_en": "lead (Pb)", "verdict": "pass",
        "result": "1.2 mg/kg", "value": "1.2", "value_unit": "mg/kg", "not_detected": False,
        "limit": "≤ 5 mg/kg", "unit": "mg/kg", "standard": "GB 2762-2022", "provisional": False,
        "temporary_mrl": False, "grading": False,
        "tested_at": "2026-06-03", "lab": "湖北省茶叶质量检测中心", "report_no": lead["report_no"],
    }  # fmt: skip
    assert [c["number"] for c in summary["certifications"]] == ["LB-OK"]  # the expired one is not shown
    # The conclusion is about the items tested, never that every required item was.
    assert summary["block"]["title"] == "所检项目合格"
    assert summary["block"]["summary"].startswith("所检项目符合所适用标准的要求")
    assert summary["certifications"][0]["kind_zh"] == "绿色食品"

    zh = render(app, summary, "zh")
    assert 'data-verdict="pass"' in zh and "铅" in zh and "湖北省茶叶质量检测中心" in zh
    assert "限量 ≤ 5 mg/kg" in zh and "必检项目均已检测" not in zh
    assert "LB-OK" in zh and "LB-OLD" not in zh
    en = render(app, summary, "en")
    assert "lead (Pb)" in en and "Green Food" in en


def test_a_failed_batch_never_reads_as_compliant(app, client, auth, make_batch):
    batch = make_batch()
    failing = tea_results(lead={"parameter": "lead", "value": "9", "unit": "mg/kg"})
    post_inspection(client, auth("inspector"), batch.id, failing)
    summary = plain(public_summary(db.session.get(Batch, batch.id)))
    assert (summary["verdict"], summary["compliant"]) == ("fail", False)
    assert next(t for t in summary["tests"] if t["parameter"] == "lead")["verdict"] == "fail"
    assert summary["block"]["title"] == "检测不合格"
    assert summary["block"]["reasons"][0]["text"] == "铅 9 mg/kg，超过限量 ≤ 5 mg/kg（GB 2762-2022）。"
    page = render(app, summary, "zh")
    assert 'data-verdict="fail"' in page and "不合格" in page
    assert "检测合格" not in page


def test_an_untested_batch_is_not_compliant_either(app, make_batch):
    summary = public_summary(make_batch())
    assert (summary["verdict"], summary["compliant"], summary["tests"]) == ("incomplete", False, [])
    assert summary["block"]["title"] == "尚不能判定是否合格"
    assert [r["text"] for r in summary["block"]["reasons"]] == ["尚无检测报告。"]
    assert "暂无检测记录。" in render(app, summary, "zh")
