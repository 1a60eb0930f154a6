"""The 承诺达标合格证: one per batch, issued by the organization holding it, chained in its record."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Model, utcnow

if TYPE_CHECKING:
    from app.batches.models import Batch
    from app.orgs.models import Organization, User


class CommitmentCertificate(Model):
    """What the issuer commits to for one batch, and on what basis. Never updated: it is chained."""

    __tablename__ = "commitment_certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Printed on the certificate and read back by a buyer: HG + China date + 6 random characters.
    number: Mapped[str] = mapped_column(String(24), unique=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), unique=True)
    issuer_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    issued_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    issued_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    product_key: Mapped[str] = mapped_column(ForeignKey("product_lines.key"))
    quantity: Mapped[Decimal]
    unit: Mapped[str] = mapped_column(String(8))
    origin: Mapped[str] = mapped_column(String(200))
    contact: Mapped[str] = mapped_column(String(40))
    commitments: Mapped[list[Any]] = mapped_column(server_default=text("'[]'"))
    basis: Mapped[str] = mapped_column(String(20))
    report_no: Mapped[str | None] = mapped_column(String(60))
    # The certificates of the lots this one was split or made from (their numbers).
    came_from: Mapped[list[Any]] = mapped_column(server_default=text("'[]'"))

    batch: Mapped[Batch] = relationship()
    issuer: Mapped[Organization] = relationship()
    issued_by: Mapped[User] = relationship()
