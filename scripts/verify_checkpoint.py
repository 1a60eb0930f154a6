#!/usr/bin/env python3
"""Verify a batch against a saved Youpin Trace checkpoint, offline, without the app.

Needs Python 3.11 and the ``cryptography`` package, and three or four files:

- ``--checkpoint``: a checkpoint file you saved earlier (``GET /api/v1/checkpoints/latest``, or a
  witness's copy);
- ``--key``: the public key you trust (``GET /api/v1/checkpoints/key``: its ``pem``, or ``raw``);
- ``--proof``: the batch's proof, ``GET /api/v1/public/{public_code}/proof?from=<your checkpoint id>``
  (``from`` matters only when the log has grown since you saved your checkpoint);
- ``--events`` (optional): the batch's events as exported by
  ``GET /api/v1/batches/{id}/events?raw=true``; each hash is then recomputed and the anchored one found.

It checks the signature of your checkpoint (and of the proof's, if newer), that the newer tree
extends yours (RFC 9162 consistency proof), that the batch's leaf is in the tree (RFC 9162
inclusion proof), and, with ``--events``, that the exported chain recomputes and holds the anchored
head. It prints what it found and exits 0 when everything holds, 1 otherwise.

The formats (leaf, statement, checkpoint file) are in README.md, "Checkpoints and proofs". This
file imports nothing of the application on purpose: it is the reference for an outside verifier.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import json
import math
import sys
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

GENESIS = "0" * 64


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


# RFC 6962 hashing and the RFC 9162 (sections 2.1.3.2 and 2.1.4.2) verification algorithms.


def node(left: bytes, right: bytes) -> bytes:
    return sha256(b"\x01" + left + right)


def leaf_hash(lot_code: str, seq: int, head_hash: str) -> bytes:
    return sha256(b"\x00" + canonical_json({"head_hash": head_hash, "lot_code": lot_code, "seq": seq}))


def verify_inclusion(index: int, size: int, leaf: bytes, path: list[bytes], root: bytes) -> bool:
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node(p, r)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes, path: list[bytes]) -> bool:
    if first == second:
        return not path and first_root == second_root
    if not 0 < first < second or not path:
        return False
    if first & (first - 1) == 0:
        path = [first_root, *path]
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node(c, fr), node(c, sr)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == first_root and sr == second_root


# Checkpoints


def load_key(text: str) -> Ed25519PublicKey:
    text = text.strip()
    if text.startswith("-----BEGIN"):
        key = serialization.load_pem_public_key(text.encode())
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("not an Ed25519 public key")
        return key
    return Ed25519PublicKey.from_public_bytes(base64.b64decode(text, validate=True))


def key_id(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def check_checkpoint(doc: dict[str, Any], key: Ed25519PublicKey, name: str, problems: list[str]) -> dict[str, Any]:
    """The checkpoint's fields once its statement and signature hold; problems say what does not."""
    fields = doc.get("checkpoint") or {}
    statement = canonical_json(fields)
    if statement.decode() != doc.get("statement"):
        problems.append(f"{name}: the statement is not the canonical form of its fields")
    if fields.get("key_id") != key_id(key):
        problems.append(f"{name}: signed by key {fields.get('key_id')}, not the trusted key {key_id(key)}")
    try:
        key.verify(base64.b64decode(doc.get("signature", ""), validate=True), statement)
    except (InvalidSignature, ValueError):
        problems.append(f"{name}: the signature does not verify with the trusted key")
    if hashlib.sha256(statement).hexdigest() != doc.get("hash"):
        problems.append(f"{name}: its hash is not SHA-256 of its statement")
    return fields


# The chain, as the service hashes it (app/batches/chain.py)


def canonical_data(value: Any) -> Any:
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise ValueError("numbers must be finite")
        return int(value) if value.is_integer() else value
    if isinstance(value, dict):
        return {k: canonical_data(v) for k, v in value.items()}
    if isinstance(value, list):
        return [canonical_data(v) for v in value]
    return value


def iso_utc(text: str) -> str:
    return dt.datetime.fromisoformat(text).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_hash(lot_code: str, event: dict[str, Any]) -> str:
    site = event.get("site")
    body = {
        "lot_code": lot_code,
        "seq": event["seq"],
        "stage": event["stage"],
        "occurred_at": iso_utc(event["occurred_at"]),
        "recorded_at": iso_utc(event["recorded_at"]),
        "actor_org": event["actor_org"]["code"],
        "actor_user": event.get("actor_user"),
        "site_id": site["id"] if site else None,
        "data": canonical_data(event["data"]),
        "amends_seq": event.get("amends_seq"),
        "prev_hash": event["prev_hash"],
    }
    return hashlib.sha256(canonical_json(body)).hexdigest()


def check_events(export: dict[str, Any], leaf: dict[str, Any], problems: list[str]) -> str:
    lot_code = export.get("lot_code")
    if lot_code != leaf["lot_code"]:
        problems.append(f"the events are of {lot_code}, the proof of {leaf['lot_code']}")
        return ""
    prev, hashes = GENESIS, {0: GENESIS}
    for n, event in enumerate(export.get("events") or [], start=1):
        if event["seq"] != n or event["prev_hash"] != prev or event_hash(lot_code, event) != event["hash"]:
            problems.append(f"{lot_code}: exported event {event['seq']} does not recompute or link")
            return ""
        prev = hashes[n] = event["hash"]
    if hashes.get(leaf["seq"]) != leaf["head_hash"]:
        problems.append(f"{lot_code}: the exported chain does not hold the anchored event {leaf['seq']}")
        return ""
    return f"the exported chain of {len(hashes) - 1} events recomputes and holds the anchored event {leaf['seq']}"


def verify(saved: dict[str, Any], key: Ed25519PublicKey, proof: dict[str, Any], events: dict | None) -> list[str]:
    problems: list[str] = []
    mine = check_checkpoint(saved, key, "your checkpoint", problems)
    theirs = check_checkpoint(proof["checkpoint"], key, "the proof's checkpoint", problems)
    if problems:
        return problems
    leaf = proof["leaf"]
    hashed = leaf_hash(leaf["lot_code"], leaf["seq"], leaf["head_hash"])
    if hashed.hex() != leaf["hash"]:
        problems.append("the leaf's hash is not the hash of its lot code, seq and head hash")
    if theirs["id"] < mine["id"]:
        problems.append(f"the proof is against checkpoint {theirs['id']}, older than yours ({mine['id']})")
    elif theirs["id"] == mine["id"]:
        if proof["checkpoint"]["hash"] != saved["hash"]:
            problems.append(f"the log's checkpoint {mine['id']} is not the one you saved: the log was rewritten")
    else:
        step = proof.get("consistency") or {}
        if (step.get("from") or {}).get("hash") != saved["hash"]:
            problems.append(f"the proof has no consistency proof from your checkpoint {mine['id']} (ask ?from=)")
        elif not verify_consistency(
            mine["tree_size"], theirs["tree_size"], bytes.fromhex(mine["root_hash"]),
            bytes.fromhex(theirs["root_hash"]), [bytes.fromhex(p) for p in step.get("path", [])],
        ):  # fmt: skip
            problems.append(f"checkpoint {theirs['id']} does not extend your checkpoint {mine['id']}")
    inclusion = proof["inclusion"]
    if inclusion["tree_size"] != theirs["tree_size"] or not verify_inclusion(
        inclusion["leaf_index"], theirs["tree_size"], hashed, [bytes.fromhex(p) for p in inclusion["path"]],
        bytes.fromhex(theirs["root_hash"]),
    ):  # fmt: skip
        problems.append(f"the leaf of {leaf['lot_code']} is not proven in checkpoint {theirs['id']}")
    if events is not None:
        found = check_events(events, leaf, problems)
        if found:
            print(found)
    if not problems:
        covered = "your checkpoint" if inclusion["leaf_index"] < mine["tree_size"] else f"checkpoint {theirs['id']}"
        print(
            f"OK: {leaf['lot_code']} up to event {leaf['seq']} (head {leaf['head_hash'][:16]}…) is in {covered}, "
            f"signed by key {mine['key_id']}"
        )
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", required=True, type=Path, help="the checkpoint file you saved")
    parser.add_argument("--key", required=True, type=Path, help="the public key you trust (PEM or raw base64)")
    parser.add_argument("--proof", required=True, type=Path, help="the batch's proof (…/public/{code}/proof)")
    parser.add_argument("--events", type=Path, help="the batch's events (…/batches/{id}/events?raw=true)")
    args = parser.parse_args(argv)
    try:
        saved = json.loads(args.checkpoint.read_text(encoding="utf-8"))
        key = load_key(args.key.read_text(encoding="utf-8"))
        proof = json.loads(args.proof.read_text(encoding="utf-8"))
        events = json.loads(args.events.read_text(encoding="utf-8")) if args.events else None
        problems = verify(saved, key, proof, events)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"cannot verify: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    for problem in problems:
        print(f"PROBLEM: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
