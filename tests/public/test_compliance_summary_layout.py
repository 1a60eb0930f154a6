"""The consumer page's tests-and-certifications card, laid out for a phone (no browser needed).

Tested items are a list, each with its result; the lab and the test date are said once per report,
not on every row; dates read as the rest of the page writes them (2025年5月19日, May 19, 2025).
"""

from __future__ import annotations

import re

from flask import render_template
from flask_babel import refresh

from tests.compliance.factories import post_inspection
from tests.conftest import settle
from tests.public.test_consumer import page, visible_text

LAB = "咸宁市产品质量监督检验所"


def compliance_card(html: str) -> str:
    found = re.search(r'<section class="card compliance-summary" id="compliance".*?</section>', html, flags=re.S)
    assert found, "the page has no compliance summary"
    return found.group(0)


def _inspect(client, auth, journey, report_no: str = "XN-2025-0518") -> None:
    """A report recorded as a lab records one: through the API, so it enters the batch's chain too."""
    results = [
        {"parameter": "lead", "value": "0.01", "unit": "mg/kg"},
        {"parameter": "cadmium", "value": "0.01", "unit": "mg/kg"},
        {"parameter": "pesticide.glyphosate", "value": "0.01", "unit": "mg/kg"},
    ]
    # Tested at 16:00 on 19 May 2025 in Xianning.
    response = post_inspection(
        client, auth("inspector"), journey.batch.id, results, report_no=report_no, lab=LAB,
        sampled_at="2025-05-18T16:00:00+08:00", tested_at="2025-05-19T16:00:00+08:00",
    )  # fmt: skip
    assert response.status_code == 201, response.get_json()
    settle()


def test_the_lab_and_the_date_are_said_once_per_report(client, auth, journey):
    _inspect(client, auth, journey)
    code = journey.batch.public_code
    card = compliance_card(page(client, f"/t/{code}"))
    words = visible_text(card)
    assert 'id="compliance"' in card and "data-verdict=" in card and "检测与认证" in words
    # Every tested item is listed, each with its own result badge...
    assert card.count("<li data-parameter=") == 3
    assert "铅" in words and "镉" in words and "草甘膦" in words
    assert card.count('<span class="badge ok">合格</span>') == 3
    # ...under one heading that names the lab and the day once, in the page's date style.
    assert card.count(LAB) == 1
    assert card.count("2025年5月19日") == 1 and "2025-05-19" not in card
    assert "2025年5月19日检测" in words and "报告 XN-2025-0518" in words
    # No table to squeeze on a phone.
    assert "<table" not in card

    english = visible_text(compliance_card(page(client, f"/t/{code}?lang=en")))
    assert english.count(LAB) == 1
    assert "Tested May 19, 2025" in english and "Report XN-2025-0518" in english
    assert "lead (Pb)" in english and "2025-05-19" not in english


def test_certifications_say_what_date_validity_is_judged_on(client, journey):
    card = visible_text(compliance_card(page(client, f"/t/{journey.batch.public_code}")))
    assert "有效认证" in card and "按今天（北京时间）判断是否在有效期内；已过期的认证不列出。" in card
    assert "暂无有效认证。" in card and "采收（或生产）日期" not in card
    english = visible_text(compliance_card(page(client, f"/t/{journey.batch.public_code}?lang=en")))
    assert "Validity is judged on today's date (China time); expired certificates are not listed." in english


def _render(app, summary, lang: str) -> str:
    with app.test_request_context(f"/?lang={lang}"):
        refresh()  # the tests share one app context, where Flask-Babel caches the locale
        return render_template("public/_compliance.html", summary=summary)


def _test(parameter, zh, en, verdict, report_no, lab, tested_at):
    return {"parameter": parameter, "name": zh, "name_zh": zh, "name_en": en, "verdict": verdict,
            "result": "1 mg/kg", "value": "1", "value_unit": "mg/kg", "not_detected": False,
            "limit": "≤ 0.5 mg/kg", "unit": "mg/kg", "standard": "GB 2762-2022", "provisional": False,
            "temporary_mrl": False, "grading": False,
            "tested_at": tested_at, "lab": lab, "report_no": report_no}  # fmt: skip


SUMMARY = {
    "verdict": "fail",
    "compliant": False,
    "provisional_basis": False,
    "evaluated_on": "2026-10-20",
    "tests": [
        _test("lead", "铅", "lead (Pb)", "fail", "R-1", "湖北省茶叶质量检测中心", "2026-10-20"),
        _test("moisture", "水分", "moisture", "pass", "R-1", "湖北省茶叶质量检测中心", "2026-10-20"),
        _test("fluoride", "氟", "fluoride", "inconclusive", "R-2", "咸宁市农产品质量安全检测中心", "2026-03-05"),
    ],
    "certifications": [
        {"kind": "green_food", "kind_zh": "绿色食品", "kind_en": "Green Food", "number": "LB-18-1",
         "issuer": "中国绿色食品发展中心", "valid_to": "2028-12-31"},
        {"kind": "organic", "kind_zh": "有机产品", "kind_en": "Organic", "number": "ORG-2", "issuer": "某认证中心",
         "valid_to": None},
    ],
}  # fmt: skip


def test_reports_are_grouped_and_dates_formatted_in_both_languages(app):
    zh = _render(app, SUMMARY, "zh")
    words = visible_text(zh)
    assert 'data-verdict="fail"' in zh and "检测合格" not in words
    assert zh.count("湖北省茶叶质量检测中心") == 1 and zh.count("咸宁市农产品质量安全检测中心") == 1
    assert "2026年10月20日检测" in words and "2026年3月5日检测" in words
    assert "有效期至 2028年12月31日" in words and "长期有效" in words
    assert "不合格" in words and "无法判定" in words
    assert not re.search(r"\d{4}-\d{2}-\d{2}", words)

    en = visible_text(_render(app, SUMMARY, "en"))
    assert "Tested October 20, 2026" in en and "Tested March 5, 2026" in en
    assert "Valid until December 31, 2028" in en and "Green Food" in en
    assert not re.search(r"\d{4}-\d{2}-\d{2}", en)
    assert not re.search("[\u3000-\u303f\uff00-\uffef]", en)  # no full-width punctuation in English


def test_an_unexpected_date_is_shown_as_it_is(app):
    odd = {**SUMMARY, "tests": [{**SUMMARY["tests"][0], "tested_at": "2026-13-01"}], "certifications": []}
    assert "2026-13-01" in visible_text(_render(app, odd, "zh"))


def test_pages_do_not_ask_for_a_favicon(client, journey):
    assert '<link rel="icon" href="data:,">' in page(client, f"/t/{journey.batch.public_code}")
