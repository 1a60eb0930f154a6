"""The food production licence number (食品生产许可证编号): ``SC`` and 14 digits.

What is checked is only that shape. Secondary summaries of the 2015 licensing rules describe the
14 digits as a 3-digit food category, 6 digits of administrative division (GB/T 2260), a 4-digit
sequence and 1 check digit, but no official text of that structure was found, and the check
digit's algorithm is published nowhere we could read: so neither the division digits nor the
check digit are tested. A number of the right shape that is wrong is not caught here.
"""

from __future__ import annotations

import re

from flask_babel import gettext

_LICENCE = re.compile(r"SC[0-9]{14}")  # ASCII digits: \d would take full-width ones too


def normalize(value: str) -> str:
    """As printed on labels: no spaces, capital ``SC`` (``sc 1064…`` is the same number)."""
    return re.sub(r"\s+", "", value).upper()


def licence_error(value: str) -> str | None:
    """Why ``value`` (normalized) is not a production licence number, in the reader's language; None when it is."""
    if _LICENCE.fullmatch(value):
        return None
    if not value.startswith("SC"):
        return gettext("应以 SC 开头，后接 14 位数字")
    digits = value[2:]
    if not digits.isdigit() or not digits.isascii():
        return gettext("SC 之后只能是数字")
    return gettext("SC 之后应为 14 位数字，实为 %(n)s 位", n=len(digits))
