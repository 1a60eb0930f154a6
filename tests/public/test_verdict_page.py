"""What the consumer page says about a batch's tests, and what it must never claim (issue 9).

The verdict first, with its reasons in plain words; every tested item with its value, limit and
unit; the chain box saying only what the chain proves; completeness on its own; the 执行标准 and
the production licence; the lots a merged lot came from; certificates valid today.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from app import clock
from app.auth import Actor
from app.compliance.certifications import create_certification
from app.compliance.inspections import record_inspection
from app.db import db
from app.orgs.models import User
from app.public import consumer
from tests.conftest import settle
from tests.public.builders import TEA_LAB, build_failed_tea, build_merged, store_verdict
from tests.public.test_consumer import page, visible_text

NBSP = "\u00a0"


def public(client, code: str, lang: str = "zh") -> dict:
    """The JSON twin, with the no-break spaces between figures and units read as spaces."""
    response = client.get(f"/api/v1/public/{code}?lang={lang}")
    assert response.status_code == 200, response.get_json()
    return plain(response.get_json())


def plain(value):
    """``value`` with its no-break spaces as plain spaces, to compare with text as people write it."""
    return json.loads(json.dumps(value, ensure_ascii=False).replace(NBSP, " "))


@pytest.fixture
def tea(app):
    built = build_failed_tea()
    settle()
    return built


@pytest.fixture
def merged(app):
    built = build_merged()
    settle()
    return built


def test_the_json_opens_with_the_verdict_and_its_reasons_in_plain_words(client, tea):
    body = public(client, tea.batch.public_code)
    assert next(iter(body)) == "verdict"
    verdict = body["verdict"]
    assert verdict["verdict"] == "fail" and verdict["title"] == "检测不合格"
    assert verdict["reasons"][0] == {
        "kind": "fail",
        "parameter": "pesticide.imidacloprid",
        "text": "吡虫啉 0.8 mg/kg，超过限量 ≤ 0.5 mg/kg（GB 2763-2021）。",
    }
    # Sprayed on the 10th with a 7-day interval, picked on the 14th: three calendar days short.
    breach = next(r for r in verdict["reasons"] if r["kind"] == "pre_harvest")
    assert breach["text"] == "吡虫啉施用后未过 7 天的安全间隔期就采收了，提前了 3 天。"
    assert body["compliance"]["compliant"] is False

    english = public(client, tea.batch.public_code, "en")["verdict"]
    assert english["title"] == "Failed testing"
    assert english["reasons"][0]["text"] == "imidacloprid 0.8 mg/kg, over the limit ≤ 0.5 mg/kg (GB 2763-2021)."
    # The pesticide recorded as 吡虫啉 reads in English by its catalog name.
    assert english["reasons"][1]["text"] == (
        "Harvested before the 7-day pre-harvest interval of imidacloprid was over: 3 days too early."
    )


def test_a_figure_never_breaks_from_its_unit(client, tea):
    raw = client.get(f"/api/v1/public/{tea.batch.public_code}").get_json()
    expected = f"吡虫啉 0.8{NBSP}mg/kg，超过限量 ≤{NBSP}0.5{NBSP}mg/kg（GB 2763-2021）。"
    assert raw["verdict"]["reasons"][0]["text"] == expected


def test_the_page_opens_with_the_verdict_above_everything_else(client, tea):
    html = page(client, f"/t/{tea.batch.public_code}")
    main = html.split("<main>", 1)[1]
    assert main.lstrip().startswith('<section class="card verdict-card bad" id="verdict" data-verdict="fail"')
    order = [main.index(f'id="{part}"') for part in ("verdict", "product", "compliance", "journey", "standards")]
    assert order == sorted(order)
    verdict = visible_text(re.search(r'<section[^>]*id="verdict".*?</section>', html, re.S)[0])
    assert "✗ 检测不合格" in verdict
    assert "吡虫啉 0.8 mg/kg，超过限量 ≤ 0.5 mg/kg（GB 2763-2021）" in verdict
    assert "安全间隔期" in verdict and "提前了 3 天" in verdict


def test_an_incomplete_verdict_says_what_is_missing(client, tea):
    verdict = public(client, tea.batch.public_code)["verdict"]
    missing = next(r for r in verdict["reasons"] if r["kind"] == "not_tested")
    # The report held four items; the tea MRLs of GB 2763-2021 and the 执行标准's items were not tested.
    assert "啶虫脒" in verdict["missing"]  # a grading item without a figure (水分) does not block
    assert missing["text"].startswith("尚未检测：") and f"等 {len(verdict['missing'])} 项" in missing["text"]


def test_every_tested_item_is_listed_with_value_limit_and_unit(client, tea):
    tests = public(client, tea.batch.public_code)["compliance"]["tests"]
    by_key = {t["parameter"]: t for t in tests}
    assert set(by_key) == {"pesticide.imidacloprid", "lead", "fluoride", "pesticide.glyphosate", "pesticide.bentazone",
                           "cadmium"}  # fmt: skip
    assert tests[0]["parameter"] == "pesticide.imidacloprid"  # the failure first
    assert (by_key["lead"]["result"], by_key["lead"]["limit"], by_key["lead"]["standard"]) == (
        "1.2 mg/kg", "≤ 5 mg/kg", "GB 2762-2022",
    )  # fmt: skip
    assert by_key["pesticide.glyphosate"]["result"] == "未检出（检出限 0.01 mg/kg）"
    # Cadmium has no limit for tea in the catalog: listed all the same, as "no limit on record".
    assert (by_key["cadmium"]["verdict"], by_key["cadmium"]["limit"]) == ("no_limit", None)
    card = visible_text(re.search(r'<section class="card compliance-summary".*?</section>', page(
        client, f"/t/{tea.batch.public_code}"), re.S)[0])  # fmt: skip
    assert "吡虫啉 不合格 结果 0.8 mg/kg · 限量 ≤ 0.5 mg/kg GB 2763-2021" in card
    assert "镉 无限量记录 结果 未检出（检出限 0.01 mg/kg） 有效认证" in card


def test_unverified_and_temporary_limits_are_said_so(client, tea):
    body = public(client, tea.batch.public_code)
    by_key = {t["parameter"]: t for t in body["compliance"]["tests"]}
    assert by_key["pesticide.imidacloprid"]["provisional"] is True  # GB 2763-2021 tea MRL: not read in a source
    assert by_key["lead"]["provisional"] is False
    # GB 2763.1-2022's bentazone in tea is an official temporary MRL (临时限量), and unverified too.
    bentazone = by_key["pesticide.bentazone"]
    assert (bentazone["temporary_mrl"], bentazone["standard"]) == (True, "GB 2763.1-2022")
    assert by_key["pesticide.imidacloprid"]["temporary_mrl"] is False
    words = visible_text(page(client, f"/t/{tea.batch.public_code}"))
    assert "部分限量尚未经官方文本核实 ：标“未核实”的限量取自公开的二手资料" in words
    assert "暂定" not in words  # reads as GB 2763's 临时限量 to a Chinese reader (audit §6)
    assert re.search(r"灭草松 合格 结果 0.05 mg/kg · 限量 ≤ 0.1 mg/kg GB 2763.1-2022 未核实 临时限量", words)
    english = visible_text(page(client, f"/t/{tea.batch.public_code}?lang=en"))
    assert "Some limits not yet verified against an official text" in english and "Temporary MRL" in english


def test_a_detected_residue_with_no_limit_awaits_review_and_never_passes(client, tea):
    """The engine's contract: a row ``needs_review`` (待判定); the batch is then incomplete."""

    def review_pending(result):
        for row in result["rows"]:
            if row["parameter"] == "pesticide.imidacloprid":
                row.update(verdict="needs_review", standard=None, limit=None, comparator=None, unit=None)
        result["verdict"] = "incomplete"
        result["pre_harvest"] = []

    store_verdict(tea.batch, review_pending)
    settle()
    body = public(client, tea.batch.public_code)
    assert body["verdict"]["verdict"] == "incomplete" and body["compliance"]["compliant"] is False
    assert body["verdict"]["title"] == "尚不能判定是否合格"
    review = next(r for r in body["verdict"]["reasons"] if r["kind"] == "needs_review")
    assert review["text"] == "吡虫啉 检出 0.8 mg/kg，但没有可依据的限量记录，待检验人员判定。"
    words = visible_text(page(client, f"/t/{tea.batch.public_code}"))
    assert "吡虫啉 待判定 结果 0.8 mg/kg · 暂无限量记录" in words
    assert "所检项目合格" not in words and "所检项目符合" not in words


def test_a_pass_says_the_items_tested_meet_their_limits_and_nothing_more(client, tea):
    def passed(result):
        result["rows"] = [r for r in result["rows"] if r["verdict"] == "pass"]
        result["verdict"], result["pre_harvest"] = "pass", []

    store_verdict(tea.batch, passed)
    settle()
    verdict = public(client, tea.batch.public_code)["verdict"]
    assert verdict["title"] == "所检项目合格" and verdict["reasons"] == []
    words = visible_text(page(client, f"/t/{tea.batch.public_code}"))
    assert "✓ 所检项目合格 所检项目符合所适用标准的要求。本结论只针对下列已检测的项目。" in words
    # The catalog never records that its list for a product and form is complete, so never this:
    for claim in ("必检项目均已检测", "全部项目", "所有项目"):
        assert claim not in words


def test_the_chain_box_says_only_what_the_chain_proves(client, tea):
    words = visible_text(page(client, f"/t/{tea.batch.public_code}"))
    # Six records and the hold the failed verdict put on the lot.
    assert "✓ 记录未被改动 全部 7 条记录环环相扣，写入后未被改动。" in words
    assert "记录完整" not in words
    assert "存证一致" not in words  # no signed checkpoint covers this batch
    assert public(client, tea.batch.public_code)["anchor"] is None


def test_completeness_names_the_stages_with_no_record(client, tea, merged):
    body = public(client, tea.batch.public_code)
    assert [s["stage"] for s in body["completeness"]["missing"]] == ["seedling", "storage", "transport", "sale"]
    words = visible_text(page(client, f"/t/{tea.batch.public_code}"))
    assert "尚无记录的环节：育苗、储存、运输、销售。" in words
    # The pooled lot's harvests are in its households' lots: said so, not counted as missing.
    pooled = public(client, merged.batch.public_code)["completeness"]
    assert [s["stage"] for s in pooled["in_sources"]] == ["harvest"]
    assert "harvest" not in [s["stage"] for s in pooled["missing"]]
    assert "采收记录在原料批次中。" in visible_text(page(client, f"/t/{merged.batch.public_code}"))


def test_the_executive_standard_and_the_production_licence_are_shown(client, tea, journey):
    body = public(client, tea.batch.public_code)
    licence = tea.processor.production_licence
    assert re.fullmatch(r"SC\d{14}", licence)
    assert body["executive_standards"] == ["GB/T 9833.9-2013"]
    assert body["production_licences"] == [{"number": licence, "holder": "赤壁市羊楼洞砖茶有限公司"}]
    words = visible_text(page(client, f"/t/{tea.batch.public_code}"))
    assert f"执行标准 GB/T 9833.9-2013 生产许可证 {licence}" in words
    assert "GB/T 9833.9-2013 国家标准 推荐性 执行标准" in words
    english = visible_text(page(client, f"/t/{tea.batch.public_code}?lang=en"))
    assert f"Product standard GB/T 9833.9-2013 Production licence {licence}" in english
    # Fresh loquats are not a processed line: no licence row.
    assert public(client, journey.batch.public_code)["production_licences"] == []
    assert "生产许可证" not in visible_text(page(client, f"/t/{journey.batch.public_code}"))


def test_a_merged_lot_shows_the_lots_it_came_from(client, merged):
    body = public(client, merged.batch.public_code)
    sources = body["sources"]
    assert [s["lot_code"] for s in sources] == [lot.lot_code for lot in merged.sources]
    assert [s["producer"] for s in sources] == ["大畈镇王家枇杷园", "大畈镇陈家枇杷园", "大畈镇刘家枇杷园"]
    assert [s["quantity"] for s in sources] == ["100 千克", "200 千克", "300 千克"]
    assert all(s["origin_county"] == "通山县" and s["depth"] == 1 for s in sources)
    assert sources[0]["harvested_on"] == "2025年5月19日"
    html = page(client, f"/t/{merged.batch.public_code}")
    for lot in merged.sources:
        link = f'href="/t/{lot.public_code}"'
        assert link in html
        assert client.get(f"/t/{lot.public_code}").status_code == 200
    # English names where the organization has one; the Chinese name where it has none.
    english = public(client, merged.batch.public_code, "en")["sources"]
    assert [s["producer"] for s in english] == ["Wang Family Orchard", "Chen Family Orchard", "大畈镇刘家枇杷园"]
    assert english[0]["harvested_on"] == "May 19, 2025" and english[0]["quantity"] == "100 kg"
    # A lot with no sources shows none, and no empty box.
    assert public(client, merged.sources[0].public_code)["sources"] == []
    assert 'id="sources"' not in page(client, f"/t/{merged.sources[0].public_code}")


def _inspector(tea) -> Actor:
    user = db.session.scalars(select(User).where(User.organization_id == tea.inspector.id)).one()
    return Actor(user=user, org=tea.inspector)


def _certify(tea, number: str, valid_from: dt.date, valid_to: dt.date | None) -> None:
    create_certification(
        _inspector(tea), kind="green_food", number=number, issuer="中国绿色食品发展中心",
        holder=tea.processor.code, product="brick_tea", valid_from=valid_from, valid_to=valid_to,
    )  # fmt: skip
    settle()


def test_a_certificate_is_listed_only_while_it_is_valid_today(client, tea, monkeypatch):
    today = clock.china_date(clock.now())
    # Both were valid on the harvest date (2026-02-14); only one still is today.
    _certify(tea, "LB-STILL", dt.date(2026, 1, 1), today)
    _certify(tea, "LB-LAPSED", dt.date(2026, 1, 1), today - dt.timedelta(days=1))
    body = public(client, tea.batch.public_code)
    assert [c["number"] for c in body["compliance"]["certifications"]] == ["LB-STILL"]
    assert body["compliance"]["certifications_on"] == today.isoformat()
    assert "LB-LAPSED" not in page(client, f"/t/{tea.batch.public_code}")
    # Tomorrow the other lapses too, with the page cached: the day is part of the cache key.
    monkeypatch.setattr(consumer, "today", lambda: today + dt.timedelta(days=1))
    assert public(client, tea.batch.public_code)["compliance"]["certifications"] == []
    assert "LB-STILL" not in page(client, f"/t/{tea.batch.public_code}")


def test_what_the_page_shows_from_outside_the_chain_shows_on_the_next_request(client, tea):
    """The stamp covers the stored verdict, the bound standards and the certifications."""
    code = tea.batch.public_code
    assert public(client, code)["verdict"]["verdict"] == "fail"  # cached now

    def passed(result):
        result["rows"] = [r for r in result["rows"] if r["verdict"] == "pass"]
        result["verdict"], result["pre_harvest"] = "pass", []

    store_verdict(tea.batch, passed)  # as a re-judgement with no chain record would
    settle()
    assert public(client, code)["verdict"]["verdict"] == "pass"
    assert "所检项目合格" in page(client, f"/t/{code}")
    _certify(tea, "LB-NEW", dt.date(2026, 1, 1), None)
    assert "LB-NEW" in page(client, f"/t/{code}")


def test_a_later_report_is_listed_and_judged(client, tea):
    record_inspection(
        _inspector(tea), tea.batch.id, report_no=f"CB-RE-{tea.tag}", lab=TEA_LAB,
        sampled_at=dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC), tested_at=dt.datetime(2026, 3, 3, 9, tzinfo=dt.UTC),
        results=[{"parameter": "pesticide.acetamiprid", "value": Decimal("0.2"), "unit": "mg/kg"}],
    )  # fmt: skip
    settle()
    tests = public(client, tea.batch.public_code)["compliance"]["tests"]
    assert "pesticide.acetamiprid" in {t["parameter"] for t in tests}
