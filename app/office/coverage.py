"""Coverage of the six standard systems: for a product line, supply-chain stage × the kinds the plan names.

The plan (三、主要任务(一), and 二(二)) asks each system to cover 育种育苗, 种植, 加工, 仓储, 运输, 销售
and 售后, with standards of 品种, 规格, 质量, 等级, 安全卫生, 检验方法, 包装, 贮存, 运输, 生产技术 and
管理. Each cell lists the standards that fill it; an empty cell is a gap to fill.

The catalog records a standard's kind (product, safety limit, test method, traceability,
certification, production practice) but not its stage, so a standard's cells are derived here,
in one table, from its kind and the words of its title (栽培 → 种植 · 生产技术, 贮藏 → 仓储 · 贮存, …).
Until the office registers each standard's stage and kinds itself, this is the best the catalog
allows, and the rule is stated where it is applied.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.catalog.models import Standard
from app.catalog.products import PRODUCTS
from app.db import db
from app.errors import InvalidInput

STAGES: tuple[tuple[str, str], ...] = (
    ("seedling", "育种育苗"),
    ("planting", "种植"),
    ("processing", "加工"),
    ("storage", "仓储"),
    ("transport", "运输"),
    ("sale", "销售"),
    ("after_sale", "售后"),
)
KINDS: tuple[tuple[str, str], ...] = (
    ("variety", "品种"),
    ("specification", "规格"),
    ("quality", "质量"),
    ("grade", "等级"),
    ("safety", "安全卫生"),
    ("test_method", "检验方法"),
    ("packaging", "包装"),
    ("storage", "贮存"),
    ("transport", "运输"),
    ("production", "生产技术"),
    ("management", "管理"),
)
_ALL_STAGES = tuple(key for key, _ in STAGES)

# By the catalog's kind: the cells a standard of that kind fills.
_BY_KIND: dict[str, tuple[tuple[str, str], ...]] = {
    "product": (("processing", "quality"), ("sale", "quality")),
    "safety_limit": (("processing", "safety"), ("sale", "safety")),
    "test_method": (("processing", "test_method"),),
    "traceability": tuple((stage, "management") for stage in _ALL_STAGES),
    "certification": (("planting", "management"), ("processing", "management")),
    "production_practice": (("planting", "production"),),
}
# By words of the Chinese title: further cells.
_BY_WORD: tuple[tuple[tuple[str, ...], tuple[tuple[str, str], ...]], ...] = (
    (("品种", "种苗", "苗木", "育苗", "种子"), (("seedling", "variety"),)),
    (("规格",), (("processing", "specification"), ("sale", "specification"))),
    (("等级", "分级"), (("processing", "grade"), ("sale", "grade"))),
    (("农药", "残留"), (("planting", "safety"),)),
    (("栽培", "种植", "生产技术规程", "技术规程"), (("planting", "production"),)),
    (("加工",), (("processing", "production"),)),
    (("包装", "标签", "标志"), (("processing", "packaging"),)),
    (("贮藏", "贮存", "储存", "储藏", "冷藏"), (("storage", "storage"),)),
    (("运输", "物流", "冷链"), (("transport", "transport"),)),
    (("售后", "召回"), (("after_sale", "management"),)),
)


def cells_of(standard: Standard) -> set[tuple[str, str]]:
    """The (stage, kind) cells one standard fills."""
    cells = set(_BY_KIND.get(standard.kind, ()))
    for words, found in _BY_WORD:
        if any(word in standard.title_zh for word in words):
            cells.update(found)
    return cells


def coverage(product: str) -> dict[str, Any]:
    """The product line's matrix: each stage × kind cell with its standards; empty cells listed as gaps."""
    if product not in PRODUCTS:
        raise InvalidInput.field("product", f"must be one of {', '.join(PRODUCTS)}", location="query")
    grid: dict[tuple[str, str], list[dict[str, str]]] = {(s, k): [] for s, _ in STAGES for k, _ in KINDS}
    for standard in db.session.scalars(select(Standard).order_by(Standard.code)):
        applies = standard.applies_to or []
        if product not in applies and "all" not in applies:
            continue
        for cell in sorted(cells_of(standard)):
            grid[cell].append({"code": standard.code, "title_zh": standard.title_zh, "level": standard.level})
    rows = [
        {
            "stage": stage,
            "stage_zh": stage_zh,
            "cells": [{"kind": kind, "kind_zh": kind_zh, "standards": grid[(stage, kind)]} for kind, kind_zh in KINDS],
        }
        for stage, stage_zh in STAGES
    ]
    gaps = [{"stage": s, "kind": k} for (s, k), found in grid.items() if not found]
    return {
        "product": product,
        "kinds": [{"kind": k, "kind_zh": z} for k, z in KINDS],
        "rows": rows,
        "gaps": gaps,
        "covered": len(grid) - len(gaps),
        "cells": len(grid),
    }
