"""Who is calling: bearer tokens for the API, session login for the web pages.

What a caller may then do is app/access.py's to say; ``require_roles`` only turns a role set
from there into a 403 before the view runs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from flask import request, session
from sqlalchemy import select

from app.db import db, utcnow
from app.errors import Forbidden, Unauthorized
from app.orgs.models import ApiToken, Organization, User

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Actor:
    """The acting user, passed explicitly into services."""

    user: User
    org: Organization

    @property
    def role(self) -> str:
        return self.user.role


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token_secret() -> str:
    # "yt_" makes a leaked token recognizable to secret scanners; 32 random bytes behind it.
    return "yt_" + secrets.token_urlsafe(32)


def actor_from_token(token: str, now: dt.datetime | None = None) -> Actor:
    now = now or utcnow()
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    if row is None:
        raise Unauthorized("The bearer token is not known.")
    if row.revoked_at is not None:
        raise Unauthorized("The bearer token was revoked.")
    if row.expires_at is not None and row.expires_at <= now:
        raise Unauthorized("The bearer token has expired.")
    if not row.user.is_active:
        raise Unauthorized("The token's user is deactivated.")
    return Actor(user=row.user, org=row.user.organization)


def current_actor(optional: bool = False) -> Actor | None:
    """The caller of this request: bearer token under /api/, session login elsewhere."""
    # Cached per request (not on ``g``: an app context can outlive one request in tests).
    if "youpin.actor" in request.environ:
        return request.environ["youpin.actor"]
    actor: Actor | None = None
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("Authorization must be 'Bearer <token>'.")
        actor = actor_from_token(token.strip())
    elif not request.path.startswith("/api/") and session.get("sid"):
        # The cookie names a server-side session (app/account/sessions.py): ended at logout and
        # after 30 idle minutes, whatever the signed cookie still says.
        from app.account.sessions import store

        user_id = store().user_of(str(session["sid"]))
        user = db.session.get(User, user_id) if user_id is not None else None
        if user is not None and user.is_active:
            actor = Actor(user=user, org=user.organization)
    if actor is None and not optional:
        raise Unauthorized("Sign in or send a bearer token.")
    request.environ["youpin.actor"] = actor
    return actor


def authorize(roles: frozenset[str] | None) -> Actor:
    """The caller, refused with 401 without a valid login and 403 for a role not in ``roles``."""
    actor = current_actor()
    assert actor is not None
    if roles is not None and actor.role not in roles:
        raise Forbidden(f"The role '{actor.role}' may not do this; allowed: {', '.join(sorted(roles))}.")
    return actor


def require_roles(roles: Iterable[str] | None = None) -> Callable[[F], F]:
    """Refuse the view with 401 without a valid login, and 403 for a role not in ``roles``.

    The view is marked (``requires_login``, ``login_roles``; ``functools.wraps`` carries the marks
    out through flask-smorest's decorators), so create_app's ``authenticate_first`` refuses the
    request before its body or query is parsed: no login is a 401 even when the body is wrong.
    """
    allowed = frozenset(roles) if roles is not None else None

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            authorize(allowed)
            return view(*args, **kwargs)

        wrapper.requires_login = True  # type: ignore[attr-defined]
        wrapper.login_roles = allowed  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator


def actor() -> Actor:
    """The actor of a view already guarded by ``require_roles``."""
    found = current_actor()
    assert found is not None
    return found
