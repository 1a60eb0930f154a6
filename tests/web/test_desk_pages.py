"""The desk's batch list a page at a time, in a fixed number of queries however many batches."""

from __future__ import annotations

import re

from tests.compliance.factories import new_batch, post_inspection
from tests.statements import counted

LEAD_FAIL = [{"parameter": "lead", "value": "8", "unit": "mg/kg"}]


def _lots(html: str) -> list[str]:
    return re.findall(r'data-lot="([^"]+)"', html)


def test_the_list_pages_fifty_batches_at_a_time_newest_first(desk, make_user, make_org):
    grower = make_user("cooperative", org=make_org(kind="cooperative", county="嘉鱼县"))
    made = [new_batch(grower, "lotus_root").lot_code for _ in range(55)]
    query = "/desk/batches?product=lotus_root&county=嘉鱼县"

    first = desk.get(query).get_data(as_text=True)
    assert _lots(first) == made[::-1][:50]
    assert "共 55 个批次" in first and 'data-page="1">1 / 2<' in first
    assert 'rel="next"' in first and 'rel="prev"' not in first
    next_link = re.search(r'<a rel="next" href="([^"]+)"', first)
    assert next_link is not None
    second = desk.get(next_link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert _lots(second) == made[::-1][50:]  # the filters carried over to the next page
    assert 'data-page="2">2 / 2<' in second and 'rel="prev"' in second and 'rel="next"' not in second
    # A page past the last shows the last; a page that is not a number, the first.
    assert _lots(desk.get(f"{query}&page=9").get_data(as_text=True)) == made[::-1][50:]
    assert _lots(desk.get(f"{query}&page=x").get_data(as_text=True)) == made[::-1][:50]


def test_the_verdict_filter_pages_in_the_database(desk, make_user, make_org, auth):
    grower = make_user("cooperative", org=make_org(kind="cooperative", county="通城县"))
    failed = [new_batch(grower, "brick_tea") for _ in range(3)]
    untested = [new_batch(grower, "brick_tea") for _ in range(2)]
    for batch in failed:
        assert post_inspection(desk, auth("inspector"), batch.id, LEAD_FAIL).status_code == 201
    page = desk.get("/desk/batches?county=通城县&verdict=fail").get_data(as_text=True)
    assert sorted(_lots(page)) == sorted(b.lot_code for b in failed) and "共 3 个批次" in page
    page = desk.get("/desk/batches?county=通城县&verdict=incomplete").get_data(as_text=True)
    assert sorted(_lots(page)) == sorted(b.lot_code for b in untested)


def test_a_page_is_at_most_ten_queries_whatever_the_number_of_batches(desk, make_user, make_org, auth):
    grower = make_user("cooperative", org=make_org(kind="cooperative", county="崇阳县"))
    few = [new_batch(grower, "mahua") for _ in range(2)]
    assert post_inspection(desk, auth("inspector"), few[0].id, LEAD_FAIL).status_code == 201
    for _ in range(60):
        new_batch(grower, "brick_tea")
    desk.get("/desk/batches")  # warm-up

    def page(query: str) -> int:
        with counted() as statements:
            response = desk.get(f"/desk/batches?county=崇阳县{query}")
            assert response.status_code == 200
        return len(statements)

    full, short, filtered = page("&product=brick_tea"), page("&product=mahua"), page("&verdict=fail")
    assert full <= 10, full
    assert full == short == filtered, (full, short, filtered)
