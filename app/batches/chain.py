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


# ---------------------------------------------------------------------------------------------
# What the chain commits to beyond its own rows: the batch's facts, its lineage edges, its
# recalls and its test reports are also stored in rows of their own, which pages and services
# read. Each such row must restate a chained record; one changed, added or deleted in the
# database breaks the batch's verification (issue 12).
# ---------------------------------------------------------------------------------------------

# The record that opens a batch created directly; a lot made by a split or transformation opens
# with that record instead, which carries the same ``batch`` facts.
CREATED = "created"
LINEAGE_KINDS = ("split", "transformation")


def batch_facts(
    *, lot_code: str, product: str, producer: str, quantity: str, unit: str, created_at: dt.datetime,
    site_id: int | None, gtin: str | None,
) -> dict[str, Any]:  # fmt: skip
    """A batch's own facts as its first record commits to them (quantity as a 3-place string)."""
    return {
        "lot_code": lot_code,
        "product": product,
        "producer": producer,
        "quantity": quantity,
        "unit": unit,
        "created_at": iso_utc(created_at),
        "site": site_id,
        "gtin": gtin,
    }


@dataclass(frozen=True)
class Restated:
    """What rows outside the events say about a batch, in the shape its chained records say it.

    ``edges_out``: (transformation, output lot, quantity) for what went from this batch into
    others; ``edges_in``: (transformation, input lot, quantity) for what it was made from;
    ``recalls``: recall id -> (root lot, severity, reason, depth, status); ``inspections``:
    report (``report_key``) -> the report as chained.
    """

    facts: dict[str, Any]
    status: str
    edges_out: list[tuple[int | None, str, str]]
    edges_in: list[tuple[int | None, str, str]]
    recalls: dict[int, tuple[str, str, str, int, str]]
    inspections: dict[Any, dict[str, Any]]


def _facts_record(records: list[ChainFields]) -> tuple[ChainFields | None, str | None]:
    """The record that commits to the batch's facts, or why there is none that may.

    Seq 1 for every chain begun since facts were chained. A chain begun before carries them in a
    ``created`` record that the migration appended to its tail; removing either means
    re-hashing the chain, which only a checkpoint can catch.
    """
    if not records:
        return None, "the chain is empty: no record commits to the batch's own facts"
    first = records[0]
    if "batch" in first.data and first.stage in (CREATED, *LINEAGE_KINDS):
        return first, None
    created = [r for r in records if r.stage == CREATED]
    return (created[0], None) if created else (None, "no record commits to the batch's own facts")


def check_restated(records: list[ChainFields], stored: Restated) -> tuple[int, str] | None:
    """The first row outside the chain that does not restate its chained record: (seq, reason).

    Pure: the caller gathered ``stored`` from the database.
    """
    beyond = len(records) + 1  # where a row with no record at all is reported
    facts_record, missing = _facts_record(records)
    if facts_record is None:
        return 1, missing or ""
    committed = facts_record.data["batch"]
    for key in sorted(set(committed) | set(stored.facts)):
        if committed.get(key) != stored.facts.get(key):
            return facts_record.seq, f"the batch's {key} is not what record {facts_record.seq} committed to"
    extra = [r for r in records if r.stage == CREATED and r is not facts_record]
    if extra:
        return extra[0].seq, "a second record claims to open the batch"

    # Lineage, both sides: the inputs' records name what went into which lots; an output's first
    # record names what it was made from.
    chained_out: dict[tuple[int | None, str, str], int] = {}
    chained_in: dict[tuple[int | None, str, str], int] = {}
    for r in records:
        if r.stage in LINEAGE_KINDS and "outputs" in r.data:
            for out in r.data["outputs"]:
                chained_out.setdefault((r.data.get("transformation"), out["lot_code"], out["quantity"]), r.seq)
        if r.stage in LINEAGE_KINDS and "inputs" in r.data and r.seq == 1:
            for inp in r.data["inputs"]:
                chained_in.setdefault((r.data.get("transformation"), inp["lot_code"], inp["quantity"]), r.seq)
    for edge_kind, chained, rows, fallback in (
        ("to", chained_out, stored.edges_out, beyond),
        ("from", chained_in, stored.edges_in, 1),
    ):
        if sorted(chained) != sorted(rows):
            for key, seq in sorted(chained.items(), key=lambda kv: kv[1]):
                if key not in rows:
                    return seq, (
                        f"record {seq} names a lineage edge {edge_kind} {key[1]} ({key[2]}) "
                        "that the database no longer holds as recorded"
                    )
            for key in rows:
                if key not in chained:
                    return fallback, (
                        f"the database holds a lineage edge {edge_kind} {key[1]} ({key[2]}) that no record names"
                    )
            return fallback, f"the lineage edges {edge_kind} other lots are not the ones recorded"

    # Recalls: the chain holds every recall that reached the batch and every closing of one.
    opened: dict[Any, ChainFields] = {r.data.get("recall"): r for r in records if r.stage == "recall"}
    closed = {r.data.get("recall"): r for r in records if r.stage == "recall_closed"}
    for recall_id, r in opened.items():
        status = "closed" if recall_id in closed else "open"
        expected = (r.data.get("root"), r.data.get("severity"), r.data.get("reason"), r.data.get("depth"), status)
        if stored.recalls.get(recall_id) != expected:
            return r.seq, f"recall {recall_id} as stored is not what record {r.seq} says (deleted or changed)"
    for recall_id in sorted(set(stored.recalls) - set(opened)):
        return beyond, f"the database holds recall {recall_id} of this batch, which no record names"
    if opened and stored.status != "recalled":
        first_recall = min(r.seq for r in opened.values())
        return first_recall, f"the batch is {stored.status}, but record {first_recall} recalled it"

    # Test reports: the results a verdict reads are the ones chained.
    # A report number is unique per lab, not per batch: a report is its lab and its number.
    reports: dict[Any, ChainFields] = {
        report_key(r.data.get("lab_org_id"), r.data.get("lab"), r.data.get("report_no")): r
        for r in records
        if r.stage == "inspection"
    }
    for key, r in reports.items():
        if stored.inspections.get(key) != r.data:
            return r.seq, f"test report {key[2]} as stored is not what record {r.seq} says (deleted or changed)"
    for key in sorted(set(stored.inspections) - set(reports), key=str):
        return beyond, f"the database holds test report {key[2]}, which no record names"
    return None


def report_key(lab_org_id: Any, lab: Any, report_no: Any) -> tuple[Any, Any, Any]:
    """What identifies a test report in a batch's chain: its lab (organization, name) and number."""
    return (lab_org_id, lab, report_no)


def verify_restated(
    links: Iterable[tuple[ChainFields, str]], expected_head: str | None, stored: Restated
) -> ChainReport:
    """``verify``, then ``check_restated`` on a chain that recomputes."""
    pairs = list(links)
    report = verify(pairs, expected_head)
    if not report.valid:
        return report
    found = check_restated([fields for fields, _ in pairs], stored)
    if found is None:
        return report
    return ChainReport(False, report.events, report.head_hash, found[0], found[1])
