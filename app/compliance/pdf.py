"""The compliance report as a PDF (reportlab), in Chinese.

Chinese is set in reportlab's built-in CID font STSong-Light: it needs no font file, so the report
renders on any machine offline, and its text extracts back as Unicode (pypdf, pdftotext). The
font is not embedded; PDF readers supply their own Song/Ming face for Adobe-GB1, as they do for
every Chinese government PDF set in STSong.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from app import clock
from app.batches.chain import ChainReport
from app.batches.models import Batch
from app.compliance.certifications import CERTIFICATION_KINDS, BatchCertification

FONT = "STSong-Light"

VERDICT_ZH = {
    "pass": "合格 PASS",
    "fail": "不合格 FAIL",
    "incomplete": "检测不全 INCOMPLETE",
    "not_tested": "未检测 NOT TESTED",
    "no_limit": "无限量记录 NO LIMIT ON RECORD",
}
BASIS_ZH = {"sampling": "抽样日期", "harvest": "采收日期", "production": "生产日期", "creation": "建档日期"}
FINDING_KIND_ZH = {"failed_verdict": "检测不合格", "pre_harvest_interval": "未过安全间隔期采收"}
FINDING_STATUS_ZH = {"open": "待处理", "action_recorded": "已整改待核查", "closed": "已关闭"}
STEP_ZH = {"opened": "立案", "action": "整改措施", "closed": "核查关闭", "reopened": "重新立案"}
CERT_STATUS_ZH = {"valid": "有效", "expired": "已过期", "not_yet_valid": "尚未生效"}
COMPARATOR = {"<=": "≤", "<": "<", ">=": "≥", ">": ">", "==": "="}


def _register_font() -> None:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=FONT, fontSize=9, leading=12, wordWrap="CJK")
    return {
        "base": base,
        "small": ParagraphStyle("small", parent=base, fontSize=8, leading=10),
        "title": ParagraphStyle("title", parent=base, fontSize=16, leading=22, spaceAfter=4),
        "h2": ParagraphStyle("h2", parent=base, fontSize=12, leading=16, spaceBefore=8, spaceAfter=4),
        "verdict": ParagraphStyle("verdict", parent=base, fontSize=14, leading=20),
    }


def _p(text: Any, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape("" if text is None else str(text)), style)


def requirement_text(row: dict[str, Any]) -> str:
    """ "≤ 300 mg/kg", "不得检出", "15 ± 2 mm", or "无限量记录" for a row without a limit."""
    comparator = row.get("comparator")
    unit = row.get("unit") or ""
    if comparator is None:
        return "无限量记录"
    if comparator == "not_detected":
        return "不得检出"
    if row.get("limit") is not None:
        return f"{COMPARATOR.get(comparator, comparator)} {row['limit']} {unit}".strip()
    if row.get("limit_text"):
        return f"{row['limit_text']} {unit}".strip()
    return "无限量记录"


def result_text(row: dict[str, Any]) -> str:
    if row.get("value") is None:
        return "—"
    if row.get("not_detected"):
        return f"未检出 (<{row['value']} {row.get('value_unit') or ''})".replace(" )", ")")
    return f"{row['value']} {row.get('value_unit') or ''}".strip()


def reasons_zh(view: dict[str, Any]) -> list[str]:
    """Why the verdict is what it is, in Chinese, from the clause table and the interval checks."""
    out = []
    for row in view["rows"]:
        name = row["parameter_zh"] or row["parameter"]
        where = f"{row['standard']} {row['clause'] or ''}".strip() if row["standard"] else ""
        if row["verdict"] == "fail":
            out.append(f"不合格：{name}（{where}）")
        elif row["verdict"] == "not_tested":
            out.append(f"未检测或无法判定：{name}（{where}）")
    breaches = [c for c in view["pre_harvest"] if c["breached"]]
    if breaches:
        out.append(f"未过安全间隔期采收：{len(breaches)} 项")
    unlimited = [r for r in view["rows"] if r["standard"] is None]
    if unlimited:
        out.append(f"无限量记录的检测项目：{len(unlimited)} 项（不视为合格）")
    return out


def _table(data: list[list[Any]], widths: list[float], header: bool = True) -> Table:
    table = Table(data, colWidths=widths, repeatRows=1 if header else 0)
    # Commands differ in length; left to itself mypy infers one tuple of a union, which TableStyle refuses.
    style: list[tuple[Any, ...]] = [
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#9aa59d")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e3f2e5")))
    table.setStyle(TableStyle(style))
    return table


def render(
    batch: Batch,
    view: dict[str, Any],
    chain: ChainReport,
    certifications: list[BatchCertification],
    now: dt.datetime | None = None,
) -> bytes:
    """The report for one batch, from the same compliance view the API returns."""
    _register_font()
    st = _styles()
    now = now or dt.datetime.now(dt.UTC)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=14 * mm,
        rightMargin=14 * mm,
        topMargin=14 * mm,
        bottomMargin=14 * mm,
        title=f"合规检测报告 {batch.lot_code}",
        author="咸宁优品溯源 Youpin Trace",
        subject="Compliance report",
    )
    width = A4[0] - 28 * mm
    story: list[Any] = [_p("咸宁优品溯源　合规检测报告", st["title"]), _p("Compliance report", st["small"])]

    producer, custodian = batch.producer, batch.custodian
    header = [
        [_p("批次号", st["base"]), _p(batch.lot_code, st["base"])],
        [_p("产品", st["base"]), _p(f"{batch.product.name_zh}（{batch.product.name_en}）", st["base"])],
        [_p("生产者", st["base"]), _p(f"{producer.name}（{producer.code}）", st["base"])],
        [_p("持有者", st["base"]), _p(f"{custodian.name}（{custodian.code}）", st["base"])],
        [
            _p("评定日期", st["base"]),
            _p(f"{view['evaluated_on']}（{BASIS_ZH.get(view['basis'], view['basis'])}，按当日有效版本）", st["base"]),
        ],
        [_p("报告生成", st["base"]), _p(clock.to_china(now).strftime("%Y-%m-%d %H:%M"), st["base"])],
    ]
    story += [Spacer(1, 4), _table(header, [28 * mm, width - 28 * mm], header=False)]

    story.append(_p("结论", st["h2"]))
    story.append(_p(f"综合判定：{VERDICT_ZH[view['verdict']]}", st["verdict"]))
    if view["provisional_basis"]:
        story.append(_p("注意：结论依据了暂定（未经核实）的限量。", st["base"]))
    for reason in reasons_zh(view):
        story.append(_p(f"— {reason}", st["small"]))

    story.append(_p("逐条判定", st["h2"]))
    rows = [[_p(h, st["small"]) for h in ("标准", "条款", "项目", "要求", "结果", "判定", "主导")]]
    for row in view["rows"]:
        requirement = requirement_text(row)
        if row["provisional"]:
            requirement += "（暂定）"
        standard = row["standard"] or "—"
        rows.append(
            [
                _p(standard, st["small"]),
                _p(row["clause"] or "—", st["small"]),
                _p(row["parameter_zh"] or row["parameter"], st["small"]),
                _p(requirement, st["small"]),
                _p(result_text(row), st["small"]),
                _p(VERDICT_ZH[row["verdict"]], st["small"]),
                _p("★" if row["governing"] else "", st["small"]),
            ]
        )
    story.append(_table(rows, [w * mm for w in (30, 22, 28, 32, 30, 30, 10)]))
    story.append(_p("★ 主导条款：同一项目有多项限量时，最严格者决定判定。（暂定）= 未经来源核实的限量。", st["small"]))

    if view["inspections"]:
        story.append(_p("检测报告", st["h2"]))
        data = [[_p(h, st["small"]) for h in ("报告编号", "检测机构", "抽样时间", "检测时间")]]
        for i in view["inspections"]:
            data.append(
                [
                    _p(i["report_no"], st["small"]),
                    _p(i["lab"], st["small"]),
                    _p(clock.to_china(i["sampled_at"]).strftime("%Y-%m-%d %H:%M"), st["small"]),
                    _p(clock.to_china(i["tested_at"]).strftime("%Y-%m-%d %H:%M"), st["small"]),
                ]
            )
        story.append(_table(data, [w * mm for w in (40, 70, 36, 36)]))

    story.append(_p("安全间隔期核查", st["h2"]))
    if not view["pre_harvest"]:
        story.append(_p("无记录的农药使用。", st["base"]))
    for c in view["pre_harvest"]:
        state = f"违规：提前 {c['days_short']} 天采收" if c["breached"] else "符合"
        story.append(
            _p(
                f"{c['pesticide']}：施用 {c['applied_at'][:10]}，安全间隔期 {c['phi_days']} 天，"
                f"采收 {c['harvested_at'][:10]} — {state}",
                st["base"],
            )
        )

    story.append(_p("问题处理记录", st["h2"]))
    if not view["findings"]:
        story.append(_p("无。", st["base"]))
    for f in view["findings"]:
        story.append(
            _p(
                f"#{f['id']} {FINDING_KIND_ZH.get(f['kind'], f['kind'])}：{f['subject']} — "
                f"{FINDING_STATUS_ZH.get(f['status'], f['status'])}",
                st["base"],
            )
        )
        for s in f["steps"]:
            who = " ".join(x for x in (s["org"], s["user"]) if x) or "系统"
            note = f"：{s['note']}" if s["note"] else ""
            story.append(
                _p(
                    f"　{clock.to_china(s['at']).strftime('%Y-%m-%d %H:%M')} "
                    f"{STEP_ZH.get(s['action'], s['action'])}（{who}）{note}",
                    st["small"],
                )
            )

    story.append(_p("认证", st["h2"]))
    if not certifications:
        story.append(_p("无覆盖本批次的认证。", st["base"]))
    for bc in certifications:
        cert = bc.certification
        kind_zh = CERTIFICATION_KINDS.get(cert.kind, (cert.kind, ""))[0]
        until = cert.valid_to.isoformat() if cert.valid_to else "长期"
        story.append(
            _p(
                f"{kind_zh} {cert.number}（{cert.issuer}）{cert.valid_from.isoformat()} 至 {until}："
                f"{CERT_STATUS_ZH[bc.status]}",
                st["base"],
            )
        )

    story.append(_p("追溯链校验", st["h2"]))
    if chain.valid:
        story.append(_p(f"完整：共 {chain.events} 条记录，链头 {chain.head_hash[:16]}…", st["base"]))
    else:
        story.append(_p(f"链已断裂：第 {chain.first_invalid_seq} 条记录不符（{chain.reason}）", st["base"]))

    doc.build(story)
    return buffer.getvalue()
