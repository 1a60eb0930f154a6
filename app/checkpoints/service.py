"""Checkpoints: anchor every batch's chain head in a signed, append-only Merkle tree (invariant 13).

The tree's leaves are appended, never replaced. A checkpoint adds one leaf for each batch whose
head (seq, hash) changed since the last leaf of that batch, or that has none yet, in the order of
the batches' ids, and signs the new tree head. So checkpoint k's tree is checkpoint k-1's plus new
leaves: any two checkpoints have an RFC 9162 consistency proof, and a leaf, once signed, is in
every later tree. A tree over the *current* heads would not be append-only (a head moves with each
event), and consistency proofs between such trees would prove nothing.

A head that does not extend the batch's last leaf (the chain was rewritten or cut back under it)
or whose chain does not verify is left out and reported, never signed. Verifying against a
saved checkpoint is in verification.py. Services flush; the CLI commits.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import func, select

from app.batches import chain, integrity
from app.batches.models import Batch, Event
from app.batches.service import chain_fields, lock_named
from app.checkpoints import merkle
from app.checkpoints.keys import Signer, public_key_document
from app.checkpoints.models import Checkpoint, CheckpointLeaf
from app.checkpoints.statement import Statement, document, leaf_bytes
from app.db import db
from app.errors import Conflict, NotFound
from app.orgs.models import Organization, User
from app.schemas import MAX_ID, Page

LEAF_ENCODING = 'UTF-8 JSON, sorted keys, no spaces: {"head_hash":"<hex>","lot_code":"<lot>","seq":<n>}'
_CHUNK = 500


# Reading the log


def latest_checkpoint() -> Checkpoint | None:
    return db.session.scalar(select(Checkpoint).order_by(Checkpoint.id.desc()).limit(1))


def get_checkpoint(checkpoint_id: int) -> Checkpoint:
    checkpoint = db.session.get(Checkpoint, checkpoint_id) if 0 < checkpoint_id <= MAX_ID else None
    if checkpoint is None:
        raise NotFound(f"no checkpoint {checkpoint_id}")
    return checkpoint


def list_checkpoints(page: int, per_page: int) -> Page:
    """The log as checkpoint files, newest first."""
    total = db.session.scalar(select(func.count()).select_from(Checkpoint)) or 0
    items = db.session.scalars(
        select(Checkpoint).order_by(Checkpoint.id.desc()).offset((page - 1) * per_page).limit(per_page)
    )
    return Page([document_for(c) for c in items], total, page, per_page)


def statement_for(checkpoint: Checkpoint) -> Statement:
    return Statement(
        id=checkpoint.id,
        tree_size=checkpoint.tree_size,
        root_hash=checkpoint.root_hash,
        created_at=checkpoint.created_at,
        prev_id=checkpoint.prev_id,
        prev_hash=checkpoint.prev_hash,
        key_id=checkpoint.key_id,
    )


def public_key_of(checkpoint: Checkpoint) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(base64.b64decode(checkpoint.public_key))


def document_for(checkpoint: Checkpoint) -> dict[str, Any]:
    """The checkpoint file of a logged checkpoint (see statement.py)."""
    return document(statement_for(checkpoint), checkpoint.signature, public_key_document(public_key_of(checkpoint)))


@dataclass(frozen=True)
class _LeafRow:
    leaf_index: int
    checkpoint_id: int
    lot_code: str
    seq: int
    head_hash: str
    leaf_hash: str

    def recomputed(self) -> bytes:
        """The leaf hash from what the leaf says, never from the stored hash alone."""
        return merkle.leaf_hash(leaf_bytes(self.lot_code, self.seq, self.head_hash))


def _leaf_rows(limit: int | None = None) -> list[_LeafRow]:
    query = select(
        CheckpointLeaf.leaf_index,
        CheckpointLeaf.checkpoint_id,
        CheckpointLeaf.lot_code,
        CheckpointLeaf.seq,
        CheckpointLeaf.head_hash,
        CheckpointLeaf.leaf_hash,
    ).order_by(CheckpointLeaf.leaf_index)
    if limit is not None:
        query = query.where(CheckpointLeaf.leaf_index < limit)
    return [_LeafRow(*row) for row in db.session.execute(query)]


def _tree_of(checkpoint: Checkpoint, rows: Sequence[_LeafRow] | None = None) -> list[bytes]:
    """The leaf hashes of ``checkpoint``'s tree; Conflict when the stored leaves no longer give its root."""
    rows = _leaf_rows(checkpoint.tree_size) if rows is None else rows[: checkpoint.tree_size]
    hashes = [row.recomputed() for row in rows]
    contiguous = [row.leaf_index for row in rows] == list(range(checkpoint.tree_size))
    if not contiguous or merkle.root(hashes).hex() != checkpoint.root_hash:
        raise Conflict(
            f"the stored leaves no longer give checkpoint {checkpoint.id}'s signed root: the leaf log was "
            "changed in the database; run `flask checkpoints verify` against a saved checkpoint"
        )
    return hashes


# Chains as stored


@dataclass(frozen=True)
class _Head:
    batch_id: int
    lot_code: str
    seq: int
    hash: str


@dataclass(frozen=True)
class _Chain:
    report: chain.ChainReport
    hashes: dict[int, str]  # seq -> the event's stored hash, up to the head that was read


def _heads(lot_codes: Iterable[str] | None = None) -> list[_Head]:
    query = select(Batch.id, Batch.lot_code, Batch.head_seq, Batch.head_hash).order_by(Batch.id)
    if lot_codes is None:
        return [_Head(*row) for row in db.session.execute(query)]
    codes = sorted(set(lot_codes))
    return [
        _Head(*row)
        for start in range(0, len(codes), _CHUNK)
        for row in db.session.execute(query.where(Batch.lot_code.in_(codes[start : start + _CHUNK])))
    ]


# What an event's hash commits to, and its stored hash, as plain columns: never stale ORM objects.
_EVENT_COLUMNS = (
    Event.batch_id, Event.seq, Event.stage, Event.occurred_at, Event.recorded_at, Event.site_id, Event.data,
    Event.amends_seq, Event.prev_hash, Event.hash, Organization.code.label("org_code"), User.username,
)  # fmt: skip


def _chains(heads: Sequence[_Head]) -> dict[int, _Chain]:
    """Recompute each batch's chain up to the head read, from the rows as stored now, and check the
    rows that restate its records against it (batches/integrity.py).

    Events past the head read are left alone: they were appended after it (the head and the
    events are read in two statements), not tampered with.
    """
    result: dict[int, _Chain] = {}
    for start in range(0, len(heads), _CHUNK):
        chunk = heads[start : start + _CHUNK]
        rows: dict[int, list[Any]] = defaultdict(list)
        for row in db.session.execute(
            select(*_EVENT_COLUMNS)
            .join(Organization, Organization.id == Event.actor_org_id)
            .outerjoin(User, User.id == Event.actor_user_id)
            .where(Event.batch_id.in_([head.batch_id for head in chunk]))
            .order_by(Event.batch_id, Event.seq)
        ):
            rows[row.batch_id].append(row)
        for head in chunk:
            mine = [row for row in rows[head.batch_id] if row.seq <= head.seq]
            links = ((chain_fields(row, head.lot_code, row.org_code, row.username), row.hash) for row in mine)
            # The rows that restate the chain's records (the batch's facts, lineage edges, recalls,
            # test reports) are checked too: a checkpoint never signs over a batch they contradict.
            report = chain.verify_restated(links, head.hash, integrity.restated(head.batch_id))
            result[head.batch_id] = _Chain(report, {row.seq: row.hash for row in mine})
    return result


# Making a checkpoint


@dataclass(frozen=True)
class LeftOut:
    lot_code: str
    reason: str


@dataclass(frozen=True)
class CreateResult:
    checkpoint: Checkpoint | None  # the new one; None when no head changed
    latest: Checkpoint | None
    appended: int
    left_out: list[LeftOut] = field(default_factory=list)


def _last_leaves(rows: Iterable[_LeafRow]) -> dict[str, _LeafRow]:
    """Each lot code's newest leaf."""
    last: dict[str, _LeafRow] = {}
    for row in rows:
        if row.lot_code not in last or row.seq > last[row.lot_code].seq:
            last[row.lot_code] = row
    return last


def create_checkpoint(signer: Signer, now: dt.datetime) -> CreateResult:
    """Append the heads that moved since the last checkpoint and sign the new tree; flushes."""
    lock_named("checkpoints")  # one checkpoint at a time (SQLite's writers are serialized already)
    latest = latest_checkpoint()
    if latest is not None and latest.hash != statement_for(latest).digest():
        raise Conflict(f"checkpoint {latest.id} as stored does not hash to its recorded hash; the log was changed")
    rows = _leaf_rows()
    tree = _tree_of(latest, rows) if latest is not None else []
    if len(rows) != len(tree):
        raise Conflict("the leaf log holds leaves that no checkpoint signed; it was changed in the database")
    last = _last_leaves(rows)
    heads = _heads()
    left_out = [
        LeftOut(lot_code, f"checkpoint {row.checkpoint_id} anchored it (seq {row.seq}), but the batch is gone")
        for lot_code, row in sorted(last.items())
        if lot_code not in {head.lot_code for head in heads}
    ]
    moved = [h for h in heads if (p := last.get(h.lot_code)) is None or (p.seq, p.head_hash) != (h.seq, h.hash)]
    chains = _chains(moved)
    accepted: list[_Head] = []
    for head in moved:
        stored = chains[head.batch_id]
        previous = last.get(head.lot_code)
        if not stored.report.valid:
            reason = f"its chain does not verify at event {stored.report.first_invalid_seq}: {stored.report.reason}"
            left_out.append(LeftOut(head.lot_code, reason))
        elif previous is not None and stored.hashes.get(previous.seq) != previous.head_hash:
            reason = (
                f"its chain no longer holds event {previous.seq} as checkpoint {previous.checkpoint_id} "
                "anchored it (rewritten or cut back)"
            )
            left_out.append(LeftOut(head.lot_code, reason))
        else:
            accepted.append(head)
    if not accepted:
        return CreateResult(None, latest, 0, left_out)

    number = latest.id + 1 if latest else 1
    leaves = []
    for head in accepted:
        hashed = merkle.leaf_hash(leaf_bytes(head.lot_code, head.seq, head.hash))
        tree.append(hashed)
        leaf = CheckpointLeaf(leaf_index=len(tree) - 1, checkpoint_id=number, lot_code=head.lot_code, seq=head.seq)
        leaf.head_hash, leaf.leaf_hash = head.hash, hashed.hex()
        leaves.append(leaf)
    statement = Statement(
        id=number,
        tree_size=len(tree),
        root_hash=merkle.root(tree).hex(),
        created_at=now.astimezone(dt.UTC),
        prev_id=latest.id if latest else None,
        prev_hash=latest.hash if latest else None,
        key_id=signer.key_id,
    )
    checkpoint = Checkpoint(
        id=statement.id,
        tree_size=statement.tree_size,
        root_hash=statement.root_hash,
        created_at=statement.created_at,
        prev_id=statement.prev_id,
        prev_hash=statement.prev_hash,
        key_id=statement.key_id,
        public_key=public_key_document(signer.public_key)["raw"],
        hash=statement.digest(),
        signature=base64.b64encode(signer.sign(statement.canonical())).decode(),
    )
    db.session.add(checkpoint)
    db.session.flush()  # the checkpoint first: its leaves refer to it
    db.session.add_all(leaves)
    db.session.flush()
    return CreateResult(checkpoint, checkpoint, len(leaves), left_out)


# Proofs


def _newest_leaf(lot_code: str, tree_size: int) -> CheckpointLeaf | None:
    return db.session.scalar(
        select(CheckpointLeaf)
        .where(CheckpointLeaf.lot_code == lot_code, CheckpointLeaf.leaf_index < tree_size)
        .order_by(CheckpointLeaf.seq.desc())
        .limit(1)
    )


def batch_proof(batch: Batch, from_id: int | None = None) -> dict[str, Any]:
    """The batch's newest leaf, its inclusion proof in the latest checkpoint, and that checkpoint.

    With ``from_id``, also the consistency proof from that checkpoint to the latest, so whoever
    saved checkpoint ``from_id`` can tell the latest one extends it.
    """
    latest = latest_checkpoint()
    if latest is None:
        raise NotFound("no checkpoint has been made yet")
    old = get_checkpoint(from_id) if from_id is not None else None
    leaf = _newest_leaf(batch.lot_code, latest.tree_size)
    if leaf is None:
        raise NotFound(f"batch {batch.lot_code} is not covered by a checkpoint yet; the next one will cover it")
    tree = _tree_of(latest)
    out: dict[str, Any] = {
        "lot_code": batch.lot_code,
        "leaf": {
            "index": leaf.leaf_index,
            "lot_code": leaf.lot_code,
            "seq": leaf.seq,
            "head_hash": leaf.head_hash,
            "hash": leaf.leaf_hash,
            "encoding": LEAF_ENCODING,
        },
        "covers_head": (leaf.seq, leaf.head_hash) == (batch.head_seq, batch.head_hash),
        "inclusion": {
            "leaf_index": leaf.leaf_index,
            "tree_size": latest.tree_size,
            "path": [h.hex() for h in merkle.inclusion_proof(leaf.leaf_index, tree)],
        },
        "checkpoint": document_for(latest),
        "consistency": None,
    }
    if old is not None:
        out["consistency"] = {
            "from": document_for(old),
            "old_size": old.tree_size,
            "new_size": latest.tree_size,
            "path": [h.hex() for h in merkle.consistency_proof(old.tree_size, tree)],
        }
    return out


@dataclass(frozen=True)
class Anchor:
    """How the latest checkpoint covers one batch, for the consumer page."""

    checkpoint_id: int
    created_at: dt.datetime
    seq: int  # the chain is anchored up to this event
    consistent: bool  # every anchored head is still the stored event's hash
    mismatch_seq: int | None


def anchor_of(lot_code: str, event_hashes: Mapping[int, str]) -> Anchor | None:
    """The latest checkpoint's cover of a batch given its events' stored hashes; None when uncovered.

    One query (the consumer page counts them): the batch's leaves within the latest checkpoint.
    """
    newest = select(Checkpoint.id, Checkpoint.created_at, Checkpoint.tree_size).order_by(Checkpoint.id.desc())
    latest = newest.limit(1).subquery()
    leaves = db.session.execute(
        select(latest.c.id, latest.c.created_at, CheckpointLeaf.seq, CheckpointLeaf.head_hash)
        .join(latest, CheckpointLeaf.leaf_index < latest.c.tree_size)
        .where(CheckpointLeaf.lot_code == lot_code)
        .order_by(CheckpointLeaf.seq)
    ).all()
    if not leaves:
        return None
    mismatch = next((leaf.seq for leaf in leaves if event_hashes.get(leaf.seq, chain.GENESIS) != leaf.head_hash), None)
    return Anchor(leaves[-1].id, leaves[-1].created_at, leaves[-1].seq, mismatch is None, mismatch)
