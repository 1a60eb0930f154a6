"""One row per write a client made under its own id: the outbox's key, stored once with its result."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Model, PortableJSON, utcnow


class ClientWrite(Model):
    """A write the field app made (a batch, a stage, a site...) under a client-made id.

    The id is the write's ``Idempotency-Key``: the same id again returns ``result`` instead of
    storing a second time. ``device_time`` is the phone's own clock when the entry was typed (it
    may be wrong or hours old: the outbox sends it later), kept beside ``received_at``, the
    server's time. A refused write leaves no row, so the corrected entry may use the same id.
    """

    __tablename__ = "client_writes"
    __table_args__ = (UniqueConstraint("user_id", "client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    client_id: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))
    digest: Mapped[str] = mapped_column(String(64))
    result: Mapped[dict[str, Any]] = mapped_column(PortableJSON)
    device_time: Mapped[dt.datetime | None]
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
