"""What a checkpoint signs and what a leaf is, byte for byte. Pure: no database, no Flask.

A **leaf** is one batch's chain head at the moment a checkpoint first saw it, as UTF-8 JSON with
sorted keys and no white space::

    {"head_hash":"<64 hex>","lot_code":"BT-2026-000123","seq":7}

Its Merkle leaf hash is SHA-256(0x00 || those bytes) (RFC 6962). ``seq`` 0 with 64 zeros is a
batch with no events yet.

The **statement** a checkpoint signs is, in the same canonical JSON::

    {"created_at":"2026-12-01T06:00:00.000000Z","id":3,"key_id":"<16 hex>","log":"youpin-trace",
     "prev_hash":"<64 hex>"|null,"prev_id":2|null,"root_hash":"<64 hex>","tree_size":42,"version":1}

signed with Ed25519 as it is (no pre-hash). The checkpoint's ``hash`` is SHA-256 of the statement;
the next checkpoint names it as ``prev_hash``.

A **checkpoint file** (what ``GET /api/v1/checkpoints/latest`` answers, what a witness stores and
what ``checkpoints verify FILE`` reads) is a JSON object with ``format``, ``checkpoint`` (the fields
above), ``statement`` (the signed text), ``hash``, ``signature`` (base64) and ``public_key``
(``pem``, ``raw`` base64, ``key_id``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

LOG_NAME = "youpin-trace"
VERSION = 1
FILE_FORMAT = "youpin-trace-checkpoint/1"


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def leaf_bytes(lot_code: str, seq: int, head_hash: str) -> bytes:
    return canonical_json({"head_hash": head_hash, "lot_code": lot_code, "seq": seq})


def iso_utc(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Statement:
    id: int
    tree_size: int
    root_hash: str
    created_at: dt.datetime
    prev_id: int | None
    prev_hash: str | None
    key_id: str

    def fields(self) -> dict[str, Any]:
        return {
            "created_at": iso_utc(self.created_at),
            "id": self.id,
            "key_id": self.key_id,
            "log": LOG_NAME,
            "prev_hash": self.prev_hash,
            "prev_id": self.prev_id,
            "root_hash": self.root_hash,
            "tree_size": self.tree_size,
            "version": VERSION,
        }

    def canonical(self) -> bytes:
        return canonical_json(self.fields())

    def digest(self) -> str:
        return hashlib.sha256(self.canonical()).hexdigest()


def document(statement: Statement, signature: str, public_key: dict[str, str]) -> dict[str, Any]:
    """The checkpoint file: everything a verifier needs besides the public key it trusts."""
    return {
        "format": FILE_FORMAT,
        "checkpoint": statement.fields(),
        "statement": statement.canonical().decode(),
        "hash": statement.digest(),
        "signature": signature,
        "public_key": public_key,
    }


def parse_created_at(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)


def statement_of(doc: dict[str, Any]) -> Statement:
    """The statement a checkpoint file describes; ValueError when the file is not one of ours."""
    if doc.get("format") != FILE_FORMAT:
        raise ValueError(f"not a checkpoint file (format {doc.get('format')!r}, expected {FILE_FORMAT!r})")
    fields = doc.get("checkpoint")
    if not isinstance(fields, dict) or fields.get("log") != LOG_NAME or fields.get("version") != VERSION:
        raise ValueError("the checkpoint is not one of this log's (log or version differs)")
    try:
        statement = Statement(
            id=int(fields["id"]),
            tree_size=int(fields["tree_size"]),
            root_hash=str(fields["root_hash"]),
            created_at=parse_created_at(str(fields["created_at"])),
            prev_id=None if fields["prev_id"] is None else int(fields["prev_id"]),
            prev_hash=None if fields["prev_hash"] is None else str(fields["prev_hash"]),
            key_id=str(fields["key_id"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"the checkpoint's fields are incomplete or malformed: {exc}") from None
    if statement.canonical().decode() != doc.get("statement"):
        raise ValueError("the file's statement is not the canonical form of its checkpoint fields")
    return statement
