"""Login limits: per client address and per account (Flask-Limiter), a lockout that backs off, and
a bound on concurrent password checks.

- Flask-Limiter counts sign-in attempts per client address and per account name, in Redis
  (``REDIS_URL``) so every app server counts together, or in this process's memory without it.
  Past a limit the answer is 429 with ``Retry-After``: the sign-in page in its language, or the
  JSON error shape for a client that asks for JSON.
- Five wrong passwords in a row lock the account name for a minute; each lockout within a day
  doubles the next (1, 2, 4 … at most 60 minutes). While locked, every password gets the same
  429, the right one included, and an unknown name is locked exactly like a real one.
- argon2 is meant to be slow: a few checks at once would take every worker from the pages.
  ``password_check`` lets at most ``LOGIN_CONCURRENT_CHECKS`` run at once per process and
  answers "busy" (429, Retry-After 1) to a request that waited a second for its turn, so other
  requests keep their threads (gunicorn runs gthread workers: gunicorn.conf.py).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded
from flask_limiter.util import get_remote_address

from app.errors import error_body

DEFAULTS = {
    "LOGIN_LIMIT_PER_ADDRESS": "30 per minute",
    "LOGIN_LIMIT_PER_ACCOUNT": "10 per minute",
    "LOGIN_FAILURES_BEFORE_LOCKOUT": 5,
    "LOGIN_LOCKOUT_SECONDS": 60,
    "LOGIN_LOCKOUT_MAX_SECONDS": 3600,
    "LOGIN_CONCURRENT_CHECKS": 1,
    "LOGIN_CHECK_WAIT_SECONDS": 1.0,
}
# A run of failures, and the lockouts that back off, are remembered this long.
FAILURE_WINDOW_SECONDS = 15 * 60
LOCKOUT_MEMORY_SECONDS = 24 * 3600

LIMITER = "youpin.limiter"
# The sign-in form's endpoint, the one view these limits guard.
LOGIN_ENDPOINT = "web.login"


def limiter() -> Limiter:
    """This app's Flask-Limiter (one per app: a Limiter keeps its storage on itself)."""
    found: Limiter = current_app.extensions[LIMITER]
    return found


def account_name() -> str:
    """The account a sign-in names, as one key however it is typed."""
    return request.form.get("username", "").strip().lower()[:60]


def _per_address() -> str:
    return str(current_app.config["LOGIN_LIMIT_PER_ADDRESS"])


def _per_account() -> str:
    return str(current_app.config["LOGIN_LIMIT_PER_ACCOUNT"])


def _limit_login(app: Flask, limits: Limiter) -> None:
    """The two Flask-Limiter limits of the sign-in form (POST only; showing the form is free)."""
    view: Any = app.view_functions[LOGIN_ENDPOINT]
    view = limits.limit(_per_account, key_func=lambda: "account:" + account_name(), methods=["POST"])(view)
    app.view_functions[LOGIN_ENDPOINT] = limits.limit(_per_address, methods=["POST"])(view)


class TooManyAttempts(Exception):
    """Sign-in refused before the password is read: locked out, or no password check free."""

    def __init__(self, retry_after: int, message: str) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.message = message


# --- the lockout ------------------------------------------------------------------------------------


def _keys(name: str) -> tuple[str, str, str]:
    return f"youpin-login/fail/{name}", f"youpin-login/level/{name}", f"youpin-login/locked/{name}"


def _counting() -> bool:
    # RATELIMIT_ENABLED=False switches every login limit off, the lockout included.
    return bool(limiter().enabled)


def locked_for(name: str) -> int:
    """Seconds left of the account name's lockout (0: not locked)."""
    if not _counting():
        return 0
    _fail, _level, locked = _keys(name)
    storage = limiter().storage
    if storage.get(locked) <= 0:
        return 0
    return max(1, math.ceil(storage.get_expiry(locked) - time.time()))


def refuse_if_locked(name: str) -> None:
    left = locked_for(name)
    if left:
        minutes = max(1, math.ceil(left / 60))
        raise TooManyAttempts(left, _("登录失败次数过多，请 %(minutes)s 分钟后再试。", minutes=minutes))


def record_failure(name: str) -> None:
    """One wrong password; the fifth in a row locks the name, each lockout twice as long as the last."""
    if not _counting():
        return
    fail, level, locked = _keys(name)
    config = current_app.config
    storage = limiter().storage
    if storage.incr(fail, FAILURE_WINDOW_SECONDS) < int(config["LOGIN_FAILURES_BEFORE_LOCKOUT"]):
        return
    storage.clear(fail)
    lockouts = storage.incr(level, LOCKOUT_MEMORY_SECONDS)
    seconds = min(int(config["LOGIN_LOCKOUT_SECONDS"]) * 2 ** (lockouts - 1), int(config["LOGIN_LOCKOUT_MAX_SECONDS"]))
    storage.incr(locked, max(1, seconds))


def record_success(name: str) -> None:
    if not _counting():
        return
    fail, level, _locked = _keys(name)
    limiter().storage.clear(fail)
    limiter().storage.clear(level)


# --- concurrent password checks -------------------------------------------------------------------

_checks: threading.BoundedSemaphore | None = None
_checks_lock = threading.Lock()


def _semaphore() -> threading.BoundedSemaphore:
    global _checks
    with _checks_lock:
        if _checks is None:
            _checks = threading.BoundedSemaphore(int(current_app.config["LOGIN_CONCURRENT_CHECKS"]))
        return _checks


@contextmanager
def password_check() -> Iterator[None]:
    """Hold one of the process's password-check slots, or refuse after waiting a second."""
    slots = _semaphore()
    if not slots.acquire(timeout=float(current_app.config["LOGIN_CHECK_WAIT_SECONDS"])):
        raise TooManyAttempts(1, _("登录的人较多，请稍后再试。"))
    try:
        yield
    finally:
        slots.release()


# --- the answers ------------------------------------------------------------------------------------


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def too_many(message: str, retry_after: int) -> Any:
    """429 with Retry-After: the sign-in page in its language, or the JSON error shape."""
    headers = {"Retry-After": str(retry_after)}
    if _wants_json():
        return jsonify(error_body(429, message)), 429, headers
    page = render_template(
        "web/login.html", next=request.values.get("next"), error=message, username=request.form.get("username", "")
    )
    return page, 429, headers


def _limit_hit(exc: RateLimitExceeded) -> Any:
    current = limiter().current_limit
    reset_at = current.reset_at if current is not None else time.time() + 60
    retry_after = max(1, math.ceil(reset_at - time.time()))
    return too_many(_("登录尝试过于频繁，请 %(seconds)s 秒后再试。", seconds=retry_after), retry_after)


def init_app(app: Flask) -> None:
    """Count sign-ins for ``app``; after its blueprints are registered (it wraps the login view)."""
    for name, value in DEFAULTS.items():
        app.config.setdefault(name, value)
    prefix = app.config.get("REDIS_KEY_PREFIX", "youpin:")
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")
    # limits' Redis storage prefixes its keys itself; reset() then clears only this app's keys.
    if app.config["RATELIMIT_STORAGE_URI"].startswith("redis"):
        app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", {"key_prefix": prefix + "limits"})
    # Retry-After is ours to set (only on a 429): the limiter would stamp its window on every answer.
    limits = Limiter(key_func=get_remote_address, headers_enabled=False)
    limits.init_app(app)
    app.extensions[LIMITER] = limits
    _limit_login(app, limits)
    app.register_error_handler(RateLimitExceeded, _limit_hit)
