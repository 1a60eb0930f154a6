"""Serials and PINs: pure functions, no database.

A serial is 16 characters of Crockford's base32 (0-9 and A-Z without I, L, O, U) over 80 bits
from ``secrets``: unguessable, unambiguous when read aloud or typed, and within GS1 AI 21's
twenty characters of set 82. A PIN is 8 decimal digits from ``secrets``, printed under a
scratch-off field.

PINs are stored as HMAC-SHA256 keyed by the application's secret (SECRET_KEY, through a
purpose-bound key) over the serial and the PIN. A password hash (argon2) per PIN would make a run
of 100,000 labels take hours; a keyed hash keeps a stolen table useless without the key, which
never sits in the database. Rotating SECRET_KEY therefore invalidates the PINs of printed labels.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
SERIAL_LENGTH = 16  # 16 x 5 bits = 80 bits
PIN_LENGTH = 8
SERIAL_PATTERN = re.compile(f"[{CROCKFORD}]{{{SERIAL_LENGTH}}}")
PIN_PATTERN = re.compile(r"\d{8}")


def new_serial() -> str:
    bits = secrets.randbits(5 * SERIAL_LENGTH)
    return "".join(CROCKFORD[(bits >> (5 * i)) & 31] for i in range(SERIAL_LENGTH))


def new_pin() -> str:
    return f"{secrets.randbelow(10**PIN_LENGTH):0{PIN_LENGTH}d}"


def normalize_serial(text: str) -> str:
    """What a person typed, read as Crockford does: case-insensitive, O as 0, I and L as 1, no dashes."""
    return text.strip().upper().replace("-", "").replace("O", "0").replace("I", "1").replace("L", "1")


def pin_key(secret_key: str) -> bytes:
    """The PIN hashes' own key, derived from the app's secret so it is never used for two purposes."""
    return hmac.new(secret_key.encode(), b"youpin-trace label PIN v1", hashlib.sha256).digest()


def hash_pin(key: bytes, serial: str, pin: str) -> str:
    return hmac.new(key, f"{serial}:{pin}".encode(), hashlib.sha256).hexdigest()


def pin_matches(key: bytes, serial: str, pin: str, stored: str) -> bool:
    return hmac.compare_digest(hash_pin(key, serial, pin), stored)
