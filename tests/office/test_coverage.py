"""GET /api/v1/standards/coverage: stage x kind for a product line, each cell's standards, the gaps named."""

from __future__ import annotations


def test_the_matrix_lists_each_cells_standards_and_shows_gaps(client):
    body = client.get("/api/v1/standards/coverage?product=loquat").get_json()
    assert [r["stage_zh"] for r in body["rows"]] == ["育种育苗", "种植", "加工", "仓储", "运输", "销售", "售后"]
    assert [k["kind_zh"] for k in body["kinds"]][:4] == ["品种", "规格", "质量", "等级"]
    cells = {(r["stage"], c["kind"]): [s["code"] for s in c["standards"]] for r in body["rows"] for c in r["cells"]}
    # The loquat's product standard fills quality; the traceability standards fill management everywhere.
    assert "GB/T 13867-1992" in cells[("processing", "quality")]
    assert "NY/T 1762-2009" in cells[("after_sale", "management")]
    # The catalog holds no loquat variety standard: a gap, listed as such.
    assert cells[("seedling", "variety")] == []
    assert {"stage": "seedling", "kind": "variety"} in body["gaps"]
    assert body["covered"] + len(body["gaps"]) == body["cells"] == 77


def test_an_unknown_product_is_a_422(client):
    assert client.get("/api/v1/standards/coverage?product=melon").status_code == 422
