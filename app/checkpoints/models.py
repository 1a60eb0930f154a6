"""The public, append-only checkpoint log and the Merkle tree's leaves.

Neither table is ever updated or deleted from. ``checkpoint_leaves`` is the tree: leaf i is the
row with ``leaf_index`` i, and checkpoint k covers leaves 0 .. tree_size_k - 1, so every
checkpoint's tree extends its predecessor's. A leaf names its batch by lot code, the name the
chain itself commits to, and has no foreign key to it: a batch deleted or renumbered under the
log leaves its leaves behind as evidence.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Model


class Checkpoint(Model):
    """One signed tree head. ``id`` is its position in the log (1, 2, ...), not a database counter."""

    __tablename__ = "checkpoints"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    tree_size: Mapped[int]
    root_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime]
    # The predecessor and the SHA-256 of its signed statement: the log is a chain of its own.
    # Unique, so two checkpoints can never claim the same predecessor (no fork inside the log).
    prev_id: Mapped[int | None] = mapped_column(ForeignKey("checkpoints.id"), unique=True)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    # The signer's public key (raw, base64), so the log stays readable after a key rotation. Public:
    # a verifier trusts the key it pinned, never this column.
    key_id: Mapped[str] = mapped_column(String(16))
    public_key: Mapped[str] = mapped_column(String(44))
    # SHA-256 of the signed statement, and the Ed25519 signature over it (base64).
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    signature: Mapped[str] = mapped_column(String(100))


class CheckpointLeaf(Model):
    """One (batch, seq, head hash) snapshot, appended when a checkpoint first saw that head."""

    __tablename__ = "checkpoint_leaves"
    # Also the index a batch's leaves are found by.
    __table_args__ = (UniqueConstraint("lot_code", "seq"),)

    leaf_index: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    checkpoint_id: Mapped[int] = mapped_column(ForeignKey("checkpoints.id"), index=True)
    lot_code: Mapped[str] = mapped_column(String(40))
    seq: Mapped[int]
    head_hash: Mapped[str] = mapped_column(String(64))
    leaf_hash: Mapped[str] = mapped_column(String(64))
