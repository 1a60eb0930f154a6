"""The CJK font the compliance report is set in: a TrueType face from Debian, embedded.

reportlab embeds (subsets) TrueType outlines only, not CFF, so Noto CJK's OpenType files will not
do; WenQuanYi Zen Hei (Debian ``fonts-wqy-zenhei``, ``make pdf-font``) and AR PL UMing
(``fonts-arphic-uming``) will. Every character the report prints (CJK, µ, ≤, ★) is in the file,
so the PDF reads the same in any viewer and its text extracts back as Unicode.

Without either file the report falls back to reportlab's built-in CID font STSong-Light, which is
not embedded (a reader supplies its own Song face) and has no µ; a warning says so in the log.
"""

from __future__ import annotations

import logging
import os

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont

log = logging.getLogger(__name__)

# (font name in the PDF, file, index of the face within a .ttc collection, Debian package)
FONT_FILES: tuple[tuple[str, str, int, str], ...] = (
    ("WenQuanYiZenHei", "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0, "fonts-wqy-zenhei"),
    ("ARPLUMing", "/usr/share/fonts/truetype/arphic/uming.ttc", 0, "fonts-arphic-uming"),
)
FALLBACK_FONT = "STSong-Light"


def cjk_font() -> str:
    """Register (once) and name the font to set Chinese in: the first TrueType file found, else the
    built-in CID font with a warning."""
    registered = pdfmetrics.getRegisteredFontNames()
    for name, path, index, _package in FONT_FILES:
        if name in registered:
            return name
        if os.path.exists(path):
            pdfmetrics.registerFont(TTFont(name, path, subfontIndex=index))
            return name
    # Said on every report set in it: a machine missing the font should be noticed, not quietly worse.
    packages = " or ".join(package for _name, _path, _index, package in FONT_FILES)
    log.warning(
        "No TrueType CJK font found (install %s: `make pdf-font`); the compliance PDF falls back to "
        "the non-embedded %s, which has no µ.",
        packages,
        FALLBACK_FONT,
    )
    if FALLBACK_FONT not in registered:
        pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK_FONT))
    return FALLBACK_FONT
