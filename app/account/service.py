"""Signing in and out of the web pages, and a user changing their own password.

The sign-in rules in one place: the lockout and the bound on concurrent password checks
(app/account/limits.py) come first, then the password; an account that may not sign in (unknown,
deactivated, without a password) gets exactly the answer a wrong password gets, in the same time.
"""

from __future__ import annotations

from flask_babel import gettext as _

from app.account import limits
from app.account.sessions import store
from app.orgs import service as orgs
from app.orgs.models import User
from app.security import password_problem_code


def sign_in(username: str, password: str) -> User | None:
    """The user whose password this is, or None; raises TooManyAttempts while the name is locked."""
    name = username.strip().lower()[:60]
    limits.refuse_if_locked(name)
    with limits.password_check():
        user = orgs.check_password(username.strip(), password)
    if user is None:
        limits.record_failure(name)
        return None
    limits.record_success(name)
    return user


def start_session(user: User) -> str:
    """A server-side session for ``user``; the id goes into the cookie."""
    return store().create(user.id)


def end_session(session_id: str | None) -> None:
    if session_id:
        store().end(session_id)


def _problem_text(code: str) -> str:
    texts = {
        "too_short": _("至少 12 个字符"),
        "too_long": _("最多 200 个字符"),
        "common": _("太常见：在常用密码列表中"),
        "contains_username": _("不能包含用户名"),
    }
    return texts[code]


def change_password(user: User, session_id: str, current: str, new: str, repeated: str) -> dict[str, str]:
    """Set the user's own password; the errors by form field (nothing changes unless it is empty).

    The current password is checked like a sign-in (a wrong one counts toward the lockout), the new
    one by the policy of app/security.py. Every other session of the user ends.
    """
    errors: dict[str, str] = {}
    if not current:
        errors["current_password"] = _("请填写当前密码")
    elif sign_in(user.username, current) is None:
        errors["current_password"] = _("当前密码不正确")
    problem = password_problem_code(new, user.username)
    if problem:
        errors["new_password"] = _problem_text(problem)
    elif new == current:
        errors["new_password"] = _("新密码不能与当前密码相同")
    elif repeated != new:
        errors["repeat_password"] = _("两次输入的新密码不一致")
    if errors:
        return errors
    orgs.set_password(user, new)
    store().end_all(user.id, keep=session_id)
    return {}
