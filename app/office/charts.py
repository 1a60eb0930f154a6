"""Each dashboard chart's ECharts options, built by the server from the figures (``dashboard.summary``).

Bar charts only; no map of China (publishing one needs an approval number). Every text is Babel's,
in the caller's language; the acceptance-review PDF draws the same options in Chinese.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from app.compliance.certifications import CERTIFICATION_KINDS
from app.office.dashboard import (
    ACTIVE_DAYS,
    EXPIRING_DAYS,
    GROUP_LABELS,
    SCAN_WEEKS,
    STANDARD_GROUPS,
    VERDICT_LABELS,
    product_name,
)
from app.office.models import STAGES
from app.office.roster import KIND_LABELS
from app.office.standards import STAGE_LABELS

GREEN, RED, AMBER, GREY = "#2f6b3a", "#b3261e", "#c98a00", "#9aa5a0"
# 立项, 征求意见, 发布, 备案: lighter to darker green.
STAGE_COLORS = ("#c7dcc4", "#8fba8c", "#4f8f55", GREEN)
# One colour per product line (the scans chart stacks them).
PRODUCT_COLORS = ("#2f6b3a", "#c98a00", "#3b6ea8", "#8a4f9e", "#b3261e", "#5a9a8f")


# --- the charts -----------------------------------------------------------------------------------


def _series(name: str, data: list[Any], color: str) -> dict[str, Any]:
    """One labelled bar series (each bar shows its figure on top)."""
    return {
        "type": "bar",
        "name": name,
        "data": data,
        "itemStyle": {"color": color},
        "label": {"show": True, "position": "top"},
    }


def _bar(title: str, subtitle: str, names: list[str], series: list[dict[str, Any]]) -> dict[str, Any]:
    """A bar chart's options: title and subtitle on top, the legend (when there are several series) below."""
    several = len(series) > 1
    option: dict[str, Any] = {
        "title": {"text": title, "subtext": subtitle, "left": 0, "textStyle": {"fontSize": 15}},
        "tooltip": {"trigger": "axis"},
        # Several series: their legend sits under the subtitle, clear of the rotated category names.
        "grid": {"left": 8, "right": 16, "top": 104 if several else 70, "bottom": 8, "containLabel": True},
        "xAxis": {
            "type": "category",
            "data": names,
            "axisLabel": {"interval": 0, "rotate": 30 if len(names) > 3 or max(map(len, names), default=0) > 5 else 0},
        },
        "yAxis": {"type": "value", "minInterval": 1},
        "series": series,
    }
    if several:
        option["legend"] = {"top": 62, "left": 0, "type": "scroll"}
    if not names:
        option["graphic"] = {
            "type": "text",
            "left": "center",
            "top": "middle",
            "style": {"text": _("暂无数据"), "fill": GREY},
        }
    return option


def charts(figures: dict[str, Any]) -> list[dict[str, Any]]:
    """Each chart: its id, its ECharts options, and the drill-down each bar leads to (by its category key)."""
    a, s, c, cert = figures["adoption"], figures["standards"], figures["compliance"], figures["certifications"]
    counties = list(a["by_county"])
    kinds = list(a["by_kind"])
    products = list(a["by_product"])
    cell_keys = [f"{cell['county']}|{cell['product']}" for cell in c["cells"]]
    cert_kinds = list(cert["by_kind"])
    sc = figures["scans"]
    return [
        {
            "id": "adoption_county",
            "drill": "organizations",
            "param": "county",
            "keys": counties,
            "option": _bar(
                _("已纳入主体 %(n)s / 目标 %(target)s", n=a["enrolled"], target=a["target"]),
                _("按县（市、区）；近 %(days)s 天活跃 %(n)s 家", days=ACTIVE_DAYS, n=a["active_30d"]),
                [_(c) for c in counties],
                [_series(_("主体数"), list(a["by_county"].values()), GREEN)],
            ),
        },
        {
            "id": "adoption_product",
            "drill": "organizations",
            "param": "product",
            "keys": products,
            "option": _bar(
                _("按产品线（一县一品）"),
                _("一个主体可参与多条产品线"),
                [product_name(k) for k in products],
                [_series(_("主体数"), list(a["by_product"].values()), GREEN)],
            ),
        },
        {
            "id": "adoption_kind",
            "drill": "organizations",
            "param": "kind",
            "keys": kinds,
            "option": _bar(
                _("按主体类型"),
                _("农户、合作社、企业及流通主体"),
                [_(KIND_LABELS[k]) for k in kinds],
                [_series(_("主体数"), list(a["by_kind"].values()), GREEN)],
            ),
        },
        {
            "id": "standards",
            "drill": "standards",
            "param": "group",
            "keys": list(STANDARD_GROUPS),
            "option": _bar(
                _("标准体系：已登记 / 目标"),
                _(
                    "目标：地方 %(local)s 项，团体和企业 %(group)s 项，国家或行业（提出）%(national)s 项",
                    local=s["local"]["target"],
                    group=s["group_enterprise"]["target"],
                    national=s["national_proposed"]["target"],
                ),
                [_(GROUP_LABELS[g]) for g in STANDARD_GROUPS],
                [
                    *(
                        {
                            "type": "bar",
                            "stack": "registered",
                            "name": _(STAGE_LABELS[st]),
                            "data": [s["by_stage"][g][st] for g in STANDARD_GROUPS],
                            "itemStyle": {"color": color},
                        }
                        for st, color in zip(STAGES, STAGE_COLORS, strict=True)
                    ),
                    _series(_("目标"), [s[g]["target"] for g in STANDARD_GROUPS], GREY),
                ],
            ),
        },
        {
            "id": "standards_product",
            "drill": "standards",
            "param": "product",
            "keys": products,
            "option": _bar(
                _("标准按产品线和阶段"),
                "、".join(_(STAGE_LABELS[st]) for st in STAGES),
                [product_name(k) for k in products],
                [
                    {
                        "type": "bar",
                        "stack": "stage",
                        "name": _(STAGE_LABELS[st]),
                        "data": [s["by_product_stage"][k][st] for k in products],
                        "itemStyle": {"color": color},
                    }
                    for st, color in zip(STAGES, STAGE_COLORS, strict=True)
                ],
            ),
        },
        {
            "id": "compliance",
            "drill": "batches",
            "param": "cell",
            "keys": cell_keys,
            "option": _bar(
                _("合规：县 × 产品（已检 %(n)s 批）", n=c["tested"]),
                _(
                    "问题 %(opened)s 个，已关闭 %(closed)s 个",
                    opened=c["findings"]["opened"],
                    closed=c["findings"]["closed"],
                )
                + (
                    _("，关闭用时中位数 %(days)s 天", days=c["findings"]["median_days_to_close"])
                    if c["findings"]["median_days_to_close"] is not None
                    else ""
                ),
                [f"{_(cell['county'])}·{product_name(cell['product'])}" for cell in c["cells"]],
                [
                    {
                        "type": "bar",
                        "stack": "v",
                        "name": _(label),
                        "data": [cell[v] for cell in c["cells"]],
                        "itemStyle": {"color": color},
                    }
                    for (v, label), color in zip(VERDICT_LABELS.items(), (GREEN, RED, AMBER), strict=True)
                ],
            ),
        },
        {
            "id": "certifications",
            "drill": "certifications",
            "param": "kind",
            "keys": cert_kinds,
            "option": _bar(
                _("三品一标：有效 %(n)s 张", n=cert["held"]),
                _("%(days)s 天内到期 %(n)s 张", days=EXPIRING_DAYS, n=cert["expiring_60d"]),
                [_(CERTIFICATION_KINDS[k]) for k in cert_kinds],
                [
                    _series(_("有效"), [cert["by_kind"][k]["held"] for k in cert_kinds], GREEN),
                    _series(
                        _("%(days)s天内到期", days=EXPIRING_DAYS),
                        [cert["by_kind"][k]["expiring"] for k in cert_kinds],
                        AMBER,
                    ),
                ],
            ),
        },
        {
            "id": "scans",
            "drill": "scans",
            "param": "week",
            "keys": sc["weeks"],
            "option": _bar(
                _("消费者扫码：近 %(weeks)s 周 %(n)s 次", weeks=SCAN_WEEKS, n=sc["total"]),
                _("按产品线和周（周一起）"),
                [w[5:] for w in sc["weeks"]],
                [
                    {
                        "type": "bar",
                        "stack": "scans",
                        "name": product_name(k),
                        "data": sc["by_product"][k],
                        "itemStyle": {"color": color},
                    }
                    for k, color in zip(products, PRODUCT_COLORS, strict=False)
                ],
            ),
        },
    ]
