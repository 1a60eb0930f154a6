"""What a farmer typed, kept beside what was stored: "200 斤" shown as typed, 100.000 kg in the record."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Model, Quantity, utcnow


class EnteredQuantity(Model):
    """A quantity as entered in the field app, for display only.

    The batch (or the event's data) holds the exact converted figure in its stored unit, and that
    is what every rule and the hash chain read; this row only lets the page say it back in the
    farmer's own unit. ``event_id`` is empty for the batch's own quantity.
    """

    __tablename__ = "field_entered_quantities"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id"))
    field: Mapped[str] = mapped_column(String(40))
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    unit: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
