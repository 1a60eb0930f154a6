"""The batch's own label, to print: product, lot code and the QR code of its consumer page.

A printable page (print CSS: only the label, at its size) and a PDF (reportlab, 70 × 50 mm, one per
page, Chinese in the CID font STSong-Light as app/commitments/pdf.py sets its certificate). The QR
code encodes the batch's public URL (built from PUBLIC_BASE_URL, app/batches/service.py
``public_url``), drawn by app/labels/qr.py. Unit labels (一物一码, one code per package) are the
label runs on the batch page (app/labels/pages.py); this is the lot's one label. The routes join
the field blueprint (app/field/views.py).
"""

from __future__ import annotations

import io

from flask import Response, current_app, render_template
from markupsafe import Markup
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from app.batches.models import Batch
from app.batches.service import public_url
from app.catalog.products import PRODUCTS
from app.field import views as field_views
from app.labels.qr import render_png, render_svg

_routes = field_views.bp
FONT = "STSong-Light"
PAGE = (70 * mm, 50 * mm)


def _url(batch: Batch) -> str:
    return public_url(current_app.config["PUBLIC_BASE_URL"], batch)


@_routes.get("/batches/<id:batch_id>/label")
@field_views.field_required
def label_page(batch_id: int) -> str:
    """The label as a page: print it from the phone's browser (only the label prints)."""
    batch = field_views._page_batch(batch_id)
    svg = render_svg(_url(batch), 240).decode().split("?>", 1)[-1]
    return render_template(
        "field/label.html",
        batch=batch,
        product=PRODUCTS[batch.product_key],
        qr=Markup(svg),  # noqa: S704 - the SVG app/labels/qr.py drew, no outside text in it
        url=_url(batch),
    )


@_routes.get("/batches/<id:batch_id>/label.pdf")
@field_views.field_required
def label_pdf(batch_id: int) -> Response:
    """The label as a one-page PDF, 70 × 50 mm."""
    batch = field_views._page_batch(batch_id)
    body = render_label(batch, _url(batch))
    return Response(
        body, mimetype="application/pdf", headers={"Content-Disposition": f'inline; filename="{batch.lot_code}.pdf"'}
    )


def render_label(batch: Batch, url: str) -> bytes:
    """Product (Chinese and English), lot code, producer, the QR code, and what scanning it shows."""
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=PAGE)
    page.setTitle(f"{batch.lot_code}")
    page.setAuthor("咸宁优品溯源 Youpin Trace")
    width, height = PAGE
    margin = 3 * mm
    spec = PRODUCTS[batch.product_key]
    qr_size = 30 * mm
    qr = ImageReader(io.BytesIO(render_png(url, 600)))
    page.drawImage(qr, width - margin - qr_size, height - margin - qr_size - 4 * mm, qr_size, qr_size)
    page.setFont(FONT, 12)
    page.drawString(margin, height - margin - 5 * mm, spec.name_zh)
    page.setFont("Helvetica", 6.5)
    page.drawString(margin, height - margin - 9 * mm, spec.name_en[:34])
    page.setFont(FONT, 6.5)
    page.drawString(margin, height - margin - 15 * mm, "批次号 Lot")
    page.setFont("Helvetica-Bold", 8.5)
    page.drawString(margin, height - margin - 19 * mm, batch.lot_code)
    page.setFont(FONT, 6.5)
    page.drawString(margin, height - margin - 25 * mm, "生产者")
    page.drawString(margin, height - margin - 29 * mm, batch.producer.name[:14])
    page.setFont(FONT, 7)
    page.drawString(margin, margin + 3.5 * mm, "扫码查看溯源信息 · 咸宁优品溯源")
    page.setFont("Helvetica", 5)
    page.drawString(margin, margin, url[:80])
    page.showPage()
    page.save()
    return buffer.getvalue()
