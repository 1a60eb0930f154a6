"""The desk's pages as read: the batch list's open-findings count (0, not blank), its phone layout
hooks, and English punctuation on English pages."""

from __future__ import annotations

import re

from tests.compliance.factories import new_batch, post_inspection

LEAD_FAIL = [{"parameter": "lead", "value": "8", "unit": "mg/kg"}]
FULL_WIDTH = re.compile("[\u3000-\u303f\uff00-\uffef]")


def _row(html: str, lot: str) -> str:
    found = re.search(rf'<tr data-lot="{re.escape(lot)}"[^>]*>(.*?)</tr>', html, flags=re.S)
    assert found, f"no row for {lot}"
    return found.group(0)


def _open_findings(row: str) -> str:
    found = re.search(r'<td data-label="[^"]*" class="findings[^"]*">(.*?)</td>', row, flags=re.S)
    assert found, "the row has no open-findings cell"
    return found.group(1).strip()


def test_the_batch_list_shows_0_open_findings_not_a_blank(desk, make_user, auth):
    coop = make_user("cooperative")
    clean = new_batch(coop, "brick_tea")
    failed = new_batch(coop, "brick_tea")
    assert post_inspection(desk, auth("inspector"), failed.id, LEAD_FAIL).status_code == 201

    page = desk.get("/desk/batches").get_data(as_text=True)
    clean_row, failed_row = _row(page, clean.lot_code), _row(page, failed.lot_code)
    assert 'data-open-findings="0"' in clean_row and _open_findings(clean_row) == "0"
    assert 'data-open-findings="1"' in failed_row and _open_findings(failed_row) == "1"
    # On a phone each row is a card: the lot code heads it, the other cells carry their labels.
    assert '<table class="stack batches">' in page
    assert '<td class="lot">' in clean_row and 'data-label="待处理问题"' in clean_row


def test_english_desk_pages_use_english_punctuation(desk, make_user, auth):
    coop = make_user("cooperative")
    batch = new_batch(coop, "brick_tea")
    assert post_inspection(desk, auth("inspector"), batch.id, LEAD_FAIL).status_code == 201

    page = desk.get(f"/desk/batches/{batch.id}?lang=en").get_data(as_text=True)
    assert "Overall verdict: " in page and "Overall verdict：" not in page
    assert "Fail: " in page
    text = re.sub(r"<[^>]+>", " ", re.sub(r"<(style|script)\b.*?</\1>", " ", page, flags=re.S))
    # Names and notes are data and keep their own punctuation; none of those here has any.
    assert not FULL_WIDTH.search(text), FULL_WIDTH.findall(text)
    # The phone cards' labels: static/css/desk.css picks the colon by the page's language.
    sheet = desk.get("/static/css/desk.css")
    css = sheet.get_data(as_text=True)
    sheet.close()
    assert 'html:lang(en) table.stack td[data-label]::before { content:attr(data-label) ": "; }' in css
    assert 'content:attr(data-label) "："' in css
    assert '<html lang="en">' in page and "css/desk.css" in page

    chinese = desk.get(f"/desk/batches/{batch.id}?lang=zh").get_data(as_text=True)
    assert "综合判定：" in chinese and '<html lang="zh-CN">' in chinese

    listing = desk.get("/desk/batches?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in listing and "css/desk.css" in listing
