"""What a label run prints: A4 sheets (PDF) and thermal-printer jobs (ZPL, TSPL). Pure functions.

Every label carries its unit's QR code (the plain Digital Link or /u/ URI, error correction M,
four-module quiet zone), the product, the lot code, the serial in text and the PIN under the
scratch-off field. QR matrices come from zxing-cpp's encoder (C++; about three times faster than
the pure-Python ones, see scripts/bench_labels.py).

The sheets are fast because each page's codes are drawn into one 1-bit image of one pixel a
module (each code snapped to that grid, moving it less than a module inside its label), and the
page embeds that one image at one bit a pixel (reportlab's own drawImage would widen it to eight
bits, and compressing those bytes cost more than encoding the codes). What every label of a run
shows alike (product, lot code, 刮开验证 PIN and the scratch-off box) is one form drawn once and
placed on each label; only the serial and the PIN are written per label. All of it is text,
selectable and searchable. The PIN is printed where the scratch-off coating goes.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import zxingcpp
from PIL import Image
from reportlab import rl_config
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

QUIET_ZONE = 4  # modules, as the QR standard asks
CJK_FONT = "STSong-Light"  # one of reportlab's built-in CID fonts: no font file to ship
LATIN_FONT = "Helvetica"
FACE_FORM = "labelface"  # the form every label of a run places (see _face_form)


@dataclass(frozen=True)
class LabelFace:
    """What one label shows."""

    uri: str
    serial: str
    pin: str


@dataclass(frozen=True)
class SheetLayout:
    """A grid of labels centred on A4, cut along the crop marks drawn in the margins."""

    name: str
    cols: int
    rows: int
    label_w_mm: float
    label_h_mm: float

    @property
    def per_page(self) -> int:
        return self.cols * self.rows

    @property
    def margin_x_mm(self) -> float:
        return (A4[0] / mm - self.cols * self.label_w_mm) / 2

    @property
    def margin_y_mm(self) -> float:
        return (A4[1] / mm - self.rows * self.label_h_mm) / 2


LAYOUTS = {
    "a4_24": SheetLayout("a4_24", cols=3, rows=8, label_w_mm=64, label_h_mm=34),
    "a4_40": SheetLayout("a4_40", cols=4, rows=10, label_w_mm=48, label_h_mm=27),
}


def qr_modules(uri: str) -> tuple[int, bytes]:
    """The symbol without its quiet zone: its width in modules and one byte per module (0 dark, 255 light)."""
    code = zxingcpp.create_barcode(uri, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    image = code.to_image(scale=1, add_quiet_zones=False)
    width = image.shape[1]
    # zxing-cpp's Image has the buffer protocol; its stubs do not say so.
    return width, bytes(memoryview(image))  # type: ignore[arg-type]


def qr_symbol(uri: str) -> Image.Image:
    """The symbol without its quiet zone, one pixel a module (greyscale); the white page is the quiet zone."""
    width, pixels = qr_modules(uri)
    return Image.frombytes("L", (width, width), pixels)


def _fonts() -> None:
    if CJK_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))


def _crop_marks(canvas: Canvas, layout: SheetLayout) -> None:
    """Short hairlines in the margins on every cut line, 1 mm clear of the labels."""
    canvas.setLineWidth(0.25)
    left, bottom = layout.margin_x_mm * mm, layout.margin_y_mm * mm
    right, top = left + layout.cols * layout.label_w_mm * mm, bottom + layout.rows * layout.label_h_mm * mm
    gap, length = 1 * mm, min(5 * mm, layout.margin_x_mm * mm - 2 * mm, layout.margin_y_mm * mm - 2 * mm)
    for c in range(layout.cols + 1):
        x = left + c * layout.label_w_mm * mm
        canvas.line(x, top + gap, x, top + gap + length)
        canvas.line(x, bottom - gap, x, bottom - gap - length)
    for r in range(layout.rows + 1):
        y = bottom + r * layout.label_h_mm * mm
        canvas.line(left - gap, y, left - gap - length, y)
        canvas.line(right + gap, y, right + gap + length, y)


def _chunks(faces: Iterable[LabelFace], size: int) -> Iterator[list[LabelFace]]:
    page: list[LabelFace] = []
    for face in faces:
        page.append(face)
        if len(page) == size:
            yield page
            page = []
    if page:
        yield page


def render_pdf(layout: SheetLayout, product: str, lot_code: str, faces: Iterable[LabelFace], title: str = "") -> bytes:
    """The labels on A4 sheets, ``layout.per_page`` a page, with crop marks."""
    _fonts()
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4, pageCompression=1)
    canvas.setTitle(title or f"{product} {lot_code}")
    qr_mm = layout.label_h_mm - 3  # the code's side, quiet zone included
    module_mm = 0.0
    # reportlab would ASCII85-encode each image in pure Python; binary streams are valid PDF.
    a85, rl_config.useA85 = rl_config.useA85, 0
    try:
        _face_form(canvas, layout, product, lot_code)
        for page in _chunks(faces, layout.per_page):
            symbols = [qr_symbol(face.uri) for face in page]
            if not module_mm:
                module_mm = qr_mm / (symbols[0].width + 2 * QUIET_ZONE)
            _page(canvas, layout, product, lot_code, page, symbols, module_mm)
        canvas.save()
    finally:
        rl_config.useA85 = a85
    return out.getvalue()


def _page(canvas: Canvas, layout: SheetLayout, product: str, lot_code: str, page: list[LabelFace],
          symbols: list[Image.Image], module_mm: float) -> None:  # fmt: skip
    """One sheet: the codes as one image on a grid of one pixel a module, then the text and the marks."""
    page_h_mm = A4[1] / mm
    layer = Image.new("1", (int(A4[0] / mm / module_mm), int(page_h_mm / module_mm)), 1)
    origins: list[tuple[float, float]] = []
    for k, symbol in enumerate(symbols):
        col, row = k % layout.cols, k // layout.cols
        x_mm = layout.margin_x_mm + col * layout.label_w_mm + 1.5
        top_mm = layout.margin_y_mm + row * layout.label_h_mm + 1.5  # from the page's top
        # Snapped to the module grid: the code moves by less than a module inside its label.
        px, py = round(x_mm / module_mm), round(top_mm / module_mm)
        layer.paste(symbol, (px + QUIET_ZONE, py + QUIET_ZONE))
        origins.append(((px + symbol.width + 2 * QUIET_ZONE + 1) * module_mm * mm, (page_h_mm - top_mm) * mm))
    # Drawn from the page's top-left corner, exactly one module a pixel.
    height = layer.height * module_mm * mm
    _draw_bitmap(canvas, layer, 0, A4[1] - height, layer.width * module_mm * mm, height)
    _texts(canvas, layout, page, origins)
    _crop_marks(canvas, layout)
    canvas.showPage()


def _draw_bitmap(canvas: Canvas, bitmap: Image.Image, x: float, y: float, width: float, height: float) -> None:
    """Place a 1-bit image (PIL mode "1") as an image XObject of one bit a pixel, Flate-compressed.

    What reportlab's drawImage does, less the widening to eight bits a pixel: PIL packs mode "1"
    rows MSB first, padded to a byte, 1 for white, which is PDF's 1-bit DeviceGray as it stands.
    """
    name = f"labels{canvas.getPageNumber()}"
    image: Any = pdfdoc.PDFImageXObject(name)  # its stream set by hand: bytes, as reportlab's own loaders do
    image.width, image.height = bitmap.size
    image.bitsPerComponent, image.colorSpace, image.mask = 1, "DeviceGray", None
    image.streamContent = zlib.compress(bitmap.tobytes())
    image._filters = ("FlateDecode",)
    document: Any = canvas._doc  # type: ignore[attr-defined]  # reportlab's document, as drawImage registers an image with it
    registered = document.getXObjectName(name)
    canvas._setXObjects(image)  # type: ignore[attr-defined]
    document.Reference(image, registered)
    document.addForm(name, image)
    canvas._currentPageHasImages = 1  # type: ignore[attr-defined]
    canvas.saveState()
    canvas.translate(x, y)
    canvas.scale(width, height)
    canvas._code.append(f"/{registered} Do")  # type: ignore[attr-defined]
    canvas.restoreState()
    canvas._formsinuse.append(name)  # type: ignore[attr-defined]


def _sizes(layout: SheetLayout) -> tuple[float, float, float]:
    """The label's two font sizes and its line spacing, in points."""
    big = 8 if layout.name == "a4_24" else 6.5
    return big, big - 1.5, big * 1.35


def _line_y(layout: SheetLayout, n: int) -> float:
    """Line ``n``'s baseline below the top of the code, in points."""
    return -3 * mm - _sizes(layout)[2] * (n + 0.3)


def _face_form(canvas: Canvas, layout: SheetLayout, product: str, lot_code: str) -> None:
    """What every label of the run shows alike, drawn once: product, lot code, 刮开验证 PIN, the
    scratch-off box (the coating goes over it, the PIN printed inside). The origin is the top of
    the label's text column."""
    big, small, _ = _sizes(layout)
    bottom, right = int(_line_y(layout, 5)), int(layout.label_w_mm * mm)
    canvas.beginForm(FACE_FORM, lowerx=-2, lowery=bottom, upperx=right, uppery=2)
    text = canvas.beginText()
    for n, font, size, line in ((0, CJK_FONT, big, product), (1, LATIN_FONT, small, lot_code),
                                (3, CJK_FONT, small, "刮开验证 PIN")):  # fmt: skip
        text.setFont(font, size)
        text.setTextOrigin(0, _line_y(layout, n))
        text.textOut(line)
    canvas.drawText(text)
    canvas.setLineWidth(0.25)
    canvas.rect(-1, _line_y(layout, 4) - 2, 8.6 * small * 0.6 + 2, small + 2, stroke=1, fill=0)
    canvas.endForm()


def _texts(canvas: Canvas, layout: SheetLayout, page: list[LabelFace], origins: list[tuple[float, float]]) -> None:
    """Each label's lines beside its code: the run's form, then its own serial and PIN (one font change a line)."""
    for x, top in origins:
        canvas.saveState()
        canvas.translate(x, top)
        canvas.doForm(FACE_FORM)
        canvas.restoreState()
    _, small, _ = _sizes(layout)
    text = canvas.beginText()
    for n, font, value in ((2, LATIN_FONT, lambda f: f.serial), (4, "Courier-Bold", lambda f: f.pin)):
        text.setFont(font, small)
        for face, (x, top) in zip(page, origins, strict=True):
            text.setTextOrigin(x, top + _line_y(layout, n))
            text.textOut(value(face))
    canvas.drawText(text)


# Thermal labels# Thermal labels: 50 x 30 mm at 203 dpi (8 dots a millimetre), the common roll for both languages.
DOTS_PER_MM = 8
THERMAL_W_MM, THERMAL_H_MM = 50, 30


def _ascii(text: str) -> str:
    """Printer fonts hold ASCII; a Chinese product name is left to the pre-printed roll."""
    return text.encode("ascii", "replace").decode().replace("?", "") or "-"


def _zpl_field(text: str) -> str:
    # ^FH lets "_" introduce hex escapes: escape ^, ~ and _ themselves so a lot code cannot end a field.
    return "".join(f"_{ord(ch):02X}" if ch in "^~_" else ch for ch in text)


def render_zpl(product_ascii: str, lot_code: str, faces: Iterable[LabelFace]) -> bytes:
    """One ZPL II label a unit: QR (model 2, error correction M) with the URI, lot, serial and PIN."""
    out = []
    for face in faces:
        out.append(
            f"^XA^CI28^PW{THERMAL_W_MM * DOTS_PER_MM}^LL{THERMAL_H_MM * DOTS_PER_MM}"
            f"^FO16,16^BQN,2,4^FH^FDMA,{_zpl_field(face.uri)}^FS"
            f"^FO200,24^A0N,24,24^FH^FD{_zpl_field(_ascii(product_ascii))}^FS"
            f"^FO200,64^A0N,22,22^FH^FDLOT {_zpl_field(lot_code)}^FS"
            f"^FO200,104^A0N,22,22^FD{face.serial}^FS"
            f"^FO200,150^A0N,26,26^FDPIN {face.pin}^FS"
            "^XZ\n"
        )
    return "".join(out).encode()


def _tspl_text(text: str) -> str:
    # TSPL strings are in double quotes; a quote inside is written as \["].
    return text.replace('"', '\\["]')


def render_tspl(product_ascii: str, lot_code: str, faces: Iterable[LabelFace]) -> bytes:
    """One TSPL label a unit: QRCODE (error correction M) with the URI, then lot, serial and PIN."""
    out = [f"SIZE {THERMAL_W_MM} mm,{THERMAL_H_MM} mm\r\nGAP 2 mm,0 mm\r\nDIRECTION 1\r\n"]
    for face in faces:
        out.append(
            "CLS\r\n"
            f'QRCODE 16,16,M,4,A,0,"{_tspl_text(face.uri)}"\r\n'
            f'TEXT 200,24,"2",0,1,1,"{_tspl_text(_ascii(product_ascii))}"\r\n'
            f'TEXT 200,64,"2",0,1,1,"LOT {_tspl_text(lot_code)}"\r\n'
            f'TEXT 200,104,"2",0,1,1,"{face.serial}"\r\n'
            f'TEXT 200,150,"3",0,1,1,"PIN {face.pin}"\r\n'
            "PRINT 1,1\r\n"
        )
    return "".join(out).encode()


def render(template: str, product: str, product_ascii: str, lot_code: str, faces: Sequence[LabelFace]) -> bytes:
    if template in LAYOUTS:
        return render_pdf(LAYOUTS[template], product, lot_code, faces)
    if template == "zpl":
        return render_zpl(product_ascii, lot_code, faces)
    if template == "tspl":
        return render_tspl(product_ascii, lot_code, faces)
    raise ValueError(f"unknown template {template!r}")


FILE_KIND = {"a4_24": "pdf", "a4_40": "pdf", "zpl": "zpl", "tspl": "tspl"}
