"""Parts of the compliance PDF beyond the clause table: each report's type, sampling record (抽样单),
laboratory and its CMA number, flags and re-test marks; the QR code to the batch's consumer page;
the signature block (签发 / 审核 / 批准, left blank for ink); and the page numbers (第 N 页 / 共 M 页).

Each part reads only the keys it is given: an inspection without a sampling record or a lab
organization prints none, rather than an empty form.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from xml.sax.saxutils import escape

from flask_babel import gettext as _
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas
from reportlab.platypus import Paragraph, Table, TableStyle

QR_SIZE = 30 * mm


def p(text: Any, style: ParagraphStyle) -> Paragraph:
    """A paragraph of plain text (escaped: data may hold < or &)."""
    return Paragraph(escape("" if text is None else str(text)), style)


def table(
    data: list[list[Any]], widths: list[float], font: str, style: Sequence[tuple[Any, ...]] = (), **kw: Any
) -> Table:
    """A table in the report's font: a table's cells default to Helvetica, which would be left for
    the reader's machine to supply even where every cell holds a paragraph or a drawing."""
    made = Table(data, colWidths=widths, **kw)
    made.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), font), *style]))
    return made


def grid(data: list[list[Any]], widths: list[float], font: str, header: bool = True) -> Table:
    """A ruled table, its first row shaded as the heading unless ``header`` is false."""
    # Commands differ in length; left to itself mypy infers one tuple of a union, which TableStyle refuses.
    style: list[tuple[Any, ...]] = [
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#9aa59d")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e3f2e5")))
    return table(data, widths, font, style, repeatRows=1 if header else 0)


def qr_code(url: str, font: str, size: float = QR_SIZE) -> Drawing:
    """The URL as a vector QR code (error correction M), ``size`` points square with its quiet zone.

    The drawing starts in the report's font (it prints no text), so it adds no Helvetica."""
    widget = QrCodeWidget(url, barLevel="M")
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0], initialFontName=font)
    drawing.add(widget)
    return drawing


def _yes_no(value: Any) -> str:
    if value is None:
        return "—"
    return _("是") if value else _("否")


def _org_name(org: Any) -> str:
    if isinstance(org, dict):
        name = org.get("name") or ""
        code = org.get("code")
        return f"{name}（{code}）" if code and name else name or str(code or "")
    return "" if org is None else str(org)


def _report_ref(ref: Any) -> str:
    """The report a re-test names: a report number when the view gives one, else its id."""
    if isinstance(ref, dict):
        return str(ref.get("report_no") or ref.get("id") or "")
    return f"#{ref}"


def sampling_rows(sampling: dict[str, Any]) -> list[tuple[str, str]]:
    """The 抽样单 as label and value pairs, in the order the form has them."""
    samplers = sampling.get("samplers") or []
    quantity = sampling.get("quantity")
    if isinstance(quantity, dict):
        quantity = f"{quantity.get('value', '')} {quantity.get('unit', '')}".strip()
    base = sampling.get("sampling_base")
    if isinstance(base, dict):
        base = f"{base.get('value', '')} {base.get('unit', '')}".strip()
    pairs = [
        (_("抽样单编号"), sampling.get("number")),
        (_("任务来源"), sampling.get("task_source")),
        (_("抽样环节"), sampling.get("stage_name") or sampling.get("stage")),
        (_("抽样地点"), sampling.get("place")),
        (_("被抽样单位"), _org_name(sampling.get("sampled_org"))),
        (_("样品批号（标称）"), sampling.get("sample_lot")),
        (_("生产日期（标称）"), sampling.get("production_date")),
        (_("抽样基数"), base),
        (_("抽样数量"), quantity),
        (_("抽样人员"), "、".join(_org_name(s) for s in samplers) if samplers else None),
        (_("备份样品封存"), _yes_no(sampling.get("backup_sealed"))),
    ]
    return [(label, "—" if value in (None, "") else str(value)) for label, value in pairs]


def lab_text(lab: dict[str, Any]) -> str:
    """ "咸宁市检验检测中心，CMA 证书编号 …（有效期 … 至 …）"."""
    text = lab.get("name") or ""
    if lab.get("cma_no"):
        text += _("，CMA 证书编号 %(no)s", no=lab["cma_no"])
        start, until = lab.get("cma_valid_from"), lab.get("cma_valid_to")
        if start or until:
            text += _("（有效期 %(start)s 至 %(until)s）", start=start or "—", until=until or "—")
    else:
        text += _("，未登记 CMA 证书编号")
    return text


def inspection_parts(inspection: dict[str, Any], st: dict[str, ParagraphStyle], width: float) -> list[Any]:
    """What one report adds beyond its line in the report table: nothing for a bare report."""
    keys = (
        "type_name", "type", "sampling", "lab_org", "flags", "retest_of", "superseded", "retest_deadline", "warnings",
    )  # fmt: skip
    if not any(inspection.get(k) for k in keys):
        return []
    out: list[Any] = []
    kind = inspection.get("type_name") or inspection.get("type")
    head = _("报告 %(no)s", no=inspection.get("report_no", ""))
    if kind:
        head += f"：{kind}"
    if inspection.get("retest_of"):
        head += _("（复检，原报告 %(ref)s）", ref=_report_ref(inspection["retest_of"]))
    out.append(p(head, st["h3"]))
    if inspection.get("superseded"):
        out.append(p(_("本报告的结论已被复检结论取代；两份报告均保留在记录中。"), st["base"]))
    if inspection.get("retest_deadline"):
        out.append(p(_("复检申请期限：%(day)s", day=inspection["retest_deadline"]), st["base"]))
    if inspection.get("lab_org"):
        out.append(p(_("检测机构：%(lab)s", lab=lab_text(inspection["lab_org"])), st["base"]))
    sampling = inspection.get("sampling")
    if sampling:
        out.append(p(_("抽样单"), st["base"]))
        rows = [[p(label, st["small"]), p(value, st["small"])] for label, value in sampling_rows(sampling)]
        out.append(grid(rows, [36 * mm, width - 36 * mm], st["base"].fontName, header=False))
    for flag in inspection.get("flags") or []:
        message = flag.get("message") if isinstance(flag, dict) else str(flag)
        out.append(p(_("标记：%(message)s", message=message), st["warn"]))
    for warning in inspection.get("warnings") or []:
        out.append(p(_("提示：%(message)s", message=warning), st["warn"]))
    return out


def signature_block(st: dict[str, ParagraphStyle], width: float) -> Table:
    """签发 / 审核 / 批准, each with a blank line for the name and one for the date, signed in ink."""
    roles = (_("签发"), _("审核"), _("批准"))
    line = "_" * 14
    cells = [
        [p(role, st["base"]) for role in roles],
        [p(_("签名：%(line)s", line=line), st["small"]) for _role in roles],
        [p(_("日期：%(line)s", line=line), st["small"]) for _role in roles],
    ]
    box = [("BOX", (0, 0), (-1, -1), 0.4, colors.HexColor("#9aa59d")), ("VALIGN", (0, 0), (-1, -1), "BOTTOM")]
    return table(cells, [width / 3] * 3, st["base"].fontName, box, rowHeights=[14, 26, 20])


def numbered_canvas(font: str, footer: Callable[[int, int], str]) -> type[canvas.Canvas]:
    """A canvas that writes ``footer(page, pages)`` at the foot of every page once the page count is known."""

    class NumberedCanvas(canvas.Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            # Every page starts in the report's font, so no Helvetica is left for the reader to supply.
            kwargs["initialFontName"] = font
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()  # type: ignore[attr-defined]  # reportlab's own, untyped

        def save(self) -> None:
            total = len(self._pages)
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                self.setFont(font, 8)
                self.drawCentredString(self._pagesize[0] / 2, 8 * mm, footer(number, total))  # type: ignore[attr-defined]
                super().showPage()
            super().save()

    return NumberedCanvas
