"""The office's onboarding: organizations, users and the roster import, each action written to the audit log.

Services flush; the request commits once. The acting user is passed in. Every write here leaves
one audit entry (who, what, to what, when); an import that changes nothing leaves none, so
importing the same roster twice changes nothing at all.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import delete, func, select, update

from app.auth import Actor
from app.db import db, utcnow
from app.errors import Conflict, InvalidInput, NotFound
from app.i18n import N_
from app.office import roster
from app.office.models import AuditEntry, Enrollment
from app.orgs import licence
from app.orgs import service as orgs
from app.orgs.models import ApiToken, Organization, OrgKind, User
from app.schemas import MAX_ID, Page

_passwords = PasswordHasher()

ACTIONS = {
    "org.create": N_("新建主体"),
    "org.update": N_("修改主体"),
    "org.import": N_("导入花名册"),
    "user.create": N_("新建用户"),
    "user.reset_password": N_("重置密码"),
    "user.deactivate": N_("停用用户"),
    "user.reactivate": N_("恢复用户"),
    "token.create": N_("签发接口令牌"),
    "standard.register": N_("登记标准"),
    "standard.update": N_("修改标准登记"),
    "site.create": N_("新建场所"),
    "site.update": N_("修改场所"),
}


def record(actor: Actor, action: str, target: str, now: dt.datetime | None = None, **details: Any) -> AuditEntry:
    """Append one entry to the audit log."""
    entry = AuditEntry(
        at=now or utcnow(),
        actor_user_id=actor.user.id,
        actor_username=actor.user.username,
        action=action,
        target=target[:120],
        details=details,
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def audit_log(*, page: int = 1, per_page: int = 50, action: str | None = None) -> Page:
    """The audit log, newest first."""
    query = select(AuditEntry)
    count = select(func.count()).select_from(AuditEntry)
    if action:
        query = query.where(AuditEntry.action == action)
        count = count.where(AuditEntry.action == action)
    items = db.session.scalars(
        query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).offset((page - 1) * per_page).limit(per_page)
    ).all()
    return Page(items, db.session.scalar(count) or 0, page, per_page)


# --- organizations --------------------------------------------------------------------------------


def get_organization(org_id: int) -> Organization:
    org = db.session.get(Organization, org_id) if 0 < org_id <= MAX_ID else None
    if org is None:
        raise NotFound(f"no organization with id {org_id}")
    return org


def enrolled_products(org: Organization) -> list[str]:
    return list(
        db.session.scalars(
            select(Enrollment.product_key).where(Enrollment.organization_id == org.id).order_by(Enrollment.product_key)
        )
    )


def _refuse(problems: list[tuple[str, str]]) -> None:
    if problems:
        errors: dict[str, list[str]] = {key: [] for key, _ in problems}
        for key, reason in problems:
            errors[key].append(reason)
        first_key, first_reason = problems[0]
        raise InvalidInput(f"{FORM_HEADER.get(first_key, first_key)}：{first_reason}", {"form": errors})


# The form's fields beyond the roster's columns (the roster workbook does not carry them).
FORM_HEADER = {**roster.HEADER, "production_licence": "食品生产许可证编号"}


def _check_licence(raw: str | None, org: Organization | None) -> tuple[str | None, list[tuple[str, str]]]:
    """The form's production licence as stored (app.orgs.licence's rules), or why it is refused."""
    if not raw or not raw.strip():
        return None, []
    value = licence.normalize(raw)
    reason = licence.licence_error(value)
    if reason:
        return None, [("production_licence", reason)]
    holder = db.session.scalar(select(Organization.code).where(Organization.production_licence == value))
    if holder is not None and (org is None or holder != org.code):
        return None, [("production_licence", f"已登记在主体 {holder} 名下")]
    return value, []


def _check_references(values: dict[str, Any], org: Organization | None) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    same_code = db.session.scalar(select(Organization).where(Organization.code == values["code"]))
    if same_code is not None and same_code is not org:
        problems.append(("code", "已被其他主体使用"))
    if values["credit_code"]:
        owner = db.session.scalar(select(Organization.code).where(Organization.credit_code == values["credit_code"]))
        if owner is not None and (org is None or owner != org.code):
            problems.append(("credit_code", f"已登记在主体 {owner} 名下"))
    if values["cooperative"]:
        coop = db.session.scalar(select(Organization).where(Organization.code == values["cooperative"]))
        if coop is None or coop.kind != OrgKind.cooperative:
            problems.append(("cooperative", f"没有编码为 {values['cooperative']} 的合作社"))
    return problems


def save_organization(actor: Actor, form: dict[str, Any], org: Organization | None = None) -> Organization:
    """Create an organization (``org`` None) or edit one, with the roster's checks; audit what changed."""
    values = roster.normalize(form)
    values["production_licence"], licence_problems = _check_licence(form.get("production_licence"), org)
    _refuse(roster.check_values(values) + licence_problems or _check_references(values, org))
    coop = (
        db.session.scalar(select(Organization).where(Organization.code == values["cooperative"]))
        if values["cooperative"]
        else None
    )
    fields = ("code", "name", "kind", "county", "credit_code", "masked_id", "contact_phone", "production_licence")
    if org is None:
        org = Organization(**{k: values[k] for k in fields}, cooperative=coop)
        db.session.add(org)
        db.session.flush()
        changes: dict[str, Any] = {k: values[k] for k in fields if values[k]}
        action = "org.create"
    else:
        changes = {k: [getattr(org, k), values[k]] for k in fields if getattr(org, k) != values[k]}
        old_coop = org.cooperative.code if org.cooperative else None
        if old_coop != values["cooperative"]:
            changes["cooperative"] = [old_coop, values["cooperative"]]
        for k in fields:
            setattr(org, k, values[k])
        org.cooperative = coop
        action = "org.update"
    before = set(enrolled_products(org))
    after = set(values["products"])
    for product in after - before:
        db.session.add(Enrollment(organization_id=org.id, product_key=product))
    if before - after:
        db.session.execute(
            delete(Enrollment).where(Enrollment.organization_id == org.id, Enrollment.product_key.in_(before - after))
        )
    if before != after:
        changes["products"] = [sorted(before), sorted(after)]
    db.session.flush()
    if changes:
        record(actor, action, org.code, changes=changes)
    return org


def import_roster(actor: Actor, data: bytes, filename: str | None = None) -> roster.ImportResult:
    """Import the roster workbook, all or nothing; audit it when it changed anything."""
    result = roster.import_roster(data)
    if result.created or result.updated:
        record(
            actor,
            "org.import",
            filename or "roster.xlsx",
            **result.as_dict(),
            created_codes=result.created,
            updated_codes=result.updated,
        )
    return result


def list_organizations(
    *, q: str | None = None, county: str | None = None, kind: str | None = None
) -> list[Organization]:
    query = select(Organization).order_by(Organization.county, Organization.code)
    if q:
        like = f"%{q}%"
        query = query.where(Organization.code.ilike(like) | Organization.name.ilike(like))
    if county:
        query = query.where(Organization.county == county)
    if kind:
        query = query.where(Organization.kind == kind)
    return list(db.session.scalars(query.limit(500)))


# --- users ----------------------------------------------------------------------------------------


def one_time_password() -> str:
    """A password to hand over once: 16 characters, no look-alikes (0/O, 1/l/I)."""
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(16))


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id) if 0 < user_id <= MAX_ID else None
    if user is None:
        raise NotFound(f"no user with id {user_id}")
    return user


def create_user(
    actor: Actor, *, username: str, org_code: str, role: str, display_name: str | None = None
) -> tuple[User, str]:
    """Create a user with a one-time password, returned once and stored only hashed."""
    password = one_time_password()
    try:
        user = orgs.create_user(
            username=username, org_code=org_code, role=role, display_name=display_name or None, password=password
        )
    except Conflict as exc:
        raise InvalidInput("用户名已被使用", {"form": {"username": ["用户名已被使用"]}}) from exc
    user.must_change_password = True  # one-time: the first sign-in sets a password of the user's own
    record(actor, "user.create", user.username, org=org_code, role=role)
    return user, password


def reset_password(actor: Actor, user: User) -> str:
    """A new one-time password for ``user``; the old one stops working."""
    password = one_time_password()
    user.password_hash = _passwords.hash(password)
    user.must_change_password = True
    db.session.flush()
    record(actor, "user.reset_password", user.username)
    return password


def set_active(actor: Actor, user: User, active: bool, now: dt.datetime | None = None) -> User:
    """Deactivate a user (their tokens are revoked too) or bring one back."""
    now = now or utcnow()
    if user.id == actor.user.id and not active:
        raise InvalidInput("不能停用自己的账号", {"form": {"user": ["不能停用自己的账号"]}})
    if user.is_active == active:
        return user
    user.is_active = active
    if not active:
        db.session.execute(
            update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)).values(revoked_at=now)
        )
    db.session.flush()
    record(actor, "user.deactivate" if not active else "user.reactivate", user.username, now=now)
    return user


def issue_token(actor: Actor, user: User, expires_days: int = 365) -> tuple[ApiToken, str]:
    """A bearer token for an integration; the secret is shown once."""
    if not user.is_active:
        raise InvalidInput("停用的用户不能签发令牌", {"form": {"user": ["停用的用户不能签发令牌"]}})
    token, secret = orgs.create_token(user.username, expires_days=expires_days)
    record(actor, "token.create", user.username, prefix=token.prefix, expires_days=expires_days)
    return token, secret


def list_users(*, q: str | None = None) -> list[User]:
    query = select(User).order_by(User.username)
    if q:
        query = query.where(User.username.ilike(f"%{q}%") | User.display_name.ilike(f"%{q}%"))
    return list(db.session.scalars(query.limit(500)))
