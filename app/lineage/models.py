"""Lineage: transformations (merge, split, change of product) and the edges between lots."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Model, utcnow

if TYPE_CHECKING:
    from app.orgs.models import Organization


class Transformation(Model):
    """A merge, a split or a change of product: inputs taken, outputs made, and the yield."""

    __tablename__ = "transformations"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    occurred_at: Mapped[dt.datetime]
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    process: Mapped[dict[str, Any]]
    yield_pct: Mapped[Decimal | None]

    actor_org: Mapped[Organization] = relationship()


class LineageEdge(Model):
    """``quantity`` of the input batch (in its unit) went into the output batch."""

    __tablename__ = "lineage_edges"
    __table_args__ = (
        Index("ix_lineage_edges_input_output", "input_batch_id", "output_batch_id"),
        Index("ix_lineage_edges_output_input", "output_batch_id", "input_batch_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    input_batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    output_batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    quantity: Mapped[Decimal]
    kind: Mapped[str] = mapped_column(String(20))
    occurred_at: Mapped[dt.datetime]
    transformation_id: Mapped[int | None] = mapped_column(ForeignKey("transformations.id"))
