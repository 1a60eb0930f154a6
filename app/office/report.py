"""The acceptance review's figures (创建资料汇编): the dashboard's charts as a PDF, in Chinese.

Each chart is drawn with reportlab's own charts (reportlab.graphics) from the same options the
dashboard hands to ECharts, followed by its figures as a table, so the PDF holds the numbers as
text. The report states the day it was made and the data's cut-off; every page is numbered.

Chinese is set in a TrueType CJK font when the system has one (WenQuanYi Zen Hei, Debian's
fonts-wqy-zenhei), embedded as a subset so the PDF reads the same everywhere; without one it
falls back to reportlab's built-in CID font STSong-Light (not embedded; readers supply it).
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from flask_babel import force_locale
from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import CondPageBreak, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from app import clock
from app.db import utcnow
from app.office import charts, dashboard

# TrueType (glyf) CJK fonts reportlab can embed, first found wins. Noto CJK is CFF-based, which
# reportlab's TTFont does not read.
TRUETYPE_CJK = (
    ("WQYZenHei", Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")),
    ("WQYMicroHei", Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")),
)
CID_FALLBACK = "STSong-Light"
WIDTH = A4[0] - 28 * mm


def font_name() -> str:
    """Register and name the CJK font: an embedded TrueType one if installed, else STSong-Light."""
    registered = pdfmetrics.getRegisteredFontNames()
    for name, path in TRUETYPE_CJK:
        if name in registered:
            return name
        if path.exists():
            pdfmetrics.registerFont(TTFont(name, str(path), subfontIndex=0))
            return name
    if CID_FALLBACK not in registered:
        pdfmetrics.registerFont(UnicodeCIDFont(CID_FALLBACK))
    return CID_FALLBACK


def _styles(font: str) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=font, fontSize=9, leading=13, wordWrap="CJK")
    return {
        "base": base,
        "small": ParagraphStyle("small", parent=base, fontSize=8, leading=11, textColor=colors.HexColor("#555555")),
        "title": ParagraphStyle("title", parent=base, fontSize=17, leading=24, spaceAfter=6),
        "h2": ParagraphStyle("h2", parent=base, fontSize=12, leading=17, spaceBefore=10, spaceAfter=3),
    }


def _p(text: Any, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(str(text)), style)


def _table(rows: list[list[Any]], widths: list[float] | None = None) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#9aa59d")),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e3f2e5")),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("LEFTPADDING", (0, 0), (-1, -1), 3),
                ("RIGHTPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    return table


def _chart_series(option: dict[str, Any]) -> tuple[list[str], list[tuple[str, list[float], str]], bool]:
    """Categories, series (name, values, colour) and whether to stack, from an ECharts bar option.

    Where stacked series sit beside an unstacked one (registered by stage beside the target), the
    stacked ones are summed into one bar named by the total, so the bars compare like for like.
    """
    names = [str(n) for n in option["xAxis"]["data"]]
    raw = [
        (
            s["name"],
            [float(v or 0) for v in s["data"]],
            s.get("itemStyle", {}).get("color", charts.GREEN),
            s.get("stack"),
        )
        for s in option["series"]
    ]
    stacked = [r for r in raw if r[3]]
    if stacked and len(stacked) < len(raw):
        total = [sum(values) for values in zip(*(r[1] for r in stacked), strict=True)]
        series = [("已登记", total, charts.GREEN)] + [(n, v, c) for n, v, c, s in raw if not s]
        return names, series, False
    return names, [(n, v, c) for n, v, c, _s in raw], bool(stacked)


def _drawing(option: dict[str, Any], font: str) -> Drawing:
    names, series, stacked = _chart_series(option)
    height = 62 * mm
    drawing = Drawing(WIDTH, height)
    if not names:
        drawing.add(String(WIDTH / 2, height / 2, "暂无数据", fontName=font, fontSize=10, textAnchor="middle"))
        return drawing
    chart = VerticalBarChart()
    chart.x, chart.y = 30, 38
    chart.width, chart.height = int(WIDTH - 60), int(height - 58)
    chart.data = [values for _n, values, _c in series]
    chart.categoryAxis.categoryNames = names
    chart.categoryAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = 7
    if len(names) > 4:
        chart.categoryAxis.labels.angle = 30
        chart.categoryAxis.labels.boxAnchor = "ne"
    chart.valueAxis.labels.fontName = font
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    top = max((sum(col) for col in zip(*chart.data, strict=True)) if stacked else (max(v) for v in chart.data))
    chart.valueAxis.valueMax = max(1.0, top * 1.15)
    chart.valueAxis.valueStep = max(1, round(chart.valueAxis.valueMax / 5))
    if stacked:
        chart.categoryAxis.style = "stacked"
    else:
        chart.barLabelFormat = "%d"
        chart.barLabels.fontName = font
        chart.barLabels.fontSize = 7
        chart.barLabels.nudge = 6
    for n, (_name, _values, color) in enumerate(series):
        chart.bars[n].fillColor = colors.HexColor(color)
        chart.bars[n].strokeColor = None
    drawing.add(chart)
    legend = Legend()
    legend.x, legend.y = 30, int(height - 6)
    legend.fontName, legend.fontSize = font, 7
    legend.alignment = "right"
    legend.columnMaximum = 1
    legend.dx = legend.dy = 6
    legend.deltax = 70
    legend.colorNamePairs = [(colors.HexColor(c), n) for n, _v, c in series]
    drawing.add(legend)
    return drawing


def _figures_table(option: dict[str, Any], st: dict[str, ParagraphStyle]) -> Table:
    names = [str(n) for n in option["xAxis"]["data"]]
    header = [_p("项目", st["small"]), *(_p(s["name"], st["small"]) for s in option["series"])]
    rows = [header] + [
        [
            _p(name, st["small"]),
            *(_p(s["data"][i] if s["data"][i] is not None else "", st["small"]) for s in option["series"]),
        ]
        for i, name in enumerate(names)
    ]
    if len(rows) == 1:
        rows.append([_p("暂无数据", st["small"]), *(_p("", st["small"]) for _s in option["series"])])
    first = 42 * mm
    rest = (WIDTH - first) / max(1, len(option["series"]))
    return _table(rows, [first, *([rest] * len(option["series"]))])


def render(figures: dict[str, Any] | None = None, now: dt.datetime | None = None) -> bytes:
    """The dashboard's figures as the acceptance review's PDF (A4, Chinese, numbered pages).

    Chinese whatever the request's language: the review's documents are filed in Chinese.
    """
    with force_locale("zh"):
        return _render(figures, now)


def _render(figures: dict[str, Any] | None, now: dt.datetime | None) -> bytes:
    now = now or utcnow()
    figures = figures or dashboard.summary(now)
    font = font_name()
    st = _styles(font)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=14 * mm,
        rightMargin=14 * mm,
        topMargin=14 * mm,
        bottomMargin=16 * mm,
        title="咸宁市国家级服务业标准化试点 创建资料汇编：试点看板图表",
        author="咸宁优品溯源 Youpin Trace",
        subject="Pilot dashboard figures for the acceptance review",
    )
    a, s, c, cert = figures["adoption"], figures["standards"], figures["compliance"], figures["certifications"]
    story: list[Any] = [
        _p("咸宁市国家级服务业标准化试点　创建资料汇编", st["title"]),
        _p("试点看板图表：主体纳入、标准体系、合规、三品一标、消费者扫码", st["base"]),
        Spacer(1, 4),
        _p(f"生成日期：{clock.china_date(now).isoformat()}　　数据截止：{figures['as_of']}（北京时间）", st["base"]),
        _p(
            "目标依据《咸宁市国家级服务业标准化试点（商贸流通专项）建设实施方案》。每项数字均为系统中的实际记录。",
            st["small"],
        ),
        _p("主要指标", st["h2"]),
        _table(
            [
                [_p(h, st["base"]) for h in ("指标", "实际", "目标")],
                *(
                    [_p(label, st["base"]), _p(value, st["base"]), _p(target, st["base"])]
                    for label, value, target in (
                        ("已纳入主体（企业、合作社、农户）", a["enrolled"], a["target"]),
                        (f"近 {dashboard.ACTIVE_DAYS} 天活跃主体", a["active_30d"], "—"),
                        ("地方标准（DB42、DB4212）", s["local"]["count"], s["local"]["target"]),
                        ("团体和企业标准（T/、Q/）", s["group_enterprise"]["count"], s["group_enterprise"]["target"]),
                        ("提出国家或行业标准", s["national_proposed"]["count"], s["national_proposed"]["target"]),
                        ("已检批次", c["tested"], "—"),
                        ("问题：已开 / 已关闭", f"{c['findings']['opened']} / {c['findings']['closed']}", "—"),
                        ("三品一标有效证书", cert["held"], "—"),
                        (f"{dashboard.EXPIRING_DAYS} 天内到期证书", cert["expiring_60d"], "—"),
                        ("消费者扫码（近 12 周）", figures["scans"]["total"], "—"),
                    )
                ),
            ],
            [WIDTH - 60 * mm, 30 * mm, 30 * mm],
        ),
    ]
    for chart in charts.charts(figures):
        option = chart["option"]
        story.append(CondPageBreak(110 * mm))
        story.append(
            KeepTogether(
                [
                    _p(option["title"]["text"], st["h2"]),
                    _p(option["title"].get("subtext", ""), st["small"]),
                    _drawing(option, font),
                ]
            )
        )
        story.append(_figures_table(option, st))

    def number(canvas: Canvas, document: Any) -> None:
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.drawCentredString(A4[0] / 2, 8 * mm, f"第 {document.page} 页")
        canvas.drawRightString(A4[0] - 14 * mm, 8 * mm, f"数据截止 {figures['as_of']}")
        canvas.restoreState()

    doc.build(story, onFirstPage=number, onLaterPages=number)
    return buffer.getvalue()
