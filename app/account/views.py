"""The password page (/account/password), and the guard that sends a user holding a one-time
password there before any other page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from app.account import service
from app.auth import current_actor
from app.db import db
from app.web.views import _check_csrf, csrf_token, home_of

bp = Blueprint("account", __name__, template_folder="templates")
bp.before_request(_check_csrf)

# The pages behind a sign-in (the desk, the field app, the office); a user who must change their
# password reaches none of them but these. Public pages stay as they are for everyone.
_SIGNED_IN_PAGES = frozenset({"web", "field", "office"})
_OPEN_ENDPOINTS = frozenset({"web.login", "web.logout", "field.static_file", "office.static"})


@bp.context_processor
def _inject() -> dict[str, Any]:
    return {"csrf_token": csrf_token}


def _lang() -> dict[str, Any]:
    wanted = request.args.get("lang", "")
    return {"lang": wanted} if wanted in ("zh", "en") else {}


@bp.route("/account/password", methods=["GET", "POST"])
def password() -> Any:
    """Change one's own password: the current one, then the new one twice."""
    who = current_actor(optional=True)
    if who is None:
        return redirect(url_for("web.login", next=url_for("account.password"), **_lang()))
    forced = who.user.must_change_password
    if request.method == "GET":
        return render_template("account/password.html", user=who.user, forced=forced, errors={})
    errors = service.change_password(
        who.user,
        str(session.get("sid", "")),
        request.form.get("current_password", ""),
        request.form.get("new_password", ""),
        request.form.get("repeat_password", ""),
    )
    if errors:
        page = render_template("account/password.html", user=who.user, forced=forced, errors=errors)
        return page, 422
    flash(_("密码已修改。"), "ok")
    return redirect(home_of(who.role))


def require_password_change() -> Any:
    """A user signed in with a one-time password reaches only the password page (and sign-out)."""
    if request.path.startswith("/api/") or "sid" not in session or request.headers.get("Authorization"):
        return None
    if request.blueprint not in _SIGNED_IN_PAGES or request.endpoint in _OPEN_ENDPOINTS:
        return None
    who = current_actor(optional=True)
    if who is None or not who.user.must_change_password:
        return None
    db.session.rollback()
    return redirect(url_for("account.password", **_lang()))


def init_app(app: Flask) -> None:
    app.before_request(require_password_change)
