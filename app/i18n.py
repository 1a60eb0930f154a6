"""User-facing text has one mechanism, Babel: the markers and the helpers every module uses.

Source strings are Chinese, marked where they are written (``N_``, or ``NP_`` with a context
when one Chinese word needs two English ones: 包装 is the packing *stage* and a *package*),
and translated where they are shown, in the request's language (``gettext``/``pgettext``).
English lives in app/translations/en/LC_MESSAGES/messages.po (``make translations``). An API
field that carries both languages (``stage_name_zh``/``stage_name_en``) asks for each under
``force_locale``; so does a document rendered in a given language (the compliance PDF).
"""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import force_locale

LANGUAGES: tuple[str, ...] = ("zh", "en")


def N_(text: str) -> str:
    """Mark a string for extraction; it is translated later, where it is shown."""
    return text


def NP_(context: str, text: str) -> str:
    """Mark a string with a context for extraction (``pybabel extract -k NP_:1c,2``)."""
    return text


def in_language(lang: str, text: Callable[[], str]) -> str:
    """``text()`` evaluated in ``lang``, whatever the request's language."""
    with force_locale(lang):
        return text()


def in_each_language(text: Callable[[], str]) -> dict[str, str]:
    """``text()`` in every language we publish, e.g. ``{"zh": "采收", "en": "Harvest"}``."""
    return {lang: in_language(lang, text) for lang in LANGUAGES}
