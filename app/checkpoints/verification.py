"""Verify the database, or one batch, against a checkpoint file saved earlier (``checkpoints verify``).

Nothing here trusts the database's own view of the log: the saved file's signature is checked
with the key the caller trusts, and the stored leaves must give the root that file signed before
anything they say about a batch counts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select

from app.batches import chain
from app.checkpoints import merkle
from app.checkpoints.keys import key_id, load_public_key, verify_signature
from app.checkpoints.models import Checkpoint
from app.checkpoints.service import _chains, _heads, _leaf_rows, _LeafRow, statement_for
from app.checkpoints.statement import Statement, statement_of
from app.db import db
from app.errors import InvalidInput


@dataclass
class VerifyReport:
    checkpoint_id: int
    tree_size: int
    leaves: int = 0
    batches: int = 0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _check_file(doc: Mapping[str, Any], trusted: Ed25519PublicKey | None) -> tuple[Statement, Ed25519PublicKey]:
    try:
        statement = statement_of(dict(doc))
        key = trusted or load_public_key(str(doc["public_key"]["pem"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInput(f"not a checkpoint file: {exc}") from None
    return statement, key


def verify_against(
    doc: Mapping[str, Any], trusted: Ed25519PublicKey | None = None, lot_code: str | None = None
) -> VerifyReport:
    """Check the database (or one batch) against a checkpoint file saved earlier.

    Found: a chain rewritten under an anchored head, a tail removed (head fixed or not), a batch
    removed, leaves changed or removed, the log's own checkpoints changed or forked.
    ``trusted`` is the public key the caller pinned; without it the file's own key is used, which
    proves only that the file is intact, and the report says so.
    """
    statement, key = _check_file(doc, trusted)
    report = VerifyReport(statement.id, statement.tree_size)
    if trusted is None:
        report.notes.append("no trusted key given: checked against the key inside the file")
    if key_id(key) != statement.key_id:
        report.problems.append(f"checkpoint {statement.id} names key {statement.key_id}, not the trusted {key_id(key)}")
        return report
    if not verify_signature(key, statement.canonical(), str(doc.get("signature", ""))):
        report.problems.append(f"the signature of checkpoint {statement.id} does not verify: the file was altered")
        return report

    rows = _leaf_rows(statement.tree_size)
    tree = [row.recomputed() for row in rows]
    whole = [row.leaf_index for row in rows] == list(range(statement.tree_size))
    root_ok = whole and merkle.root(tree).hex() == statement.root_hash
    for row, hashed in zip(rows, tree, strict=True):
        if row.leaf_hash != hashed.hex():
            report.problems.append(f"leaf {row.leaf_index} ({row.lot_code}) does not hash to its stored leaf hash")
    if lot_code is None:
        scope = rows
        if not root_ok:
            report.problems.append(
                f"the database's leaves ({len(rows)} of {statement.tree_size}) do not give checkpoint "
                f"{statement.id}'s signed root: leaves were changed or removed"
            )
    else:
        scope = [row for row in rows if row.lot_code == lot_code]
        if not scope:
            report.problems.append(f"checkpoint {statement.id} covers no batch {lot_code} in this database")
        else:
            newest = scope[-1]
            path = merkle.inclusion_proof(newest.leaf_index, tree) if newest.leaf_index < len(tree) else []
            if not merkle.verify_inclusion(
                newest.leaf_index, statement.tree_size, tree[newest.leaf_index], path,
                bytes.fromhex(statement.root_hash),
            ):  # fmt: skip
                report.problems.append(
                    f"{lot_code}'s leaf {newest.leaf_index} cannot be proven in checkpoint {statement.id}'s "
                    "signed tree: the leaf log was changed"
                )
    report.leaves = len(scope)
    _check_batches(scope, statement, report)
    _check_log_since(statement, key, report)
    return report


def _check_batches(scope: Sequence[_LeafRow], statement: Statement, report: VerifyReport) -> None:
    heads = {head.lot_code: head for head in _heads(row.lot_code for row in scope)}
    chains = _chains(list(heads.values()))
    report.batches = len({row.lot_code for row in scope})
    found: set[str] = set()
    for row in scope:
        if row.lot_code in found:
            continue  # one finding per batch: its first
        head = heads.get(row.lot_code)
        problem = None
        if head is None:
            problem = f"batch {row.lot_code} (anchored at seq {row.seq}, leaf {row.leaf_index}) is gone"
        else:
            stored = chains[head.batch_id]
            if not stored.report.valid:
                problem = (
                    f"{row.lot_code}: its chain does not verify at event {stored.report.first_invalid_seq} "
                    f"({stored.report.reason})"
                )
            elif row.seq not in stored.hashes and row.seq > 0:
                problem = (
                    f"{row.lot_code}: checkpoint {statement.id} saw {row.seq} events, the chain now has "
                    f"{stored.report.events}: its tail was removed"
                )
            elif stored.hashes.get(row.seq, chain.GENESIS) != row.head_hash:
                problem = (
                    f"{row.lot_code}: event {row.seq} is not the one checkpoint {statement.id} anchored "
                    f"(hash {stored.hashes.get(row.seq, chain.GENESIS)[:16]}…, anchored {row.head_hash[:16]}…): "
                    "the chain was rewritten"
                )
        if problem:
            found.add(row.lot_code)
            report.problems.append(problem)


def _check_log_since(statement: Statement, key: Ed25519PublicKey, report: VerifyReport) -> None:
    """The log still holds the saved checkpoint, and everything after it extends it."""
    logged = db.session.get(Checkpoint, statement.id)
    if logged is None:
        report.problems.append(f"the log no longer holds checkpoint {statement.id}")
        return
    if statement_for(logged).digest() != statement.digest():
        report.problems.append(f"the log's checkpoint {statement.id} differs from the saved one")
        return
    later = list(db.session.scalars(select(Checkpoint).where(Checkpoint.id > statement.id).order_by(Checkpoint.id)))
    previous = statement
    for checkpoint in later:
        if checkpoint.prev_id != previous.id or checkpoint.prev_hash != previous.digest():
            report.problems.append(f"checkpoint {checkpoint.id} does not name {previous.id} as its predecessor")
            return
        previous = statement_for(checkpoint)
    if not later:
        return
    newest = later[-1]
    if newest.key_id == key_id(key) and not verify_signature(key, statement_for(newest).canonical(), newest.signature):
        report.problems.append(f"the signature of the latest checkpoint {newest.id} does not verify")
    tree = [row.recomputed() for row in _leaf_rows(newest.tree_size)]
    proof = merkle.consistency_proof(statement.tree_size, tree) if statement.tree_size <= len(tree) else []
    if not merkle.verify_consistency(
        statement.tree_size, newest.tree_size, bytes.fromhex(statement.root_hash), bytes.fromhex(newest.root_hash),
        proof,
    ):  # fmt: skip
        report.problems.append(
            f"the latest checkpoint {newest.id} is not an extension of checkpoint {statement.id}: "
            "the log's history was rewritten"
        )
    else:
        report.notes.append(f"the latest checkpoint {newest.id} (tree size {newest.tree_size}) extends it")
