"""Server-side records of web sessions, for when Redis is absent (app/account/sessions.py)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Model


class WebSession(Model):
    """One signed-in browser. The cookie holds a random id; only its SHA-256 is stored here, so a
    copy of this table signs no one in. Logging out deletes the row; so does an idle lookup."""

    __tablename__ = "web_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime]
    last_seen_at: Mapped[dt.datetime] = mapped_column(index=True)
