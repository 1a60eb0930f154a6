"""A cooperative adds a member household (and, with a mobile number, the household's farmer login)."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from app.auth import Actor
from app.db import db
from app.errors import Forbidden, InvalidInput
from app.field.service import FormRefused
from app.orgs import service as orgs
from app.orgs.models import Organization, OrgKind, User

_PHONE = re.compile(r"^1[3-9][0-9]{9}$")  # a mainland mobile number


@dataclass
class NewMember:
    household: Organization
    username: str | None
    password: str | None  # shown once to the cooperative, never stored in the clear


def add_member(who: Actor, posted: Any) -> NewMember:
    """A cooperative registers a member household, and a farmer user when it has a phone."""
    if who.org.kind != OrgKind.cooperative:
        raise Forbidden("Only a cooperative adds member households.")
    errors: dict[str, str] = {}
    name = posted.get("name", "").strip()
    if not name or len(name) > 200:
        errors["name"] = _("必填，最多 200 个字")
    masked_id = posted.get("masked_id", "").strip().upper() or None
    phone = posted.get("phone", "").strip().replace(" ", "") or None
    if phone is not None and not _PHONE.match(phone):
        errors["phone"] = _("请填写 11 位手机号")
    if phone is not None and db.session.scalar(select(User.id).where(User.username == phone)):
        errors["phone"] = _("这个手机号已有账号")
    if errors:
        raise FormRefused(errors)
    code = f"HH-{secrets.token_hex(5).upper()}"  # households have no credit code; a code of our own
    try:
        household = orgs.create_organization(
            code=code, name=name, kind=OrgKind.farm_household, county=who.org.county, masked_id=masked_id,
            contact_phone=phone, cooperative_code=who.org.code,
        )  # fmt: skip
    except InvalidInput as exc:
        named = (exc.errors or {}).get("json", {})
        if "masked_id" in named:
            raise FormRefused({"masked_id": _("身份证号只填首尾，中间用 * 代替，如 4212**********123X")}) from exc
        raise FormRefused({"_form": _("未能保存，请检查后重试。")}) from exc
    if phone is None:
        return NewMember(household, None, None)
    password = secrets.token_urlsafe(9)
    user = orgs.create_user(
        username=phone, org_code=household.code, role="farmer", display_name=name, phone=phone, password=password
    )
    user.must_change_password = True  # a first password, shown to the cooperative: the farmer sets their own
    return NewMember(household, phone, password)
