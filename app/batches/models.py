"""Batches, their append-only events and the standards bound to them."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.catalog.models import ProductLine, Standard
from app.db import Model, utcnow
from app.orgs.models import Organization, Site, User


class BatchStatus(enum.StrEnum):
    active = "active"
    consumed = "consumed"
    on_hold = "on_hold"
    recalled = "recalled"
    # A held lot destroyed, made harmless, returned or relabelled: its record is closed.
    disposed = "disposed"


class Batch(Model):
    __tablename__ = "batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_code: Mapped[str] = mapped_column(String(40), unique=True)
    product_key: Mapped[str] = mapped_column(ForeignKey("product_lines.key"), index=True)
    quantity: Mapped[Decimal]
    unit: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(12), default=BatchStatus.active, index=True)
    # The label's code: 128 random bits, base64url. Never derived from the id.
    public_code: Mapped[str] = mapped_column(String(32), unique=True)
    gtin: Mapped[str | None] = mapped_column(String(14))
    custodian_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    # Who grew or made it; a cooperative may create a batch on behalf of a member household.
    producer_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    produced_at: Mapped[dt.datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    # The chain's head: seq and hash of the last event (0 and the genesis value when empty).
    head_seq: Mapped[int] = mapped_column(default=0)
    head_hash: Mapped[str] = mapped_column(String(64))
    # Its product forms (app.catalog.products.FORM_NAMES tags, e.g. ["edible_oil", "pressed"]):
    # set at creation, changed by a processing record's ``forms``. A copy for lists and filters;
    # the verdict reads the forms from the chain. [] when not known.
    forms: Mapped[list[Any]] = mapped_column(default=list, server_default=text("'[]'"))

    product: Mapped[ProductLine] = relationship()
    custodian: Mapped[Organization] = relationship(foreign_keys=[custodian_org_id])
    producer: Mapped[Organization] = relationship(foreign_keys=[producer_org_id])
    site: Mapped[Site | None] = relationship()
    events: Mapped[list[Event]] = relationship(back_populates="batch", order_by="Event.seq")
    standards: Mapped[list[BatchStandard]] = relationship(back_populates="batch")


class Event(Model):
    """One fact in a batch's journey. Never updated or deleted: corrections are amendments."""

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("batch_id", "seq"),
        UniqueConstraint("batch_id", "idempotency_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    seq: Mapped[int]
    stage: Mapped[str] = mapped_column(String(20))
    occurred_at: Mapped[dt.datetime]
    recorded_at: Mapped[dt.datetime]
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    data: Mapped[dict[str, Any]]
    amends_seq: Mapped[int | None]
    idempotency_key: Mapped[str | None] = mapped_column(String(100))
    # SHA-256 of the request as given, to tell a true retry from a reused key.
    request_digest: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    batch: Mapped[Batch] = relationship(back_populates="events")
    actor_org: Mapped[Organization] = relationship()
    actor_user: Mapped[User | None] = relationship()
    site: Mapped[Site | None] = relationship()


class BatchStandard(Model):
    """A standard a batch is held to, and why: the mandatory floor, its 执行标准 (``executive``, at
    most one), or declared. ``default`` rows (a product default, bound by older releases) are
    suggestions and bind nothing."""

    __tablename__ = "batch_standards"

    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), primary_key=True)
    standard_id: Mapped[int] = mapped_column(ForeignKey("standards.id"), primary_key=True)
    source: Mapped[str] = mapped_column(String(12))
    bound_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    batch: Mapped[Batch] = relationship(back_populates="standards")
    standard: Mapped[Standard] = relationship()
