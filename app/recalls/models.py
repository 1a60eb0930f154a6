"""Recalls: the batch that started one, and every batch it reached."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.batches.models import Batch
from app.db import Model, utcnow


class Recall(Model):
    __tablename__ = "recalls"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10), default="open")
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    opened_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[dt.datetime | None]
    closed_reason: Mapped[str | None] = mapped_column(Text)

    batch: Mapped[Batch] = relationship()
    items: Mapped[list[RecallItem]] = relationship(back_populates="recall", order_by="RecallItem.depth")


class RecallItem(Model):
    __tablename__ = "recall_items"

    recall_id: Mapped[int] = mapped_column(ForeignKey("recalls.id"), primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), primary_key=True, index=True)
    depth: Mapped[int]
    # What the batch's status was before the recall, so closing can say what it was.
    previous_status: Mapped[str] = mapped_column(String(12))

    recall: Mapped[Recall] = relationship(back_populates="items")
    batch: Mapped[Batch] = relationship()
