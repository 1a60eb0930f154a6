"""Organizations, users, API tokens and sites: creation rules and lookups."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from flask import current_app
from flask_babel import gettext
from sqlalchemy import select

from app.auth import hash_token, new_token_secret
from app.db import db, utcnow
from app.errors import Conflict, InvalidInput, NotFound
from app.orgs import licence
from app.orgs.credit_code import credit_code_error
from app.orgs.models import ApiToken, Organization, OrgKind, Role, Site, User
from app.schemas import Page
from app.security import password_problem

_MASKED_ID = re.compile(r"^\d{4}\*{10}\d{3}[\dX]$|^\d{6}\*{8}\d{3}[\dX]$")
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{1,39}$")


def _passwords() -> PasswordHasher:
    """The hasher at the argon2 cost the app's config names (argon2's defaults; low in tests)."""
    config = current_app.config
    return PasswordHasher(
        time_cost=config["PASSWORD_HASH_TIME_COST"],
        memory_cost=config["PASSWORD_HASH_MEMORY_COST"],
        parallelism=config["PASSWORD_HASH_PARALLELISM"],
    )


def get_org_by_code(code: str, field: str = "org") -> Organization:
    org = db.session.scalar(select(Organization).where(Organization.code == code))
    if org is None:
        raise InvalidInput.field(field, f"no organization with code {code!r}")
    return org


def create_organization(
    *,
    code: str,
    name: str,
    kind: str,
    county: str | None = None,
    credit_code: str | None = None,
    masked_id: str | None = None,
    name_en: str | None = None,
    contact_phone: str | None = None,
    cooperative_code: str | None = None,
    production_licence: str | None = None,
    cma_no: str | None = None,
    cma_valid_from: dt.date | None = None,
    cma_valid_to: dt.date | None = None,
    cma_parameters: list[str] | None = None,
) -> Organization:
    if not _CODE.match(code):
        raise InvalidInput.field("code", "2-40 letters, digits, '-' or '_', starting with a letter or digit")
    if kind not in OrgKind.__members__:
        raise InvalidInput.field("kind", f"must be one of {', '.join(OrgKind)}")
    if credit_code is not None:
        credit_code = credit_code.strip().upper()
        reason = credit_code_error(credit_code)
        if reason:
            raise InvalidInput.field("credit_code", reason)
        if db.session.scalar(select(Organization.id).where(Organization.credit_code == credit_code)):
            raise Conflict(
                "credit_code: another organization has this code",
                {"json": {"credit_code": ["another organization has this code"]}},
            )
    if production_licence is not None:
        production_licence = check_licence(production_licence)
    if masked_id is not None and not _MASKED_ID.match(masked_id):
        raise InvalidInput.field(
            "masked_id", "must be an ID number with the middle digits masked, e.g. 4212**********123X"
        )
    if kind != OrgKind.farm_household and credit_code is None and kind not in (OrgKind.regulator,):
        # Households have no credit code; every other registered body does (GB 32100).
        raise InvalidInput.field("credit_code", f"required for an organization of kind {kind}")
    cooperative = None
    if cooperative_code is not None:
        cooperative = get_org_by_code(cooperative_code, field="cooperative")
        if cooperative.kind != OrgKind.cooperative:
            raise InvalidInput.field("cooperative", f"{cooperative_code} is not a cooperative")
    if db.session.scalar(select(Organization.id).where(Organization.code == code)):
        raise Conflict(f"code: organization {code!r} exists", {"json": {"code": ["already exists"]}})
    org = Organization(
        code=code,
        name=name,
        name_en=name_en,
        kind=kind,
        county=county,
        credit_code=credit_code,
        masked_id=masked_id,
        contact_phone=contact_phone,
        cooperative=cooperative,
        production_licence=production_licence,
    )
    set_cma(org, cma_no=cma_no, cma_valid_from=cma_valid_from, cma_valid_to=cma_valid_to, cma_parameters=cma_parameters)
    db.session.add(org)
    db.session.flush()
    return org


_CMA_FIELDS = ("cma_no", "cma_valid_from", "cma_valid_to", "cma_parameters")


def set_cma(org: Organization, **values: object) -> None:
    """Set a lab's CMA certificate fields given (None clears one); only a lab has a CMA."""
    given = {k: v for k, v in values.items() if k in _CMA_FIELDS}
    if not any(v is not None for v in given.values()):
        for name, value in given.items():
            setattr(org, name, value)
        return
    if org.kind != OrgKind.lab:
        field = next(k for k, v in given.items() if v is not None)
        raise InvalidInput.field(
            field, f"only an organization of kind lab holds a CMA certificate (this is {org.kind})"
        )
    for name, value in given.items():
        if name == "cma_no" and isinstance(value, str):
            value = value.strip() or None
        if name == "cma_parameters" and value is not None:
            value = sorted({str(p).strip() for p in value if str(p).strip()})  # type: ignore[attr-defined]
        setattr(org, name, value)
    if org.cma_valid_from and org.cma_valid_to and org.cma_valid_to < org.cma_valid_from:
        raise InvalidInput.field("cma_valid_to", "cannot be before cma_valid_from")


def update_organization(org_id: int, **values: object) -> Organization:
    """Change an organization's name, contact or (a lab's) CMA certificate: only the fields given."""
    org = db.session.get(Organization, org_id)
    if org is None:
        raise NotFound(f"no organization with id {org_id}")
    for name in ("name", "name_en", "contact_phone"):
        if name in values:
            if name == "name" and not str(values[name] or "").strip():
                raise InvalidInput.field("name", "must not be blank")
            setattr(org, name, values[name])
    set_cma(org, **{k: v for k, v in values.items() if k in _CMA_FIELDS})
    db.session.flush()
    return org


def labs() -> list[Organization]:
    """Every organization of kind lab, by name (the inspection form's picker)."""
    return list(
        db.session.scalars(select(Organization).where(Organization.kind == OrgKind.lab).order_by(Organization.name))
    )


def check_licence(value: str, owner: Organization | None = None, field: str = "production_licence") -> str:
    """A production licence number as stored (normalized), refused with a 422 naming ``field``
    when it is not SC + 14 digits, and with a 409 when another organization holds it."""
    value = licence.normalize(value)
    reason = licence.licence_error(value)
    if reason:
        raise InvalidInput.field(field, reason)
    holder = db.session.scalar(select(Organization).where(Organization.production_licence == value))
    if holder is not None and holder is not owner:
        reason = gettext("已登记在主体 %(code)s 名下", code=holder.code)
        raise Conflict(f"{field}: {reason}", {"json": {field: [reason]}})
    return value


def create_user(
    *,
    username: str,
    org_code: str,
    role: str,
    display_name: str | None = None,
    phone: str | None = None,
    password: str | None = None,
) -> User:
    if role not in Role.__members__:
        raise InvalidInput.field("role", f"must be one of {', '.join(Role)}")
    if not _CODE.match(username):
        raise InvalidInput.field("username", "2-40 letters, digits, '-' or '_'")
    org = get_org_by_code(org_code)
    if db.session.scalar(select(User.id).where(User.username == username)):
        raise Conflict(f"username: {username!r} is taken", {"json": {"username": ["already taken"]}})
    if password is not None and (problem := password_problem(password, username)):
        raise InvalidInput.field("password", problem)
    user = User(
        username=username,
        organization=org,
        role=role,
        display_name=display_name,
        phone=phone,
        password_hash=_passwords().hash(password) if password else None,
    )
    db.session.add(user)
    db.session.flush()
    return user


def check_password(username: str, password: str) -> User | None:
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None or not user.password_hash or not user.is_active:
        # Spend the same time as a real check so usernames cannot be probed by timing.
        _passwords().hash(password)
        return None
    try:
        _passwords().verify(user.password_hash, password)
    except VerificationError:
        return None
    return user


def set_password(user: User, password: str) -> None:
    """Give ``user`` a password of their own (the policy already checked); a forced change is done."""
    user.password_hash = _passwords().hash(password)
    user.must_change_password = False
    db.session.flush()


def create_token(username: str, expires_days: int | None = 90, now: dt.datetime | None = None) -> tuple[ApiToken, str]:
    """Create a token; the secret is returned once and only its hash is kept."""
    now = now or utcnow()
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user {username!r}")
    if expires_days is not None and expires_days <= 0:
        raise InvalidInput.field("expires_days", "must be a positive number of days")
    secret = new_token_secret()
    token = ApiToken(
        user=user,
        token_hash=hash_token(secret),
        prefix=secret[:10],
        created_at=now,
        expires_at=now + dt.timedelta(days=expires_days) if expires_days else None,
    )
    db.session.add(token)
    db.session.flush()
    return token, secret


def revoke_token(token_id: int, now: dt.datetime | None = None) -> ApiToken:
    token = db.session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(f"no token with id {token_id}")
    if token.revoked_at is None:
        token.revoked_at = now or utcnow()
    db.session.flush()
    return token


def create_site(
    org: Organization,
    *,
    name: str,
    kind: str,
    county: str | None = None,
    township: str | None = None,
    village: str | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    name_en: str | None = None,
) -> Site:
    if latitude is not None and not -90 <= latitude <= 90:
        raise InvalidInput.field("latitude", "must be between -90 and 90")
    if longitude is not None and not -180 <= longitude <= 180:
        raise InvalidInput.field("longitude", "must be between -180 and 180")
    site = Site(
        organization=org,
        name=name,
        name_en=name_en,
        kind=kind,
        county=county,
        township=township,
        village=village,
        latitude=Decimal(str(latitude)) if latitude is not None else None,
        longitude=Decimal(str(longitude)) if longitude is not None else None,
    )
    db.session.add(site)
    db.session.flush()
    return site


def list_organizations() -> Page:
    return Page.whole(db.session.scalars(select(Organization).order_by(Organization.code)).all())


def list_users() -> Page:
    return Page.whole(db.session.scalars(select(User).order_by(User.username)).all())
