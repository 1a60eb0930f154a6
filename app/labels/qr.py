"""QR code rendering: pure functions from a URL to PNG or SVG bytes. No database, no request.

Every code uses error correction level M (about 15 % of the symbol may be damaged, enough for a
scuffed label) and the four-module quiet zone the QR standard asks for. A PNG is exactly ``size``
pixels wide: each module is a whole number of pixels (crisp edges for phone cameras) and what
is left over widens the white margin, so the quiet zone is never less than four modules.
"""

from __future__ import annotations

import hashlib
import io
from functools import lru_cache

import qrcode
from PIL import Image

ERROR_CORRECTION = qrcode.constants.ERROR_CORRECT_M
QUIET_ZONE = 4  # modules
MIN_SIZE = 128  # pixels
MAX_SIZE = 2048
DEFAULT_SIZE = 512
# Bumped whenever the drawing changes, so caches holding an old rendering miss.
RENDER_VERSION = "1"


class SizeTooSmall(ValueError):
    """The code has more modules (quiet zone included) than the image has pixels."""

    def __init__(self, needed: int) -> None:
        super().__init__(f"must be at least {needed} pixels for this code")
        self.needed = needed


@lru_cache(maxsize=1024)
def qr_matrix(data: str) -> tuple[tuple[bool, ...], ...]:
    """The symbol's modules, quiet zone included: True is dark."""
    code = qrcode.QRCode(version=None, error_correction=ERROR_CORRECTION, border=QUIET_ZONE)
    code.add_data(data)
    code.make(fit=True)
    return tuple(tuple(row) for row in code.get_matrix())


def module_pixels(data: str, size: int) -> int:
    """Whole pixels per module for an image ``size`` pixels wide; SizeTooSmall below one."""
    modules = len(qr_matrix(data))
    if size < modules:
        raise SizeTooSmall(modules)
    return size // modules


def etag(kind: str, data: str, size: int) -> str:
    """A strong validator: the same URL at the same size always draws the same bytes."""
    digest = hashlib.sha256(f"{RENDER_VERSION}\n{kind}\n{size}\n{data}".encode()).hexdigest()
    return digest[:32]


@lru_cache(maxsize=256)
def render_png(data: str, size: int) -> bytes:
    """A 1-bit PNG ``size`` x ``size`` pixels encoding ``data``."""
    matrix = qr_matrix(data)
    box = module_pixels(data, size)
    modules = len(matrix)
    symbol = Image.new("1", (modules, modules), 1)
    symbol.putdata([0 if dark else 1 for row in matrix for dark in row])
    drawn = modules * box
    symbol = symbol.resize((drawn, drawn), Image.Resampling.NEAREST)
    canvas = Image.new("1", (size, size), 1)
    offset = (size - drawn) // 2
    canvas.paste(symbol, (offset, offset))
    out = io.BytesIO()
    canvas.save(out, format="PNG", optimize=True)
    return out.getvalue()


@lru_cache(maxsize=256)
def render_svg(data: str, size: int) -> bytes:
    """An SVG drawn in module units (one path, crisp edges), shown ``size`` pixels wide."""
    matrix = qr_matrix(data)
    modules = len(matrix)
    # One horizontal run of dark modules per path segment keeps the file small.
    runs: list[str] = []
    for y, row in enumerate(matrix):
        x = 0
        while x < modules:
            if row[x]:
                start = x
                while x < modules and row[x]:
                    x += 1
                runs.append(f"M{start} {y}h{x - start}v1h-{x - start}z")
            else:
                x += 1
    svg = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
        f'viewBox="0 0 {modules} {modules}" shape-rendering="crispEdges">'
        f'<rect width="{modules}" height="{modules}" fill="#fff"/>'
        f'<path fill="#000" d="{"".join(runs)}"/>'
        "</svg>\n"
    )
    return svg.encode()
