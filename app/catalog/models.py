"""Product lines, standards and their requirements, with provenance kept as loaded."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, Column, Date, ForeignKey, Numeric, String, Table, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Model, db

# A standard's status: only one in force binds. Withdrawn (废止) and uncertain ones are kept for the
# record and bind no batch; an uncertain one binds once an administrator confirms it.
STATUSES = ("in_force", "withdrawn", "uncertain")
# What a result or limit is measured on: as sold, on dry matter (以干样品计), on the fat (以脂肪计).
BASES = ("as_is", "dry_matter", "fat")

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
    # The product-form tags a batch of this line may carry (app.catalog.products.FORM_NAMES).
    forms: Mapped[list[Any]] = mapped_column(server_default=text("'[]'"))

    default_standards: Mapped[list[Standard]] = relationship(
        secondary=product_default_standards, order_by="Standard.code"
    )


class Standard(Model):
    __tablename__ = "standards"
    __table_args__ = (CheckConstraint("status IN ('in_force', 'withdrawn', 'uncertain')", name="status"),)

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
    status: Mapped[str] = mapped_column(String(12), server_default="in_force")
    # The source's own words on the status ("current (per source)", "SUPERSEDED on ...").
    status_note: Mapped[str | None] = mapped_column(Text)
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

    @property
    def binds(self) -> bool:
        """Only a standard in force binds a batch (a withdrawn or uncertain one never does)."""
        return self.status == "in_force"


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
    # Product-form tags the requirement binds (any of them); empty: every form of its product.
    forms: Mapped[list[Any]] = mapped_column(default=list, server_default=text("'[]'"))
    basis: Mapped[str] = mapped_column(String(12), default="as_is", server_default="as_is")
    # A grading parameter (stem length, soluble solids, grade tables): a grade, never a safety fail.
    grading: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    # An official temporary MRL (临时限量, marked * in GB 2763); ``verified`` is another matter.
    temporary_mrl: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    # A detected value under this figure counts as not detected (GB 2716: 压榨油 < 10 mg/kg).
    not_detected_below: Mapped[Decimal | None] = mapped_column(Numeric(20, 6))
    clause: Mapped[str | None] = mapped_column(String(120))
    method: Mapped[str | None] = mapped_column(String(120))
    verified: Mapped[bool]
    confidence: Mapped[str | None] = mapped_column(String(10))
    source: Mapped[str | None] = mapped_column(Text)

    standard: Mapped[Standard] = relationship(back_populates="requirements")

    @property
    def scoped_product(self) -> str | None:
        """The one product line this requirement binds, if the catalog names it.

        A requirement scoped only to foods none of the six lines is (frying oil in use, peanut oil)
        gives ``NO_PRODUCT_LINE``, which matches no batch, so it binds nothing rather than every
        product of its standard.
        """
        from app.catalog.products import NO_PRODUCT_LINE, OTHER_FOODS

        if self.product_key is None and self.forms and all(f in OTHER_FOODS for f in self.forms):
            return NO_PRODUCT_LINE
        return self.product_key

    @property
    def provisional(self) -> bool:
        """A limit never found in a source must be shown as provisional wherever it appears."""
        return not self.verified

    @property
    def has_limit(self) -> bool:
        return self.limit_value is not None or self.limit_text is not None


class CatalogVersion(Model):
    """One state of the catalog as a load (or an enterprise standard registered) left it.

    Rows are only ever appended (app/catalog/versions.py). ``digest`` is the SHA-256 over
    ``entries``: per standard code, a digest of the standard and each of its requirements, and the
    limit as written, so a check names the requirement whose limit no longer is what this version
    recorded. Every stored verdict names the version it was judged against.
    """

    __tablename__ = "catalog_versions"

    number: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    loaded_at: Mapped[dt.datetime]
    reason: Mapped[str] = mapped_column(String(200))
    digest: Mapped[str] = mapped_column(String(64))
    standards: Mapped[int]
    requirements: Mapped[int]
    entries: Mapped[dict[str, Any]]
