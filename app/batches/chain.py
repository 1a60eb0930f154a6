"""The hash chain over a batch's events (invariant 2). Pure functions: no database here.

hash = SHA-256 over a canonical JSON serialization of the event, prev_hash included. The first
event chains from GENESIS. Canonical means: keys sorted, no insignificant white space, UTF-8,
datetimes as UTC ISO 8601 with microseconds, and stable references (lot code, organization
code, username) instead of internal ids that a restore could renumber.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64


def iso_utc(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_data(value: Any, path: str = "data") -> Any:
    """The value as every database gives it back, so the hash of what we store is the hash we read.

    PostgreSQL's JSONB keeps numbers as exact numerics: it returns 1e16 as 10000000000000000 and
    -0.0 as 0. Whole floats therefore become ints before hashing. NaN and infinities have no JSON
    form, and lone surrogates no UTF-8 form: both are refused (ValueError naming the path).
    """
    if isinstance(value, bool) or value is None or isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise ValueError(f"{path}: numbers must be finite")
        return int(value) if value.is_integer() else value
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(f"{path}: text is not valid Unicode") from None
        return value
    if isinstance(value, dict):
        return {canonical_data(k, path): canonical_data(v, f"{path}.{k}") for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [canonical_data(v, f"{path}.{i}") for i, v in enumerate(value)]
    raise ValueError(f"{path}: {type(value).__name__} cannot be stored")


@dataclass(frozen=True)
class ChainFields:
    """Everything an event's hash commits to."""

    lot_code: str
    seq: int
    stage: str
    occurred_at: dt.datetime
    recorded_at: dt.datetime
    actor_org: str
    actor_user: str | None
    site_id: int | None
    data: dict[str, Any]
    amends_seq: int | None
    prev_hash: str

    def canonical(self) -> bytes:
        body = {
            "lot_code": self.lot_code,
            "seq": self.seq,
            "stage": self.stage,
            "occurred_at": iso_utc(self.occurred_at),
            "recorded_at": iso_utc(self.recorded_at),
            "actor_org": self.actor_org,
            "actor_user": self.actor_user,
            "site_id": self.site_id,
            "data": self.data,
            "amends_seq": self.amends_seq,
            "prev_hash": self.prev_hash,
        }
        return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

    def digest(self) -> str:
        return hashlib.sha256(self.canonical()).hexdigest()


@dataclass(frozen=True)
class ChainReport:
    valid: bool
    events: int
    head_hash: str
    first_invalid_seq: int | None
    reason: str | None = None


def verify(links: Iterable[tuple[ChainFields, str]], expected_head: str | None = None) -> ChainReport:
    """Recompute the chain in order; name the first event whose stored hash, link or number is off.

    ``links`` yields (the fields as stored, the hash as stored), ordered by seq.
    """
    prev = GENESIS
    count = 0
    for count, (fields, stored_hash) in enumerate(links, start=1):
        if fields.seq != count:
            return ChainReport(False, count, prev, fields.seq, f"sequence gap: expected {count}, found {fields.seq}")
        if fields.prev_hash != prev:
            return ChainReport(False, count, prev, fields.seq, "prev_hash does not match the previous event")
        if fields.digest() != stored_hash:
            return ChainReport(False, count, prev, fields.seq, "content does not match its hash")
        prev = stored_hash
    if expected_head is not None and expected_head != prev:
        # The batch's head names an event that is no longer there (a deleted tail).
        return ChainReport(False, count, prev, count + 1, "the batch's head hash is not the last event's hash")
    return ChainReport(True, count, prev, None)
