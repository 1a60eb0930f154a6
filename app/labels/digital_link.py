"""GS1 Digital Link URIs, built and parsed with biip (no hand-made GS1 syntax). Pure functions.

A batch with a GTIN (check digit verified) and a lot code that GS1 AI 10 accepts (ASCII from
character set 82, at most 20 characters) has ``/01/{gtin14}/10/{lot}`` and each of its units
``/01/{gtin14}/10/{lot}/21/{serial}``, under PUBLIC_BASE_URL (this service is its own resolver).
Any other unit resolves at ``/u/{serial}``. QR codes carry these plain URIs, never the FNC1
"GS1 QR" element-string form, which phones show as text.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from biip import ParseError
from biip.gs1_digital_link_uris import GS1DigitalLinkURI
from biip.gs1_element_strings import GS1ElementString, GS1ElementStrings
from biip.gtin import Gtin, GtinFormat


def gtin14(gtin: str) -> str | None:
    """The GTIN as 14 digits, or None when its check digit (or its form) is wrong."""
    try:
        return Gtin.parse(gtin).as_gtin_14()
    except ParseError:
        return None


def lot_ok(lot_code: str) -> bool:
    """Whether GS1 AI 10 takes the lot code as it is (set 82, 1 to 20 characters)."""
    try:
        GS1ElementString.parse("10" + lot_code)
    except ParseError:
        return False
    return True


def _element_strings(gtin: str, lot_code: str, serial: str | None) -> GS1ElementStrings:
    parts = [GS1ElementString.parse("01" + gtin), GS1ElementString.parse("10" + lot_code)]
    if serial is not None:
        parts.append(GS1ElementString.parse("21" + serial))
    return GS1ElementStrings(parts)


def _under(base_url: str, dl: GS1DigitalLinkURI) -> str:
    base = urlsplit(base_url)
    prefix = base.path.strip("/") or None
    # biip writes https and a host; the scheme and host are PUBLIC_BASE_URL's.
    uri = dl.as_uri(domain=base.netloc, prefix=prefix)
    return base.scheme + uri[len("https") :]


def batch_uri(base_url: str, gtin: str | None, lot_code: str) -> str | None:
    """The lot's Digital Link URI, or None when the batch has no usable GTIN or lot code."""
    g = gtin14(gtin) if gtin else None
    if g is None or not lot_ok(lot_code):
        return None
    return _under(base_url, GS1DigitalLinkURI.from_element_strings(_element_strings(g, lot_code, None)))


def unit_uri(base_url: str, gtin: str | None, lot_code: str, serial: str) -> str:
    """What a unit's QR code carries: its Digital Link URI, or ``/u/{serial}`` without one."""
    g = gtin14(gtin) if gtin else None
    if g is None or not lot_ok(lot_code):
        return f"{base_url}/u/{serial}"
    return _under(base_url, GS1DigitalLinkURI.from_element_strings(_element_strings(g, lot_code, serial)))


class UnitURIs:
    """The URIs of many units of one lot: biip builds the first, and the rest share its path.

    Building each through biip costs about a third of a millisecond (its regular expressions),
    most of a 100,000-unit run's time. A serial is 16 Crockford characters, which GS1 AI 21 takes
    and a URI path needs no escape for, so a unit's URI is the lot's, ``/21/``, and the serial;
    the first one made is checked against biip's own.
    """

    def __init__(self, base_url: str, gtin: str | None, lot_code: str) -> None:
        self.base_url, self.gtin, self.lot_code = base_url, gtin, lot_code
        self.lot = batch_uri(base_url, gtin, lot_code)
        self.checked = False

    def __call__(self, serial: str) -> str:
        if self.lot is None:
            return f"{self.base_url}/u/{serial}"
        uri = f"{self.lot}/21/{serial}"
        if not self.checked:
            if uri != unit_uri(self.base_url, self.gtin, self.lot_code, serial):
                raise ValueError(f"the lot's URI does not extend to its units: {uri}")
            self.checked = True
        return uri


@dataclass(frozen=True)
class Parsed:
    gtin14: str
    # The GTIN as written in the URI was shorter than 14 digits: the canonical path differs.
    short_form: bool
    lot: str | None
    serial: str | None


class NotDigitalLink(ValueError):
    """The path is not a Digital Link URI this resolver answers (wrong order, bad check digit, ...)."""


def parse(uri: str) -> Parsed:
    """Read a ``/01/...`` URI; NotDigitalLink when GS1's syntax refuses it."""
    try:
        dl = GS1DigitalLinkURI.parse(uri)
    except ParseError as exc:
        raise NotDigitalLink(str(exc)) from exc
    primary = dl.element_strings.get(ai="01")
    if primary is None or primary.gtin is None or primary.gtin_error:
        raise NotDigitalLink(primary.gtin_error if primary else "no GTIN")
    written = urlsplit(uri).path.split("/01/", 1)[1].split("/", 1)[0]
    lot = dl.element_strings.get(ai="10")
    serial = dl.element_strings.get(ai="21")
    return Parsed(
        gtin14=primary.gtin.as_gtin_14(),
        short_form=len(written) != 14 or (primary.gtin.format == GtinFormat.GTIN_14 and written != primary.value),
        lot=lot.value if lot else None,
        serial=serial.value if serial else None,
    )
