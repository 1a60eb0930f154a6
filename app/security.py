"""The doors: what every request, response and export passes through, and the bounds, in one place.

- Text: control characters are refused in requests (``control_character``) and made harmless in
  exports (``csv_cell``, ``xlsx_append``, which also keep a cell from being read as a formula).
- Bodies: a size limit (``MAX_CONTENT_LENGTH``, 413) and a nesting limit checked on the raw bytes
  before any parser recurses (``json_nesting_depth``, 400).
- Passwords: ``password_problem`` says why a new password is refused.
- Responses: ``security_headers`` (Content-Security-Policy with a per-request nonce for the
  pages' own ``<style>``, nosniff, Referrer-Policy).

Pure functions and constants: nothing here imports the app, so schemas, services, the CLI and
the exports can all use them.
"""

from __future__ import annotations

import gzip
import re
from functools import cache
from pathlib import Path
from typing import Any

# --- Bounds: far beyond what a real user sends, low enough that no request can hold a lock long.

#: The largest request body (bytes). A bulk of 200 events with long notes is well under 1 MiB.
MAX_CONTENT_LENGTH = 2 * 1024 * 1024
#: Brackets open at once in a JSON body; deeper is refused (400) before parsing.
MAX_JSON_DEPTH = 32
#: Nesting of free-form stored JSON (stage data, processing parameters, a transformation's process).
MAX_DATA_DEPTH = 6
#: Packages in one packing event (a lot of a million 1 g sachets stays well inside).
MAX_PACKING_COUNT = 10_000_000
#: Parts of one split, inputs and outputs of one transformation: each part is a new lot under the
#: parent's lock (1,000 parts held it for 7.8 s); a cooperative splits into tens, not hundreds.
MAX_SPLIT_PARTS = 100
MAX_TRANSFORMATION_INPUTS = 100
MAX_TRANSFORMATION_OUTPUTS = 100
#: The largest quantity (in the batch's unit): the columns keep 15 integer digits.
MAX_QUANTITY = 999_999_999_999_999

# --- Text ------------------------------------------------------------------------------------------

# C0 controls other than tab and newline, and DEL. NUL is reported by its own reason elsewhere.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def control_character(text: str) -> str | None:
    """Why ``text`` cannot be stored (it holds a control character), or None."""
    found = _CONTROL.search(text)
    if found is None:
        return None
    return f"text cannot contain control characters (U+{ord(found.group()):04X} at position {found.start()})"


def normalize_newlines(text: str) -> str:
    """A browser's textarea sends CRLF (HTML's form encoding); store the newline alone."""
    return text.replace("\r\n", "\n")


# A spreadsheet reads a cell starting with one of these as a formula (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def export_text(value: str) -> str:
    """A stored text as an export may hold it: control characters written as ``\\xNN`` (XLSX cannot
    hold them at all, and a terminal or a CSV reader would act on them)."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", value)


def csv_cell(value: str) -> str:
    """One CSV cell: ``export_text``, and a leading formula character neutralized with ``'``."""
    value = export_text(value)
    return "'" + value if value.startswith(_FORMULA_START) else value


def xlsx_append(sheet: Any, values: list[Any]) -> None:
    """Append one row to an openpyxl sheet: texts through ``export_text`` and typed as strings, so
    a cell beginning with ``=`` is shown as written and never evaluated; other values as they are."""
    sheet.append([export_text(v) if isinstance(v, str) else v for v in values])
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"


# --- Bodies ----------------------------------------------------------------------------------------


def json_nesting_depth(raw: bytes, limit: int = MAX_JSON_DEPTH) -> int:
    """How deep the brackets of a JSON text nest (stopping once past ``limit``), without parsing it.

    Brackets inside strings do not count; an escaped quote does not end a string. Linear in the
    body's length, and it never recurses, so a hostile body cannot exhaust the stack.
    """
    depth = deepest = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # "
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    return deepest
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return deepest


def data_depth(value: Any) -> int:
    """How deep a loaded JSON value nests (a scalar is 0); bounded by the body check above."""
    if isinstance(value, dict):
        return 1 + max((data_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((data_depth(v) for v in value), default=0)
    return 0


# --- Passwords -------------------------------------------------------------------------------------

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 200
_COMMON_PASSWORDS = Path(__file__).parent / "data" / "common-passwords.txt.gz"


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, lowercased (see app/data/README.md for its source)."""
    with gzip.open(_COMMON_PASSWORDS, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip() for line in lines if line.strip())


# Why a password is refused, by code: the API says it in English (``password_problem``), the
# password page in the page's language (app/account/service.py).
PASSWORD_PROBLEMS = {
    "too_short": f"at least {MIN_PASSWORD_LENGTH} characters",
    "too_long": f"at most {MAX_PASSWORD_LENGTH} characters",
    "common": "too common: it is in a list of frequently used passwords",
    "contains_username": "must not contain the username",
}


def password_problem_code(password: str, username: str | None = None) -> str | None:
    """Which rule ``password`` breaks for ``username`` (a key of PASSWORD_PROBLEMS), or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return "too_short"
    if len(password) > MAX_PASSWORD_LENGTH:
        return "too_long"
    if password.strip().lower() in common_passwords():
        return "common"
    if username and username.lower() in password.lower():
        return "contains_username"
    return None


def password_problem(password: str, username: str | None = None) -> str | None:
    """Why ``password`` may not be set for ``username``, or None when it may."""
    code = password_problem_code(password, username)
    return PASSWORD_PROBLEMS[code] if code else None


# --- Response headers ------------------------------------------------------------------------------


def content_security_policy(nonce: str) -> str:
    """The pages' policy: everything from this origin, the pages' own ``<style>`` by nonce, no
    framing, no plugins, forms only back to us."""
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            f"style-src 'self' 'nonce-{nonce}'",
            "img-src 'self' data: blob:",
            # The field app's QR decoder (qr-scanner) runs in a worker it builds from a blob.
            "worker-src 'self' blob:",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


# Swagger UI's page (flask-smorest's template) starts itself with an inline script.
API_DOCS_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


def security_headers(mimetype: str | None, nonce: str, api_docs: bool = False) -> dict[str, str]:
    """The headers every response gets; HTML ones also the policy and a referrer rule."""
    headers = {"X-Content-Type-Options": "nosniff"}
    if mimetype == "text/html":
        headers["Content-Security-Policy"] = API_DOCS_POLICY if api_docs else content_security_policy(nonce)
        headers["Referrer-Policy"] = "same-origin"
    return headers
