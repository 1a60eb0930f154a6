"""Product lines, standards and their requirements, with provenance kept as loaded."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, Date, ForeignKey, Numeric, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Model, db

product_default_standards = Table(
    "product_default_standards",
    db.metadata,
    Column("product_key", ForeignKey("product_lines.key", ondelete="CASCADE"), primary_key=True),
    Column("standard_id", ForeignKey("standards.id", ondelete="CASCADE"), primary_key=True),
)


class ProductLine(Model):
    __tablename__ = "product_lines"

    key: Mapped[str] = mapped_column(String(20), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(60))
    name_en: Mapped[str] = mapped_column(String(120))
    county_zh: Mapped[str] = mapped_column(String(60))
    county_en: Mapped[str] = mapped_column(String(60))
    lot_prefix: Mapped[str] = mapped_column(String(4), unique=True)
    stages: Mapped[list[Any]]

    default_standards: Mapped[list[Standard]] = relationship(
        secondary=product_default_standards, order_by="Standard.code"
    )


class Standard(Model):
    __tablename__ = "standards"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    base_code: Mapped[str] = mapped_column(String(60), index=True)
    edition: Mapped[str | None] = mapped_column(String(10))
    title_zh: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str | None] = mapped_column(String(300))
    level: Mapped[str] = mapped_column(String(20), index=True)
    level_detail: Mapped[str] = mapped_column(String(60))
    mandatory: Mapped[bool] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(30), index=True)
    status: Mapped[str | None] = mapped_column(Text)
    issued: Mapped[dt.date | None] = mapped_column(Date)
    effective: Mapped[dt.date | None] = mapped_column(Date)
    # Where the source gave no plain date ("6 months after publication (~2023-05-11)").
    effective_note: Mapped[str | None] = mapped_column(Text)
    replaces: Mapped[list[Any]]
    superseded_by: Mapped[str | None] = mapped_column(String(60))
    body: Mapped[str | None] = mapped_column(Text)
    scope: Mapped[str | None] = mapped_column(Text)
    applies_to: Mapped[list[Any]]
    certification_only: Mapped[str | None] = mapped_column(String(60))
    confidence: Mapped[str | None] = mapped_column(String(10))
    sources: Mapped[list[Any]]
    notes: Mapped[str | None] = mapped_column(Text)
    # Any other key the catalog carries (e.g. ``classes``), kept so export gives it back.
    extra: Mapped[dict[str, Any]]
    owner_org_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))

    requirements: Mapped[list[Requirement]] = relationship(
        back_populates="standard", order_by="Requirement.position", cascade="all, delete-orphan"
    )

    def applies_to_product(self, product_key: str) -> bool:
        return "all" in self.applies_to or product_key in self.applies_to


class Requirement(Model):
    __tablename__ = "requirements"
    __table_args__ = (UniqueConstraint("standard_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    standard_id: Mapped[int] = mapped_column(ForeignKey("standards.id", ondelete="CASCADE"))
    position: Mapped[int]
    parameter_key: Mapped[str] = mapped_column(String(60), index=True)
    parameter_zh: Mapped[str] = mapped_column(String(120))
    parameter_en: Mapped[str | None] = mapped_column(String(200))
    parameter_raw: Mapped[str] = mapped_column(Text)
    unit: Mapped[str | None] = mapped_column(String(30))
    comparator: Mapped[str] = mapped_column(String(15))
    limit_value: Mapped[Decimal | None] = mapped_column(Numeric(20, 6))
    # A limit that is not one number: a range ("15 ± 2") or a sampling plan ("n=5,c=2,...").
    limit_text: Mapped[str | None] = mapped_column(String(120))
    scope: Mapped[str | None] = mapped_column(Text)
    product_key: Mapped[str | None] = mapped_column(String(20))
    clause: Mapped[str | None] = mapped_column(String(120))
    method: Mapped[str | None] = mapped_column(String(120))
    verified: Mapped[bool]
    confidence: Mapped[str | None] = mapped_column(String(10))
    source: Mapped[str | None] = mapped_column(Text)

    standard: Mapped[Standard] = relationship(back_populates="requirements")

    @property
    def scoped_product(self) -> str | None:
        """The one product line this requirement binds, if the catalog names it (or its text does)."""
        from app.catalog.products import TEXT_SCOPED_REQUIREMENTS

        return self.product_key or TEXT_SCOPED_REQUIREMENTS.get((self.standard.code, self.parameter_key))

    @property
    def provisional(self) -> bool:
        """A limit never found in a source must be shown as provisional wherever it appears."""
        return not self.verified

    @property
    def has_limit(self) -> bool:
        return self.limit_value is not None or self.limit_text is not None
