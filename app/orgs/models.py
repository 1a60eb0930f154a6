"""Organizations (主体), their users, API tokens and sites."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, Date, ForeignKey, Numeric, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Model, utcnow


class OrgKind(enum.StrEnum):
    farm_household = "farm_household"
    cooperative = "cooperative"
    enterprise = "enterprise"
    processor = "processor"
    logistics = "logistics"
    retailer = "retailer"
    lab = "lab"
    regulator = "regulator"


class Role(enum.StrEnum):
    farmer = "farmer"
    cooperative = "cooperative"
    processor = "processor"
    logistics = "logistics"
    retailer = "retailer"
    inspector = "inspector"
    lab = "lab"
    admin = "admin"


def _in(column: str, enum_cls: type[enum.StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(m.value) for m in enum_cls)})"


class Organization(Model):
    __tablename__ = "organizations"
    __table_args__ = (CheckConstraint(_in("kind", OrgKind), name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    county: Mapped[str | None] = mapped_column(String(40))
    # 统一社会信用代码 (GB 32100), validated with its check character; households have none.
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True)
    # A household's ID number is never stored whole: only a masked form such as 4212**********123X.
    masked_id: Mapped[str | None] = mapped_column(String(18))
    # 食品生产许可证编号 of a food producer (SC and 14 digits; app/orgs/licence.py), shown on the
    # consumer page of its processed products; farms and traders have none.
    production_licence: Mapped[str | None] = mapped_column(String(16), unique=True, index=True)
    contact_phone: Mapped[str | None] = mapped_column(String(20))
    cooperative_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    # A lab's CMA (检验检测机构资质认定) certificate: number, validity, and the parameter keys it
    # is qualified for ("pesticide.*" covers every pesticide). Only organizations of kind lab.
    cma_no: Mapped[str | None] = mapped_column(String(60))
    cma_valid_from: Mapped[dt.date | None] = mapped_column(Date)
    cma_valid_to: Mapped[dt.date | None] = mapped_column(Date)
    cma_parameters: Mapped[list[Any] | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    cooperative: Mapped[Organization | None] = relationship(remote_side=[id], back_populates="members")
    members: Mapped[list[Organization]] = relationship(back_populates="cooperative")


class User(Model):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint(_in("role", Role), name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(120))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    phone: Mapped[str | None] = mapped_column(String(20))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(default=True)
    # Set by a one-time password (issued by the office, or by a cooperative for a member): the
    # next sign-in leads to the password page before anything else (app/account).
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    organization: Mapped[Organization] = relationship()


class ApiToken(Model):
    """A bearer token; only its SHA-256 is stored, so a database leak reveals no token."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]
    last_used_at: Mapped[dt.datetime | None]

    user: Mapped[User] = relationship()


class Site(Model):
    """A plot, pond, tea garden, orchard, factory or warehouse of an organization."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    county: Mapped[str | None] = mapped_column(String(40))
    township: Mapped[str | None] = mapped_column(String(60))
    village: Mapped[str | None] = mapped_column(String(60))
    latitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    longitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))

    organization: Mapped[Organization] = relationship()
