"""Reading the anomaly flags: for the desk's alert list, a batch's page and the field app."""

from __future__ import annotations

from sqlalchemy import func, select

from app import access
from app.auth import Actor
from app.db import db
from app.labels.models import UnitFlag

LIMIT = 500


def flags_for(actor: Actor, batch_id: int | None = None) -> list[UnitFlag]:
    query = select(UnitFlag)
    clause = access.readable_flags(actor)
    if clause is not None:
        query = query.where(clause)
    if batch_id is not None:
        query = query.where(UnitFlag.batch_id == batch_id)
    return list(db.session.scalars(query.order_by(UnitFlag.last_seen_at.desc(), UnitFlag.id.desc()).limit(LIMIT)))


def flag_counts(batch_ids: list[int]) -> dict[int, int]:
    """Flagged units per batch, for lists of batches."""
    if not batch_ids:
        return {}
    rows = db.session.execute(
        select(UnitFlag.batch_id, func.count(func.distinct(UnitFlag.unit_id)))
        .where(UnitFlag.batch_id.in_(batch_ids)).group_by(UnitFlag.batch_id)
    )  # fmt: skip
    return {batch_id: n for batch_id, n in rows}
