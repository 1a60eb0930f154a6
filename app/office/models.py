"""What the office keeps of its own: the audit log of onboarding, the product lines an organization enrolled
for, and the register of the standards the pilot writes (their stage and dates)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import CheckConstraint, Date, ForeignKey, String, Text, UniqueConstraint
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


# The stages a standard passes through as the pilot writes it, in order.
STAGES = ("proposed", "consultation", "published", "filed")
# The levels the office registers: local (DB42, DB4212), group (T/), enterprise (Q/), and the
# national or industry standards the pilot proposes.
LEVELS = ("local", "group", "enterprise", "national", "industry")


class StandardRecord(Model):
    """One standard the pilot writes or proposes, with its stage (立项, 征求意见, 发布, 备案) and the date of each.

    The register of the standard system's work, not the catalog: a standard at 立项 has no limits
    and binds no batch. Once published with limits it is loaded into the catalog (or registered
    through POST /api/v1/standards) under the same code, and the dashboard counts it once.
    """

    __tablename__ = "office_standards"
    __table_args__ = (
        CheckConstraint("stage IN ('proposed', 'consultation', 'published', 'filed')", name="stage"),
        CheckConstraint("level IN ('local', 'group', 'enterprise', 'national', 'industry')", name="level"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    title_zh: Mapped[str] = mapped_column(String(300))
    level: Mapped[str] = mapped_column(String(12), index=True)
    products: Mapped[list[Any]]
    stage: Mapped[str] = mapped_column(String(12))
    proposed_on: Mapped[dt.date | None] = mapped_column(Date)
    consultation_on: Mapped[dt.date | None] = mapped_column(Date)
    published_on: Mapped[dt.date | None] = mapped_column(Date)
    filed_on: Mapped[dt.date | None] = mapped_column(Date)
    filing_no: Mapped[str | None] = mapped_column(String(60))
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
