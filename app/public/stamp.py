"""The fingerprint a consumer page is cached by: one indexed query over what the page shows.

``stamp`` fingerprints everything the batch's chain holds as stored right now, the rows that
verification checks against the chain (the batch's facts, lineage edges, recalls, test reports,
checkpoint leaves), the newest checkpoint's id, and what the page shows from outside the chain
that can change at any moment (the stored verdict, the bound standards, the certifications that
may be listed); a change to any of them is a new cache key.
Apart from consumer.py because it is one SQL concern, in two variants (PostgreSQL folds the text
into an MD5 itself, SQLite answers the text and Python hashes it), both run in the test suite.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, cast, func, literal, or_, select
from sqlalchemy.dialects.postgresql import aggregate_order_by

from app.batches.models import Batch, BatchStandard, Event
from app.checkpoints.models import Checkpoint, CheckpointLeaf
from app.compliance.models import BatchVerdict, Certification, Inspection, InspectionResult
from app.db import db
from app.lineage.models import LineageEdge
from app.orgs.models import Organization, User
from app.recalls.models import Recall, RecallItem

# Public codes are base64url (secrets.token_urlsafe); anything else is not worth a query.
_PUBLIC_CODE = re.compile(r"[A-Za-z0-9_-]{8,64}")


def well_formed(public_code: str) -> bool:
    return bool(_PUBLIC_CODE.fullmatch(public_code))


@dataclass(frozen=True)
class Stamp:
    batch_id: int
    # Changes whenever the batch's status or anything its chain's hashes commit to changes.
    version: str


def _text(column: Any) -> Any:
    return func.coalesce(cast(column, String), "")


# One event as text: every input of its hash (chain.ChainFields) and the stored hashes. The unit
# separator cannot occur unescaped in the stored JSON, so two different rows never read the same.
_SEP = "\x1f"
_EVENT_TEXT = (
    _text(Event.seq) + _SEP + Event.stage + _SEP + _text(Event.occurred_at) + _SEP + _text(Event.recorded_at)
    + _SEP + _text(Organization.code) + _SEP + _text(User.username) + _SEP + _text(Event.site_id) + _SEP
    + _text(Event.data) + _SEP + _text(Event.amends_seq) + _SEP + Event.prev_hash + _SEP + Event.hash
)  # fmt: skip


def _folded(text_expr: Any, *order: Any) -> Any:
    """The rows' text folded into one value in SQL: an MD5 on PostgreSQL, the text itself on SQLite."""
    if db.session.get_bind().dialect.name == "postgresql":
        return func.md5(func.string_agg(text_expr, aggregate_order_by(literal("\x1e"), *order)))
    return func.group_concat(text_expr, "\x1e")


def _restated_parts() -> list[Any]:
    """Scalar subqueries over every row verification checks against the chain (chain.Restated):
    the batch's facts, its lineage edges both ways, its recalls and its test reports, and the
    checkpoint leaves that anchor it. A change to any of them gives the page a new cache key."""
    producer, source, target, root = (db.aliased(Organization), db.aliased(Batch), db.aliased(Batch), db.aliased(Batch))
    facts = (
        select(
            Batch.lot_code
            + _SEP
            + Batch.product_key
            + _SEP
            + _text(Batch.quantity)
            + _SEP
            + Batch.unit
            + _SEP
            + _text(Batch.created_at)
            + _SEP
            + _text(Batch.site_id)
            + _SEP
            + _text(Batch.gtin)
            + _SEP
            + producer.code
        )
        .where(producer.id == Batch.producer_org_id)
        .correlate(Batch)
        .scalar_subquery()
    )
    edge_text = (
        _text(LineageEdge.id) + _SEP + source.lot_code + _SEP + target.lot_code + _SEP + _text(LineageEdge.quantity)
        + _SEP + _text(LineageEdge.transformation_id)
    )  # fmt: skip
    edges = (
        select(_folded(edge_text, LineageEdge.id))
        .select_from(LineageEdge)
        .join(source, source.id == LineageEdge.input_batch_id)
        .join(target, target.id == LineageEdge.output_batch_id)
        .where(or_(LineageEdge.input_batch_id == Batch.id, LineageEdge.output_batch_id == Batch.id))
        .correlate(Batch)
        .scalar_subquery()
    )
    recall_text = (
        _text(Recall.id) + _SEP + _text(RecallItem.depth) + _SEP + root.lot_code + _SEP + Recall.severity + _SEP
        + Recall.reason + _SEP + Recall.status
    )  # fmt: skip
    recalls = (
        select(_folded(recall_text, Recall.id))
        .select_from(RecallItem)
        .join(Recall, Recall.id == RecallItem.recall_id)
        .join(root, root.id == Recall.batch_id)
        .where(RecallItem.batch_id == Batch.id)
        .correlate(Batch)
        .scalar_subquery()
    )
    report_text = (
        Inspection.report_no + _SEP + Inspection.lab + _SEP + _text(Inspection.sampled_at) + _SEP
        + _text(Inspection.tested_at) + _SEP + _text(InspectionResult.id) + _SEP
        + _text(InspectionResult.parameter_key) + _SEP + _text(InspectionResult.value) + _SEP
        + _text(InspectionResult.unit) + _SEP + _text(InspectionResult.not_detected) + _SEP
        + _text(InspectionResult.lod) + _SEP + _text(InspectionResult.method)
    )  # fmt: skip
    reports = (
        select(_folded(report_text, Inspection.id, InspectionResult.id))
        .select_from(Inspection)
        .outerjoin(InspectionResult, InspectionResult.inspection_id == Inspection.id)
        .where(Inspection.batch_id == Batch.id)
        .correlate(Batch)
        .scalar_subquery()
    )
    leaves = (
        select(_folded(_text(CheckpointLeaf.seq) + _SEP + CheckpointLeaf.head_hash, CheckpointLeaf.leaf_index))
        .where(CheckpointLeaf.lot_code == Batch.lot_code)
        .correlate(Batch)
        .scalar_subquery()
    )
    return [facts, edges, recalls, reports, leaves]


def _shown_parts() -> list[Any]:
    """Scalar subqueries over what the page shows from outside the chain and can change any time:
    the stored verdict (a catalog load, a standard declared or an inspector's review re-judges a
    batch without a chain record), the standards bound to the batch and how (its 执行标准), and
    the certifications that may be listed for it. The day the page is read is in the cache key
    itself (views.py), since a certificate's validity is judged on it."""
    verdict = (
        select(BatchVerdict.verdict + _SEP + BatchVerdict.fingerprint + _SEP + _text(BatchVerdict.computed_at))
        .where(BatchVerdict.batch_id == Batch.id)
        .correlate(Batch)
        .scalar_subquery()
    )
    bound = (
        select(_folded(_text(BatchStandard.standard_id) + _SEP + BatchStandard.source, BatchStandard.standard_id))
        .where(BatchStandard.batch_id == Batch.id)
        .correlate(Batch)
        .scalar_subquery()
    )
    cert_text = (
        _text(Certification.id) + _SEP + Certification.kind + _SEP + Certification.number + _SEP
        + Certification.issuer + _SEP + _text(Certification.site_id) + _SEP + _text(Certification.valid_from)
        + _SEP + _text(Certification.valid_to)
    )  # fmt: skip
    certifications = (
        select(_folded(cert_text, Certification.id))
        .where(
            Certification.holder_org_id.in_([Batch.producer_org_id, Batch.custodian_org_id]),
            Certification.product_key == Batch.product_key,
        )
        .correlate(Batch)
        .scalar_subquery()
    )
    return [verdict, bound, certifications]


def _parts() -> list[Any]:
    return [*_restated_parts(), *_shown_parts()]


_PARTS = 8  # len(_parts()): the restated rows (5) and what the page shows beside them (3)


def _restated_text(row: Any, start: int) -> str:
    return "\x1d".join(str(part or "") for part in row[start : start + _PARTS])


def stamp(public_code: str) -> Stamp | None:
    """The batch behind a label and a fingerprint of its chain as stored, in one indexed query.

    PostgreSQL folds the events into an MD5 itself and answers one short row; SQLite (no MD5)
    answers the events' text and Python hashes it. Both variants run in the test suite.
    """
    if not well_formed(public_code):
        return None
    if db.session.get_bind().dialect.name == "postgresql":
        return _stamp_postgres(public_code)
    return _stamp_portable(public_code)


def _head(status: str, head_seq: int, head_hash: str, checkpoint_id: int | None) -> str:
    return f"{status}\x1e{head_seq}\x1e{head_hash}\x1e{checkpoint_id}"


# The newest checkpoint: a new one changes what the page's chain box may say (anchored or not).
_LATEST_CHECKPOINT = select(func.max(Checkpoint.id)).scalar_subquery()


def _stamp_postgres(public_code: str) -> Stamp | None:
    events_md5 = (
        select(func.md5(func.string_agg(_EVENT_TEXT, aggregate_order_by(literal("\x1e"), Event.seq))))
        .join(Organization, Organization.id == Event.actor_org_id)
        .outerjoin(User, User.id == Event.actor_user_id)
        .where(Event.batch_id == Batch.id)
        .scalar_subquery()
    )
    row = db.session.execute(
        select(
            Batch.id, Batch.status, Batch.head_seq, Batch.head_hash, events_md5, _LATEST_CHECKPOINT,
            *_parts(),
        ).where(Batch.public_code == public_code)
    ).first()  # fmt: skip
    if row is None:
        return None
    head = _head(row.status, row.head_seq, row.head_hash, row[5])
    return Stamp(batch_id=row.id, version=f"{head}\x1e{row[4] or ''}\x1e{_restated_text(row, 6)}")


def _stamp_portable(public_code: str) -> Stamp | None:
    rows = db.session.execute(
        select(
            Batch.id,
            Batch.status,
            Batch.head_seq,
            Batch.head_hash,
            _EVENT_TEXT,
            _LATEST_CHECKPOINT,
            *_parts(),
        )
        .select_from(Batch)
        .outerjoin(Event, Event.batch_id == Batch.id)
        .outerjoin(Organization, Organization.id == Event.actor_org_id)
        .outerjoin(User, User.id == Event.actor_user_id)
        .where(Batch.public_code == public_code)
        .order_by(Event.seq)
    ).all()
    if not rows:
        return None
    first = rows[0]
    digest = hashlib.sha256(_head(first.status, first.head_seq, first.head_hash, first[5]).encode())
    digest.update(b"\x1d" + _restated_text(first, 6).encode())
    for row in rows:
        digest.update(b"\x1e" + (row[4] or "").encode())
    return Stamp(batch_id=first.id, version=digest.hexdigest())
