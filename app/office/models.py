"""What the office keeps of its own: the audit log of onboarding, and the product lines an organization enrolled for."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Model, utcnow
from app.orgs.models import Organization


class AuditEntry(Model):
    """One onboarding action: who (user and organization, kept by name too), did what, to what, when.

    Append-only; the names are copied so an entry still reads right after a rename or a deactivation.
    """

    __tablename__ = "office_audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_username: Mapped[str] = mapped_column(String(60))
    action: Mapped[str] = mapped_column(String(40), index=True)
    target: Mapped[str] = mapped_column(String(120))
    details: Mapped[dict[str, Any]]


class Enrollment(Model):
    """An organization takes part in the pilot for a product line (一县一品), as the roster says."""

    __tablename__ = "office_enrollments"
    __table_args__ = (UniqueConstraint("organization_id", "product_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    product_key: Mapped[str] = mapped_column(ForeignKey("product_lines.key"))
    enrolled_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    organization: Mapped[Organization] = relationship()
