"""The consumer page ``/t/{code}`` and its JSON twin, in both languages, as a consumer gets them."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event, text

from app.batches import service as batches
from app.compliance.models import Inspection, InspectionResult
from app.db import db
from app.lineage.models import LineageEdge
from app.recalls.models import Recall
from tests.conftest import PUBLIC_BASE_URL, settle
from tests.public.builders import T0, build_journey


def page(client, path: str, **headers: str) -> str:
    response = client.get(path, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/html"
    return response.get_data(as_text=True)


def visible_text(html: str) -> str:
    html = re.sub(r"<(style|script)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_chinese_by_default_with_product_origin_producer_and_journey(client, journey):
    html = page(client, f"/t/{journey.batch.public_code}")
    words = visible_text(html)
    assert '<html lang="zh-CN">' in html
    assert "通山枇杷" in words
    assert "产地 通山县" in words
    assert "生产者 大畈镇李家枇杷园" in words
    assert journey.batch.lot_code in words
    # The stages in the order they happened.
    stages = re.findall(r"<h3>(\S+?)(?: <span|</h3>)", html)
    assert stages == ["育苗", "种植", "采收", "包装", "储存", "运输", "销售"]
    assert "地点：李家枇杷园一号地，大畈镇，通山县" in words
    assert "投入品 腐熟有机肥（肥料）；吡虫啉（农药，安全间隔期 14 天）" in words
    assert "工序" not in words  # loquats are not processed
    assert "温度 4 ℃ 湿度 90%" in words
    assert "路线 通山县大畈镇 → 武汉白沙洲农副产品大市场" in words
    assert "销售渠道 武汉白沙洲农副产品大市场批发" in words
    assert "记录方：通山县九宫山枇杷专业合作社" in words


def test_a_correction_shows_the_corrected_value_with_a_mark(client, journey):
    words = visible_text(page(client, f"/t/{journey.batch.public_code}"))
    assert "采收 已更正" in words
    assert "采收量 1,180 千克 已更正" in words
    assert "1,200 千克" not in words
    # Facts the amendment left alone carry no mark.
    assert "等级 一级 品种" in words
    # The reason, as its recorder wrote it, and the day of the correction, in the page's language.
    assert re.search(r"已更正：过磅复核（\d{4}年\d{1,2}月\d{1,2}日）", words), words
    en = visible_text(page(client, f"/t/{journey.batch.public_code}?lang=en"))
    assert "Corrected: 过磅复核 (" in en
    entries = client.get(f"/api/v1/public/{journey.batch.public_code}").get_json()["journey"]
    harvest = next(e for e in entries if e["stage"] == "harvest")
    assert [c["reason"] for c in harvest["corrections"]] == ["过磅复核"]
    assert all(e["corrections"] == [] for e in entries if e["stage"] != "harvest")


def test_standards_with_title_level_and_force(client, journey):
    words = visible_text(page(client, f"/t/{journey.batch.public_code}"))
    # A product's default standards only suggest (issue 9): the loquat's GB/T 13867 binds nothing.
    assert "GB/T 13867-1992 国家标准 推荐性 鲜枇杷果" not in words
    assert re.search(r"GB 2763-\d{4} 国家标准 强制性", words)
    en = visible_text(page(client, f"/t/{journey.batch.public_code}?lang=en"))
    assert "GB/T 13867-1992 National standard Recommended Fresh loquat" not in en
    assert re.search(r"GB 2763-\d{4} National standard Mandatory", en)


def test_english_with_lang_parameter(client, journey):
    html = page(client, f"/t/{journey.batch.public_code}?lang=en")
    words = visible_text(html)
    assert '<html lang="en">' in html
    assert "Tongshan loquat" in words
    assert "Origin Tongshan County" in words
    assert "Producer Li Family Loquat Orchard, Dafan" in words
    assert "Journey" in words and "Applicable standards" in words
    stages = re.findall(r"<h3>(.+?)(?: <span|</h3>)", html)
    assert stages == ["Seedling", "Planting", "Harvest", "Packing", "Storage", "Transport", "Sale"]
    assert "Harvested 1,180 kg corrected" in words
    # The pesticide the farmer recorded as 吡虫啉, by its catalog name.
    assert "imidacloprid (pesticide, pre-harvest interval 14 days)" in words
    assert "Records not changed" in words and "intact" not in words
    assert "May 18, 2025" in words
    for chinese_label in ("溯源历程", "执行标准", "产地", "采收量", "记录方"):
        assert chinese_label not in words


@pytest.mark.parametrize(
    ("accept", "expected"),
    [("en-US,en;q=0.9", "en"), ("zh-CN,zh;q=0.9,en;q=0.5", "zh"), ("fr-FR", "zh"), ("", "zh")],
)
def test_accept_language_chooses_the_language(client, journey, accept, expected):
    response = client.get(f"/t/{journey.batch.public_code}", headers={"Accept-Language": accept} if accept else {})
    assert response.status_code == 200
    assert "Accept-Language" in response.headers["Vary"]
    html = response.get_data(as_text=True)
    assert ("Tongshan loquat" in html) is (expected == "en")
    assert ('<html lang="zh-CN">' in html) is (expected == "zh")


def test_lang_parameter_wins_over_accept_language(client, journey):
    html = page(client, f"/t/{journey.batch.public_code}?lang=zh", **{"Accept-Language": "en"})
    assert "溯源历程" in html and "Journey" not in visible_text(html)


def test_the_chain_badge_reports_a_row_changed_in_the_database(client, journey):
    code = journey.batch.public_code
    assert "记录未被改动" in visible_text(page(client, f"/t/{code}"))
    db.session.execute(
        text("UPDATE events SET occurred_at = :t WHERE batch_id = :b AND seq = 4"),
        {"t": (T0 + dt.timedelta(days=60)).replace(tzinfo=None), "b": journey.batch.id},
    )
    settle()
    words = visible_text(page(client, f"/t/{code}"))
    assert "记录校验未通过" in words and "第 4 条记录与存证不一致" in words
    assert "记录未被改动" not in words
    assert "Record 4 does not match" in visible_text(page(client, f"/t/{code}?lang=en"))
    chain = client.get(f"/api/v1/public/{code}").get_json()["chain"]
    assert chain == {
        "valid": False, "events": 4, "head_hash": journey.batch.head_hash, "first_invalid_seq": 4,
    }  # fmt: skip


def test_no_recall_notice_on_an_active_batch(client, journey):
    html = page(client, f"/t/{journey.batch.public_code}")
    assert 'id="recall"' not in html and "召回通知" not in html


def test_recalled_batch_shows_a_bilingual_notice_with_the_reason(client, make_journey):
    recalled = make_journey(recalled=True)
    for lang, first in (("zh", "召回通知"), ("en", "Recall notice")):
        html = page(client, f"/t/{recalled.batch.public_code}?lang={lang}")
        notice = visible_text(re.search(r'<section class="recall"[^>]*>(.*?)</section>', html, re.S)[1])
        assert notice.strip().startswith(first)
        assert "召回通知" in notice and "Recall notice" in notice
        assert "此批次产品已被召回" in notice and "This batch has been recalled" in notice
        assert "抽检发现吡虫啉残留超标" in notice
        assert 'role="alert"' in html
    body = client.get(f"/api/v1/public/{recalled.batch.public_code}?lang=en").get_json()
    assert body["status"] == "recalled"
    assert body["recall"]["reason"] == "抽检发现吡虫啉残留超标"
    assert body["recall"]["inherited"] is False
    assert body["recall"]["notice"]["zh"]["title"] == "召回通知"
    assert body["recall"]["notice"]["en"]["title"] == "Recall notice"


def test_a_recall_of_an_input_batch_reaches_the_page_of_its_product(client, make_journey):
    source = make_journey(recalled=True)
    made = make_journey()
    db.session.add(
        LineageEdge(
            input_batch_id=source.batch.id, output_batch_id=made.batch.id, quantity=Decimal("100"),
            kind="transformation", occurred_at=T0 + dt.timedelta(days=85),
        )
    )  # fmt: skip
    made.batch.status = "recalled"
    settle()
    words = visible_text(page(client, f"/t/{made.batch.public_code}"))
    assert "召回原因：抽检发现吡虫啉残留超标" in words
    assert f"召回源自其原料批次 {source.batch.lot_code}" in words
    recall = client.get(f"/api/v1/public/{made.batch.public_code}").get_json()["recall"]
    assert recall["inherited"] is True and recall["lot_code"] == source.batch.lot_code


def test_a_closed_recall_is_not_the_reason_shown(client, make_journey):
    recalled = make_journey(recalled=True)
    db.session.query(Recall).filter_by(batch_id=recalled.batch.id).update({"status": "closed"})
    # Closed as the service closes it: a recall_closed record in the chain (the page reads the chain).
    batches.append_system_event(batches.lock_batch(recalled.batch.id), recalled.actor, "recall_closed",
                                {"recall": None, "reason": "已完成召回"})  # fmt: skip
    settle()
    words = visible_text(page(client, f"/t/{recalled.batch.public_code}"))
    # Still recalled, so still the notice; but no stale reason from a closed recall.
    assert "此批次产品已被召回" in words
    assert "抽检发现吡虫啉残留超标" not in words.split("一县一品")[0]


def test_tests_block_summarizes_the_inspections_on_record(client, journey):
    code = journey.batch.public_code
    # With no report on record the summary says so once; the reports card is left out.
    assert "暂无检测记录。" in visible_text(page(client, f"/t/{code}"))
    assert "No tests on record." in visible_text(page(client, f"/t/{code}?lang=en"))
    assert "暂无检测结果记录。" not in visible_text(page(client, f"/t/{code}"))
    inspection = Inspection(
        batch_id=journey.batch.id, report_no="XN-2025-0518", lab="咸宁市产品质量监督检验所",
        sampled_at=T0 + dt.timedelta(days=78), tested_at=T0 + dt.timedelta(days=79),
    )  # fmt: skip
    inspection.results = [
        InspectionResult(parameter_key="pesticide.imidacloprid", value=Decimal("0.02"), unit="mg/kg"),
        InspectionResult(parameter_key="lead", value=Decimal("0.01"), unit="mg/kg"),
    ]
    db.session.add(inspection)
    # As the compliance service does: the report enters the batch's chain too.
    batches.append_system_event(
        batches.lock_batch(journey.batch.id), journey.actor, "inspection", {"report_no": "XN-2025-0518"},
        occurred_at=T0 + dt.timedelta(days=79), now=T0 + dt.timedelta(days=82),
    )  # fmt: skip
    settle()
    words = visible_text(page(client, f"/t/{code}"))
    assert "暂无检测结果记录。" not in words
    assert "XN-2025-0518 2025年5月19日 咸宁市产品质量监督检验所 · 2 项检测" in words
    assert "2 parameters tested" in visible_text(page(client, f"/t/{code}?lang=en"))
    tests = client.get(f"/api/v1/public/{code}").get_json()["tests"]
    assert tests["count"] == 1 and tests["inspections"][0]["results"] == 2


@pytest.mark.parametrize("code", ["AAAAAAAAAAAAAAAAAAAAAA", "abc", "not a code!", "x" * 300, "%E5%92%B8"])
def test_unknown_or_malformed_code_is_a_helpful_404(client, journey, code):
    response = client.get(f"/t/{code}")
    assert response.status_code == 404
    words = visible_text(response.get_data(as_text=True))
    assert "没有找到这个追溯码" in words and "12315" in words
    assert "Traceback" not in words
    response = client.get(f"/t/{code}?lang=en")
    assert response.status_code == 404
    assert "We could not find this trace code" in visible_text(response.get_data(as_text=True))


def test_other_unknown_pages_get_the_error_page_in_the_page_language(client):
    response = client.get("/no/such/page", headers={"Accept-Language": "en"})
    assert response.status_code == 404
    words = visible_text(response.get_data(as_text=True))
    assert "Not found" in words and "Back to the home page" in words
    assert "没有找到" in visible_text(client.get("/no/such/page").get_data(as_text=True))


def all_keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in all_keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in all_keys(v)}
    return set()


def test_json_twin_carries_the_same_facts(client, journey):
    response = client.get(f"/api/v1/public/{journey.batch.public_code}")
    assert response.status_code == 200
    assert "Accept-Language" in response.headers["Vary"]
    body = response.get_json()
    assert body["lang"] == "zh"
    assert body["public_url"] == f"{PUBLIC_BASE_URL}/t/{journey.batch.public_code}"
    assert body["lot_code"] == journey.batch.lot_code
    assert body["product"] == {"key": "loquat", "name": "通山枇杷", "brand_county": "通山县"}
    assert body["origin_county"] == "通山县"
    assert body["producer"] == {"name": "大畈镇李家枇杷园"}
    assert [e["stage"] for e in body["journey"]] == [
        "seedling", "planting", "harvest", "packing", "storage", "transport", "sale",
    ]  # fmt: skip
    harvest = body["journey"][2]
    assert harvest["corrected"] is True
    assert {"key": "quantity", "label": "采收量", "value": "1,180 千克", "corrected": True} in harvest["facts"]
    assert {"key": "grade", "label": "等级", "value": "一级", "corrected": False} in harvest["facts"]
    assert body["chain"] == {
        "valid": True, "events": 9, "head_hash": journey.batch.head_hash, "first_invalid_seq": None,
    }  # fmt: skip
    assert body["recall"] is None
    codes = [s["code"] for s in body["standards"]]
    assert "GB/T 13867-1992" not in codes  # a default suggests; only declared standards bind
    assert body["standards"][0]["mandatory"] is True  # mandatory floor first
    en = client.get(f"/api/v1/public/{journey.batch.public_code}?lang=en").get_json()
    assert en["lang"] == "en" and en["product"]["name"] == "Tongshan loquat"
    assert en["journey"][2]["stage_name"] == "Harvest"
    assert en["journey"][2]["date"] == "May 18, 2025"


def test_json_twin_unknown_code_is_a_json_404(client):
    response = client.get("/api/v1/public/AAAAAAAAAAAAAAAAAAAAAA")
    assert response.status_code == 404
    assert response.get_json()["code"] == 404


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_nothing_private_on_the_page_or_in_the_json(client, make_journey, lang):
    j = make_journey(recalled=True)
    html = page(client, f"/t/{j.batch.public_code}?lang={lang}")
    raw_json = client.get(f"/api/v1/public/{j.batch.public_code}?lang={lang}").get_data(as_text=True)
    for secret in j.private_values:
        assert secret, "every seeded private value is a real string"
        assert secret not in html, secret
        assert secret not in raw_json, secret
    body = client.get(f"/api/v1/public/{j.batch.public_code}").get_json()
    keys = all_keys(body)
    assert not {k for k in keys if k == "id" or k.endswith("_id")}
    assert not {k for k in keys if any(w in k for w in ("phone", "price", "username", "user", "credit", "masked"))}
    # No internal id in any link either.
    assert f"/batches/{j.batch.id}" not in html


def test_openapi_documents_the_json_twin_and_the_qr_codes(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    twin = spec["paths"]["/api/v1/public/{public_code}"]["get"]
    assert "200" in twin["responses"] and "lang" in [p["name"] for p in twin["parameters"] if p["in"] == "query"]
    png = spec["paths"]["/api/v1/batches/{batch_id}/qr.png"]["get"]
    assert "image/png" in png["responses"]["200"]["content"]
    assert "size" in [p["name"] for p in png["parameters"]]
    assert "image/svg+xml" in spec["paths"]["/api/v1/batches/{batch_id}/qr.svg"]["get"]["responses"]["200"]["content"]


def test_the_floor_route_reads_one_batch(client, journey):
    response = client.get(f"/t/{journey.batch.public_code}/ping")
    assert response.status_code == 200 and journey.batch.lot_code in response.get_data(as_text=True)
    assert client.get("/t/AAAAAAAAAAAAAAAAAAAAAA/ping").status_code == 404


def test_the_consumer_page_reads_a_fixed_number_of_queries(app, client, make_journey):
    """No N+1: a journey three times as long costs the same number of queries."""
    short = make_journey()
    long = build_journey()
    for day in range(20):
        batches.append_event(
            long.batch.id, long.actor, stage="storage", occurred_at=T0 + dt.timedelta(days=82, hours=day),
            data={"temperature_c": "4", "humidity_pct": "88"}, now=T0 + dt.timedelta(days=83),
        )  # fmt: skip
    settle()
    counts = []
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            statements.append(statement)

    for code in (short.batch.public_code, long.batch.public_code):
        statements.clear()
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert client.get(f"/t/{code}").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        counts.append(len(statements))
    # The stamp, then the batch, its events, standards and inspections (5); then the compliance
    # summary: its stored verdict's fingerprint (chained records it reads, inspections with their
    # results, bound standards, their editions with requirements, successors' dates), the stored
    # verdict and certifications (7 more), the checkpoint's cover of the chain (1), and the rows
    # the chain check compares with its records: the batch's facts, lineage edges both ways,
    # recalls, test reports (7 more), and the lots it came from (the upstream trace, 1; a lot
    # with sources reads their rows and stages too), and its 承诺达标合格证 (1). A repeat is the
    # stamp alone.
    assert counts == [22, 22], counts
    code = short.batch.public_code
    statements.clear()
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert client.get(f"/t/{code}").status_code == 200
        assert client.get(f"/api/v1/public/{code}").status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) == 1 + 22, [s[:90] for s in statements]  # the page cached; the twin built once


def test_a_new_event_shows_on_the_next_request(client, journey):
    code = journey.batch.public_code
    before = page(client, f"/t/{code}")
    assert "抽样检验" not in before
    batches.append_event(
        journey.batch.id, journey.actor, stage="storage", occurred_at=T0 + dt.timedelta(days=82),
        data={"temperature_c": "2", "humidity_pct": "85"}, now=T0 + dt.timedelta(days=83),
    )  # fmt: skip
    settle()
    words = visible_text(page(client, f"/t/{code}"))
    assert "温度 2 ℃ 湿度 85%" in words
    assert "全部 10 条记录" in words
    assert client.get(f"/api/v1/public/{code}").get_json()["chain"]["events"] == 10


def test_the_page_revalidates_with_an_etag(client, journey):
    path = f"/t/{journey.batch.public_code}"
    first = client.get(path)
    assert first.headers["Cache-Control"] == "no-cache"
    etag = first.headers["ETag"]
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    english = client.get(f"{path}?lang=en", headers={"If-None-Match": etag})
    assert english.status_code == 200 and english.headers["ETag"] != etag


def test_absurd_numbers_and_page_numbers_never_break_public_pages(client, journey):
    batch = batches.create_batch(journey.actor, product="loquat", quantity=Decimal("5"), unit="kg", now=T0)
    batches.append_event(
        batch.id, journey.actor, stage="seedling", occurred_at=T0 + dt.timedelta(days=1),
        data={"variety": "白玉", "count": 10**40}, now=T0 + dt.timedelta(days=2),
    )  # fmt: skip
    settle()
    assert client.get(f"/t/{batch.public_code}").status_code == 200
    assert client.get(f"/api/v1/public/{batch.public_code}").status_code == 200
    assert client.get("/?page=99999999999999999999").status_code == 200


def test_only_the_editions_in_force_are_listed(client, journey):
    """GB 2763-2021 stays bound for older dates, but a 2026 batch is held to GB 2763-2026 only."""
    body = client.get(f"/api/v1/public/{journey.batch.public_code}").get_json()
    codes = {s["code"] for s in body["standards"]}
    assert set(body["compliance"]["standards_in_force"]) >= codes
    on = body["compliance"]["evaluated_on"]
    if on >= "2026-03-01":
        assert "GB 2763-2026" in codes and "GB 2763-2021" not in codes and "GB 2763.1-2022" not in codes
    else:
        assert "GB 2763-2021" in codes and "GB 2763-2026" not in codes
