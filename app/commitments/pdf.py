"""The printable 承诺达标合格证: a 100 × 70 mm label, one per page, with its QR code (证码合一).

The QR code encodes the batch's public URL (the label's own code), so a buyer or consumer who
scans it opens the batch's consumer page, where the certificate shows. Chinese is set in the
compliance report's embedded TrueType face (app/compliance/pdf_font.py), so the label looks the same
in a phone's PDF viewer as on paper, whatever fonts the phone has.
"""

from __future__ import annotations

import io

from flask_babel import force_locale
from flask_babel import gettext as _
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from app import clock
from app.batches.service import public_url
from app.commitments.models import CommitmentCertificate
from app.commitments.service import BASES, COMMITMENTS
from app.compliance.pdf_font import cjk_font
from app.labels.qr import render_png

PAGE = (100 * mm, 70 * mm)


def render(certificate: CommitmentCertificate, base_url: str) -> bytes:
    """The certificate as a one-page PDF label, in Chinese (the form the 办法 prescribes)."""
    with force_locale("zh"):
        return _render(certificate, base_url)


def _render(certificate: CommitmentCertificate, base_url: str) -> bytes:
    font = cjk_font()  # embedded TrueType, so a phone's viewer shows the label as printed
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=PAGE)
    page.setTitle(f"承诺达标合格证 {certificate.number}")
    page.setAuthor("咸宁优品溯源 Youpin Trace")
    width, height = PAGE
    margin = 4 * mm
    page.setLineWidth(0.8)
    page.rect(margin / 2, margin / 2, width - margin, height - margin)

    page.setFont(font, 15)
    page.drawCentredString(width / 2, height - 11 * mm, "承诺达标合格证")
    page.setFont(font, 7)
    page.drawCentredString(width / 2, height - 15 * mm, _("编号 %(number)s", number=certificate.number))

    batch = certificate.batch
    qr_size = 26 * mm
    qr = ImageReader(io.BytesIO(render_png(public_url(base_url, batch), 512)))
    page.drawImage(qr, width - margin - qr_size, margin + 3 * mm, qr_size, qr_size)
    page.setFont(font, 6)
    page.drawCentredString(width - margin - qr_size / 2, margin + 1.5 * mm, _("扫码查看追溯信息"))

    lines = [
        _("产品名称：%(name)s", name=batch.product.name_zh),
        _("数量：%(quantity)s %(unit)s", quantity=f"{certificate.quantity.normalize():f}", unit=certificate.unit),
        _("产地：%(origin)s", origin=certificate.origin),
        _("生产者：%(name)s", name=certificate.issuer.name),
        _("联系方式：%(contact)s", contact=certificate.contact),
        _("开具日期：%(day)s", day=clock.to_china(certificate.issued_at).strftime("%Y-%m-%d")),
        _("批次号：%(lot)s", lot=batch.lot_code),
    ]
    y = height - 21 * mm
    page.setFont(font, 7.5)
    for line in lines:
        page.drawString(margin + 1 * mm, y, line)
        y -= 4 * mm

    page.setFont(font, 6.5)
    promise = _("我承诺对产品质量安全以及合格证真实性负责：")
    page.drawString(margin + 1 * mm, y - 0.5 * mm, promise)
    y -= 4 * mm
    for key in certificate.commitments:
        page.drawString(margin + 2 * mm, y, "■ " + _(COMMITMENTS[key]))
        y -= 3.2 * mm
    basis = _(BASES[certificate.basis])
    if certificate.report_no:
        basis += _("（报告 %(report)s）", report=certificate.report_no)
    page.drawString(margin + 1 * mm, y - 0.5 * mm, _("承诺依据：%(basis)s", basis=basis))
    if certificate.came_from:
        sources = _("来源合格证：%(numbers)s", numbers="、".join(certificate.came_from))
        page.drawString(margin + 1 * mm, y - 4 * mm, sources)
    page.showPage()
    page.save()
    return buffer.getvalue()
