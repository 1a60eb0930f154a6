"""The compliance report as a PDF (reportlab), in Chinese.

Its words are Babel's, like every page's: Chinese source strings, rendered under
``force_locale(lang)`` (Chinese by default), with the few English glosses the report has always
carried (the verdict, the subtitle) taken from the English catalog.

Chinese is set in a TrueType CJK font from Debian, embedded (``pdf_font.py``), so µ and every
character print in any viewer and the text extracts back as Unicode (pypdf, pdftotext). Every page
carries 第 N 页 / 共 M 页; the report ends in a signature block for ink and a QR code to the batch's
consumer page; each test report's type, sampling record and laboratory are in ``pdf_parts.py``.
A clause the catalog gives as a placeholder ("4.x 表") prints as nothing.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any
from xml.sax.saxutils import escape

from flask import current_app
from flask_babel import force_locale, gettext
from flask_babel import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer

from app import clock
from app.batches import service as batches
from app.batches.chain import ChainReport
from app.batches.models import Batch
from app.catalog.products import FORM_NAMES
from app.compliance.certifications import BatchCertification, kind_name
from app.compliance.finding_text import clause_shown, unit_label
from app.compliance.pdf_font import cjk_font
from app.compliance.pdf_parts import grid, inspection_parts, numbered_canvas, qr_code, signature_block, table
from app.compliance.presenters import (
    BASIS_NAMES,
    CERTIFICATION_STATUS_NAMES,
    FINDING_KIND_NAMES,
    FINDING_STATUS_NAMES,
    FINDING_STEP_NAMES,
    MEASURE_BASIS_NAMES,
    VERDICT_NAMES,
    name_in,
    note_text,
)
from app.i18n import in_language

COMPARATOR = {"<=": "≤", "<": "<", ">=": "≥", ">": ">", "==": "="}


def _styles(font: str) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=font, fontSize=9, leading=12, wordWrap="CJK")
    return {
        "base": base,
        "small": ParagraphStyle("small", parent=base, fontSize=8, leading=10),
        "title": ParagraphStyle("title", parent=base, fontSize=16, leading=22, spaceAfter=4),
        "h2": ParagraphStyle("h2", parent=base, fontSize=12, leading=16, spaceBefore=8, spaceAfter=4),
        "h3": ParagraphStyle("h3", parent=base, fontSize=10, leading=14, spaceBefore=6, spaceAfter=2),
        "warn": ParagraphStyle("warn", parent=base, textColor=colors.HexColor("#a1260d")),
        "verdict": ParagraphStyle("verdict", parent=base, fontSize=14, leading=20),
    }


def _p(text: Any, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape("" if text is None else str(text)), style)


def verdict_text(verdict: str) -> str:
    """ "合格 PASS": the verdict in the report's language, glossed in capitals in English."""
    gloss = in_language("en", lambda: name_in(VERDICT_NAMES, verdict)).upper()
    return f"{name_in(VERDICT_NAMES, verdict)} {gloss}"


def requirement_text(row: dict[str, Any]) -> str:
    """ "≤ 300 mg/kg", "不得检出", "15 ± 2 mm", or "无限量记录" for a row without a limit."""
    comparator = row.get("comparator")
    unit = unit_label(row.get("unit"))
    if comparator is None:
        return _("无限量记录")
    if comparator == "not_detected":
        return _("不得检出")
    if row.get("limit") is not None:
        return f"{COMPARATOR.get(comparator, comparator)} {row['limit']} {unit}".strip()
    if row.get("limit_text"):
        return f"{row['limit_text']} {unit}".strip()
    return _("无限量记录")


def result_text(row: dict[str, Any]) -> str:
    """The result as the report gives it, with its sampling date and a basis other than as is."""
    if row.get("value") is None:
        return "—"
    unit = unit_label(row.get("value_unit"))
    if row.get("not_detected"):
        text = f"{_('未检出')} (<{row['value']} {unit})".replace(" )", ")")
    elif row.get("below_loq"):
        text = f"{_('未检出(<定量限)')} (<{row['value']} {unit})".replace(" )", ")")
    else:
        text = f"{row['value']} {unit}".strip()
    if row.get("result_basis") and row["result_basis"] != "as_is":
        text += f"（{name_in(MEASURE_BASIS_NAMES, row['result_basis'])}）"
    if row.get("sampled_on"):
        text += " " + _("抽样 %(day)s", day=row["sampled_on"])
    return text


def executive_text(executive: dict[str, Any] | None) -> str:
    """ "GB/T 11765-2018 油茶籽油", with a Q/ standard's 备案号; "未声明" when none is declared."""
    if not executive:
        return _("未声明")
    text = f"{executive['standard']} {executive['title_zh']}"
    if executive.get("filing_no"):
        text += " " + _("备案号 %(no)s", no=executive["filing_no"])
    return text


def forms_text(view: dict[str, Any]) -> str:
    if not view.get("forms"):
        return _("未知（按该产品所有形态的要求判定）") if not view.get("form_known", True) else "—"
    return "、".join(gettext(FORM_NAMES[f]) if f in FORM_NAMES else f for f in view["forms"])


def reasons(view: dict[str, Any]) -> list[str]:
    """Why the verdict is what it is, from the clause table and the interval checks."""
    out = []
    for row in view["rows"]:
        name = row["parameter_zh"] or row["parameter"]
        where = f"{row['standard']} {clause_shown(row['clause']) or ''}".strip() if row["standard"] else ""
        if row["verdict"] == "fail":
            out.append(_("不合格：%(name)s（%(where)s）", name=name, where=where or _("检验人员判定")))
        elif row["verdict"] == "not_tested":
            out.append(_("未检测或无法判定：%(name)s（%(where)s）", name=name, where=where))
        elif row["verdict"] == "needs_review":
            out.append(_("待判定：%(name)s 已检出，但无限量记录，须由检验人员判定", name=name))
        if row.get("note"):
            note = note_text(row["note"])
            if row["verdict"] in ("not_tested", "needs_review") and note:
                out.append(f"　{name}：{note}")
    breaches = [c for c in view["pre_harvest"] if c["breached"]]
    if breaches:
        out.append(_("未过安全间隔期采收：%(n)s 项", n=len(breaches)))
    unlimited = [r for r in view["rows"] if r["standard"] is None and r["verdict"] == "no_limit"]
    if unlimited:
        out.append(_("无限量记录的检测项目：%(n)s 项（不视为合格）", n=len(unlimited)))
    return out


def render(
    batch: Batch,
    view: dict[str, Any],
    chain: ChainReport,
    certifications: list[BatchCertification],
    now: dt.datetime | None = None,
    lang: str = "zh",
) -> bytes:
    """The report for one batch, from the same compliance view the API returns, in ``lang``."""
    with force_locale(lang):
        return _render(batch, view, chain, certifications, now)


def _render(
    batch: Batch,
    view: dict[str, Any],
    chain: ChainReport,
    certifications: list[BatchCertification],
    now: dt.datetime | None,
) -> bytes:
    font = cjk_font()
    st = _styles(font)
    now = now or dt.datetime.now(dt.UTC)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=14 * mm,
        rightMargin=14 * mm,
        topMargin=14 * mm,
        bottomMargin=14 * mm,
        title=_("合规检测报告 %(lot)s", lot=batch.lot_code),
        author="咸宁优品溯源 Youpin Trace",
        subject="Compliance report",
    )
    width = A4[0] - 28 * mm
    subtitle = in_language("en", lambda: _("合规检测报告"))
    public_url = batches.public_url(current_app.config["PUBLIC_BASE_URL"], batch)
    title = [_p(_("咸宁优品溯源　合规检测报告"), st["title"]), _p(subtitle, st["small"])]
    scan = [qr_code(public_url, font, 24 * mm), _p(_("扫码查看批次追溯页面"), st["small"])]
    placed = [("VALIGN", (0, 0), (-1, -1), "TOP"), ("ALIGN", (1, 0), (1, 0), "CENTER")]
    top = table([[title, scan]], [width - 34 * mm, 34 * mm], font, placed)
    story: list[Any] = [top]

    producer, custodian = batch.producer, batch.custodian
    header = [
        [_p(_("批次号"), st["base"]), _p(batch.lot_code, st["base"])],
        [_p(_("产品"), st["base"]), _p(f"{batch.product.name_zh}（{batch.product.name_en}）", st["base"])],
        [_p(_("生产者"), st["base"]), _p(f"{producer.name}（{producer.code}）", st["base"])],
        [_p(_("持有者"), st["base"]), _p(f"{custodian.name}（{custodian.code}）", st["base"])],
        [
            _p(_("评定日期"), st["base"]),
            _p(
                _(
                    "%(day)s（%(basis)s，按当日有效版本）",
                    day=view["evaluated_on"],
                    basis=name_in(BASIS_NAMES, view["basis"]),
                ),
                st["base"],
            ),
        ],
        [_p(_("执行标准"), st["base"]), _p(executive_text(view.get("executive_standard")), st["base"])],
        [_p(_("产品形态"), st["base"]), _p(forms_text(view), st["base"])],
        [_p(_("报告生成"), st["base"]), _p(clock.to_china(now).strftime("%Y-%m-%d %H:%M"), st["base"])],
    ]
    story += [Spacer(1, 4), grid(header, [28 * mm, width - 28 * mm], font, header=False)]

    story.append(_p(_("结论"), st["h2"]))
    story.append(_p(_("综合判定：%(verdict)s", verdict=verdict_text(view["verdict"])), st["verdict"]))
    if view["provisional_basis"]:
        story.append(_p(_("注意：部分限量尚未经官方文本核实，结论依据了这些限量。"), st["base"]))
    for reason in reasons(view):
        story.append(_p(f"— {reason}", st["small"]))

    story.append(_p(_("逐条判定"), st["h2"]))
    headings = (_("标准"), _("条款"), _("项目"), _("要求"), _("结果"), _("判定"), _("主导"))
    rows = [[_p(h, st["small"]) for h in headings]]
    for row in view["rows"]:
        requirement = requirement_text(row)
        if row.get("basis") and row["basis"] != "as_is":
            requirement += f"（{name_in(MEASURE_BASIS_NAMES, row['basis'])}）"
        if row.get("temporary_mrl"):
            requirement += _("（临时限量）")
        if row["provisional"]:
            requirement += _("（未经官方文本核实）")
        if row.get("grading"):
            requirement += _("（分级项目）")
        standard = row["standard"] or "—"
        rows.append(
            [
                _p(standard, st["small"]),
                _p(clause_shown(row["clause"]) or "—", st["small"]),
                _p(row["parameter_zh"] or row["parameter"], st["small"]),
                _p(requirement, st["small"]),
                _p(result_text(row), st["small"]),
                _p(verdict_text(row["verdict"]), st["small"]),
                _p("★" if row["governing"] else "", st["small"]),
            ]
        )
    story.append(grid(rows, [w * mm for w in (30, 22, 28, 32, 30, 30, 10)], font))
    story.append(
        _p(
            _(
                "★ 主导条款：同一项目有多项限量时，最严格者决定判定。每项结果按其抽样日期当日有效的标准版本判定。"
                "（未经官方文本核实）= 部分限量尚未经官方文本核实；（临时限量）= 标准中的临时限量。"
            ),
            st["small"],
        )
    )
    suggested = view.get("suggested_standards") or []
    if suggested:
        codes = "、".join(s["standard"] for s in suggested)
        story.append(_p(_("建议声明的产品标准（未声明，不作判定依据）：%(codes)s", codes=codes), st["small"]))

    if view["inspections"]:
        data = [[_p(h, st["small"]) for h in (_("报告编号"), _("检测机构"), _("抽样时间"), _("检测时间"))]]
        for i in view["inspections"]:
            data.append(
                [
                    _p(i["report_no"], st["small"]),
                    _p((i.get("lab_org") or {}).get("name") or i["lab"], st["small"]),
                    _p(clock.to_china(i["sampled_at"]).strftime("%Y-%m-%d %H:%M"), st["small"]),
                    _p(clock.to_china(i["tested_at"]).strftime("%Y-%m-%d %H:%M"), st["small"]),
                ]
            )
        story.append(KeepTogether([_p(_("检测报告"), st["h2"]), grid(data, [w * mm for w in (40, 70, 36, 36)], font)]))
        for i in view["inspections"]:
            story += inspection_parts(i, st, width)

    story.append(_p(_("安全间隔期核查"), st["h2"]))
    if not view["pre_harvest"]:
        story.append(_p(_("无记录的农药使用。"), st["base"]))
    for c in view["pre_harvest"]:
        state = _("违规：提前 %(days)s 天采收", days=c["days_short"]) if c["breached"] else _("符合")
        story.append(
            _p(
                _(
                    "%(pesticide)s：施用 %(applied)s，安全间隔期 %(phi)s 天，采收 %(harvested)s — %(state)s",
                    pesticide=c["pesticide"],
                    applied=c["applied_at"][:10],
                    phi=c["phi_days"],
                    harvested=c["harvested_at"][:10],
                    state=state,
                ),
                st["base"],
            )
        )

    story.append(_p(_("问题处理记录"), st["h2"]))
    if not view["findings"]:
        story.append(_p(_("无。"), st["base"]))
    for f in view["findings"]:
        kind, status = name_in(FINDING_KIND_NAMES, f["kind"]), name_in(FINDING_STATUS_NAMES, f["status"])
        story.append(
            _p(
                f"#{f['id']} "
                + _(
                    "%(kind)s：%(subject)s — %(status)s",
                    kind=kind,
                    subject=f.get("subject_text") or f["subject"],
                    status=status,
                ),
                st["base"],
            )
        )
        for s in f["steps"]:
            who = " ".join(x for x in (s["org"], s["user"]) if x) or _("系统")
            note = _("：%(note)s", note=s["note"]) if s["note"] else ""
            at = clock.to_china(s["at"]).strftime("%Y-%m-%d %H:%M")
            step = name_in(FINDING_STEP_NAMES, s["action"])
            story.append(_p(f"　{at} " + _("%(step)s（%(who)s）", step=step, who=who) + note, st["small"]))

    story.append(_p(_("认证"), st["h2"]))
    if not certifications:
        story.append(_p(_("无覆盖本批次的认证。"), st["base"]))
    for bc in certifications:
        cert = bc.certification
        until = cert.valid_to.isoformat() if cert.valid_to else _("长期")
        story.append(
            _p(
                _(
                    "%(kind)s %(number)s（%(issuer)s）%(start)s 至 %(until)s：%(status)s",
                    kind=kind_name(cert.kind),
                    number=cert.number,
                    issuer=cert.issuer,
                    start=cert.valid_from.isoformat(),
                    until=until,
                    status=name_in(CERTIFICATION_STATUS_NAMES, bc.status),
                ),
                st["base"],
            )
        )

    story.append(_p(_("追溯链校验"), st["h2"]))
    if chain.valid:
        story.append(
            _p(
                _("记录未被改动：共 %(n)s 条记录，链头 %(head)s…", n=chain.events, head=chain.head_hash[:16]),
                st["base"],
            )
        )
    else:
        broken = _("链已断裂：第 %(seq)s 条记录不符（%(reason)s）", seq=chain.first_invalid_seq, reason=chain.reason)
        story.append(_p(broken, st["base"]))

    story.append(Spacer(1, 10))
    story.append(
        KeepTogether(
            [
                _p(_("签发与审批"), st["h2"]),
                signature_block(st, width),
                Spacer(1, 6),
                table(
                    [[qr_code(public_url, font), _p(_("本批次追溯页面：%(url)s", url=public_url), st["small"])]],
                    [36 * mm, width - 36 * mm],
                    font,
                    [("VALIGN", (0, 0), (-1, -1), "MIDDLE")],
                ),
            ]
        )
    )

    def footer(number: int, total: int) -> str:
        return _("第 %(n)s 页 / 共 %(total)s 页", n=number, total=total) + f"　{batch.lot_code}"

    doc.build(story, canvasmaker=numbered_canvas(font, footer))
    return buffer.getvalue()
