"""The Ed25519 key that signs checkpoints: loaded from configuration, never from the database.

Where it comes from, in order: ``CHECKPOINT_SIGNING_KEY`` (PEM), ``CHECKPOINT_SIGNING_KEY_FILE``,
and, outside production only, a key generated once into the instance folder. Two processes that
start together (gunicorn's workers) agree on that generated key: it is written to a temporary
file and linked into place, so the second writer finds the first one's key and uses it.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from app.errors import DomainError


class SigningKeyUnavailable(DomainError):
    """No signing key is configured (production), or the configured one cannot be read."""

    status_code = 503


@dataclass(frozen=True)
class Signer:
    private_key: Ed25519PrivateKey

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    @property
    def key_id(self) -> str:
        return key_id(self.public_key)

    def sign(self, message: bytes) -> bytes:
        return self.private_key.sign(message)


def raw_public_key(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public_key: Ed25519PublicKey) -> str:
    """The first 16 hex digits of SHA-256 over the raw 32-byte public key."""
    return hashlib.sha256(raw_public_key(public_key)).hexdigest()[:16]


def public_key_document(public_key: Ed25519PublicKey) -> dict[str, str]:
    """The public key as ``/api/v1/checkpoints/key`` and every checkpoint file give it."""
    pem = public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return {
        "algorithm": "Ed25519",
        "key_id": key_id(public_key),
        "pem": pem.decode(),
        "raw": base64.b64encode(raw_public_key(public_key)).decode(),
    }


def load_public_key(text: str) -> Ed25519PublicKey:
    """A public key given as PEM, or as the raw 32 bytes in base64; ValueError otherwise."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        key = serialization.load_pem_public_key(text.encode())
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("the PEM key is not an Ed25519 public key")
        return key
    raw = base64.b64decode(text, validate=True)
    if len(raw) != 32:
        raise ValueError("a raw Ed25519 public key is 32 bytes")
    return Ed25519PublicKey.from_public_bytes(raw)


def verify_signature(public_key: Ed25519PublicKey, message: bytes, signature_b64: str) -> bool:
    try:
        public_key.verify(base64.b64decode(signature_b64, validate=True), message)
    except (InvalidSignature, ValueError):
        return False
    return True


def _private_from_pem(pem: bytes, where: str) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise SigningKeyUnavailable(f"{where} is not an unencrypted PEM private key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyUnavailable(f"{where} is not an Ed25519 private key")
    return key


def _private_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def generate_key_file(path: Path) -> None:
    """Write a new private key to ``path`` unless one is there already (mode 0600)."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".checkpoint-key-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(_private_pem(Ed25519PrivateKey.generate()))
        with contextlib.suppress(FileExistsError):  # another process got there first: theirs wins
            os.link(tmp, path)
    finally:
        os.unlink(tmp)


def load_signer(config: Mapping[str, Any], generate: bool = True) -> Signer:
    """The configured signing key; raises SigningKeyUnavailable when there is none to use.

    ``generate=False`` (the public key's endpoint) never makes the development key, only reads it.
    """
    if config.get("CHECKPOINT_SIGNING_KEY"):
        return Signer(_private_from_pem(str(config["CHECKPOINT_SIGNING_KEY"]).encode(), "CHECKPOINT_SIGNING_KEY"))
    path_name = config.get("CHECKPOINT_SIGNING_KEY_FILE")
    if not path_name:
        if config.get("APP_ENV") == "production":
            raise SigningKeyUnavailable(
                "no checkpoint signing key: set CHECKPOINT_SIGNING_KEY or CHECKPOINT_SIGNING_KEY_FILE "
                "(an Ed25519 private key in PEM) before creating checkpoints with APP_ENV=production"
            )
        path_name = config["CHECKPOINT_DEV_KEY_FILE"]
        if generate:
            generate_key_file(Path(path_name))
        elif not Path(path_name).exists():
            raise SigningKeyUnavailable("no checkpoint signing key yet: `flask checkpoints create` makes one")
    try:
        pem = Path(path_name).read_bytes()
    except OSError as exc:
        raise SigningKeyUnavailable(f"cannot read the checkpoint signing key {path_name}: {exc.strerror}") from None
    return Signer(_private_from_pem(pem, str(path_name)))
