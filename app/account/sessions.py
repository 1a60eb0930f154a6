"""Server-side web sessions: a session ends at logout and after 30 idle minutes.

The browser's cookie (Flask's signed session) holds only a random session id and the form token;
the record that the id signs someone in lives on the server, in Redis (``REDIS_URL``) or, without
Redis, in the database (``web_sessions``). A replayed cookie after logout, or after half an hour
without a request, finds no record and signs no one in. Only the id's SHA-256 is stored.

Both stores read the time from ``app.clock.now`` (tests move it) and touch the record at most
once a minute, so a page view writes nothing most of the time; idle time is counted from the last
touch.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import secrets
from typing import Any, Protocol

from flask import Flask, current_app
from sqlalchemy import delete, select

from app import clock
from app.account.models import WebSession
from app.db import db

log = logging.getLogger(__name__)

IDLE_LIMIT = dt.timedelta(minutes=30)
# A record is rewritten only when its last touch is older than this.
TOUCH_EVERY = dt.timedelta(minutes=1)
EXTENSION = "youpin.sessions"


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def _new_id() -> str:
    return secrets.token_urlsafe(32)


class SessionStore(Protocol):
    def create(self, user_id: int) -> str:
        """A new session for ``user_id``; returns the id the cookie carries."""

    def user_of(self, session_id: str) -> int | None:
        """The signed-in user, or None when the session ended, idled out or never was."""

    def end(self, session_id: str) -> None:
        """End one session (logout)."""

    def end_all(self, user_id: int, keep: str | None = None) -> None:
        """End every session of ``user_id`` but ``keep`` (a password changed)."""


class DatabaseSessions:
    """Sessions in ``web_sessions``, written in the request's transaction."""

    name = "database"

    def create(self, user_id: int) -> str:
        now = clock.now()
        # Sessions idle past the limit are gone for good; clearing them here keeps the table small.
        db.session.execute(delete(WebSession).where(WebSession.last_seen_at < now - IDLE_LIMIT))
        session_id = _new_id()
        db.session.add(WebSession(id_hash=_hash(session_id), user_id=user_id, created_at=now, last_seen_at=now))
        db.session.flush()
        return session_id

    def user_of(self, session_id: str) -> int | None:
        now = clock.now()
        row = db.session.scalar(select(WebSession).where(WebSession.id_hash == _hash(session_id)))
        if row is None:
            return None
        if now - row.last_seen_at > IDLE_LIMIT:
            db.session.delete(row)
            db.session.flush()
            return None
        if now - row.last_seen_at > TOUCH_EVERY:
            row.last_seen_at = now
            db.session.flush()
        return row.user_id

    def end(self, session_id: str) -> None:
        db.session.execute(delete(WebSession).where(WebSession.id_hash == _hash(session_id)))

    def end_all(self, user_id: int, keep: str | None = None) -> None:
        query = delete(WebSession).where(WebSession.user_id == user_id)
        if keep is not None:
            query = query.where(WebSession.id_hash != _hash(keep))
        db.session.execute(query)


class RedisSessions:
    """Sessions in Redis: one key per session (expiring with the idle limit) and a set per user."""

    name = "redis"

    def __init__(self, client: Any, prefix: str) -> None:
        self.client = client
        self.prefix = prefix

    def _key(self, session_id: str) -> str:
        return f"{self.prefix}session:{_hash(session_id)}"

    def _user_key(self, user_id: int) -> str:
        return f"{self.prefix}user-sessions:{user_id}"

    def _write(self, key: str, user_id: int, created_at: str, now: dt.datetime) -> None:
        record = json.dumps({"user_id": user_id, "created_at": created_at, "last_seen_at": now.isoformat()})
        # Redis drops the key on its own clock too, a little after the idle limit.
        self.client.set(key, record, ex=int((IDLE_LIMIT + TOUCH_EVERY).total_seconds()))

    def create(self, user_id: int) -> str:
        now = clock.now()
        session_id = _new_id()
        key = self._key(session_id)
        self._write(key, user_id, now.isoformat(), now)
        self.client.sadd(self._user_key(user_id), key)
        self.client.expire(self._user_key(user_id), int(dt.timedelta(days=1).total_seconds()))
        return session_id

    def user_of(self, session_id: str) -> int | None:
        now = clock.now()
        key = self._key(session_id)
        raw = self.client.get(key)
        if raw is None:
            return None
        record = json.loads(raw)
        last_seen = dt.datetime.fromisoformat(record["last_seen_at"])
        if now - last_seen > IDLE_LIMIT:
            self.client.delete(key)
            return None
        if now - last_seen > TOUCH_EVERY:
            self._write(key, record["user_id"], record["created_at"], now)
        return int(record["user_id"])

    def end(self, session_id: str) -> None:
        self.client.delete(self._key(session_id))

    def end_all(self, user_id: int, keep: str | None = None) -> None:
        kept = self._key(keep) if keep is not None else None
        for key in self.client.smembers(self._user_key(user_id)):
            name = key.decode() if isinstance(key, bytes) else key
            if name != kept:
                self.client.delete(name)
                self.client.srem(self._user_key(user_id), name)


def init_app(app: Flask) -> None:
    """Choose the store once: Redis when ``REDIS_URL`` is set, else the database (said once, at start)."""
    url = app.config.get("REDIS_URL")
    store: SessionStore
    if url:
        import redis

        store = RedisSessions(redis.Redis.from_url(url), app.config.get("REDIS_KEY_PREFIX", "youpin:"))
    else:
        app.logger.warning(
            "REDIS_URL is unset: web sessions are kept in the database and login limits in this process's memory"
        )
        store = DatabaseSessions()
    app.extensions[EXTENSION] = store


def store() -> SessionStore:
    found: SessionStore = current_app.extensions[EXTENSION]
    return found
