"""Sessions end at logout and after 30 idle minutes, on the server: a replayed cookie signs no one in.

Every test runs against both stores: Redis (REDIS_URL; CI starts one) and the database fallback.
"""

from __future__ import annotations

from sqlalchemy import func, select

from app.account.models import WebSession
from app.account.sessions import RedisSessions
from app.db import db
from tests.account.conftest import sign_in, token_of
from tests.conftest import settle


def _cookie(client) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def test_logout_ends_the_session_on_the_server_and_a_replayed_cookie_is_refused(client, make_user, session_store):
    inspector = make_user("inspector", password="account-password-1")
    settle()
    assert sign_in(client, inspector.username).status_code == 302
    page = client.get("/desk/batches")
    assert page.status_code == 200
    stolen = _cookie(client)
    assert client.post("/logout", data={"csrf_token": token_of(page.get_data(as_text=True))}).status_code == 302
    client.set_cookie("session", stolen)  # the cookie as it was while signed in
    replayed = client.get("/desk/batches")
    assert replayed.status_code == 302 and replayed.headers["Location"].startswith("/login")


def test_thirty_idle_minutes_end_the_session(client, make_user, session_store, moving_clock):
    farmer = make_user("farmer", password="account-password-1")
    settle()
    assert sign_in(client, farmer.username).headers["Location"] == "/field/"
    moving_clock.advance(minutes=29)
    assert client.get("/field/").status_code == 200  # in use: the idle time starts again
    moving_clock.advance(minutes=29)
    assert client.get("/field/").status_code == 200
    moving_clock.advance(minutes=30, seconds=5)
    idle = client.get("/field/")
    assert idle.status_code == 302 and idle.headers["Location"].startswith("/login")
    moving_clock.advance(seconds=-60)  # and a clock set back does not revive it: the record is gone
    assert client.get("/field/").status_code == 302


def test_a_cookie_without_a_server_record_signs_no_one_in(client, make_user, session_store):
    admin = make_user("admin", password="account-password-1")
    settle()
    # A cookie signed with the app's key, naming the user directly (what sessions were before).
    with client.session_transaction() as s:
        s["user_id"] = admin.id
        s["sid"] = "made-up"
    assert client.get("/office/").status_code == 302


def test_only_the_session_ids_hash_is_stored(client, make_user, session_store):
    user = make_user("lab", password="account-password-1")
    settle()
    sign_in(client, user.username)
    with client.session_transaction() as s:
        sid = s["sid"]
    if isinstance(session_store, RedisSessions):
        keys = [k.decode() for k in session_store.client.scan_iter(match=session_store.prefix + "*")]
        assert keys and not any(sid in key for key in keys)
    else:
        rows = db.session.scalars(select(WebSession).where(WebSession.user_id == user.id)).all()
        assert len(rows) == 1 and rows[0].id_hash != sid and len(rows[0].id_hash) == 64


def test_the_app_warns_once_at_start_without_redis(caplog, tmp_path, monkeypatch):
    from app import create_app

    monkeypatch.delenv("REDIS_URL", raising=False)
    with caplog.at_level("WARNING"):
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db"})
    warnings = [r for r in caplog.records if "REDIS_URL is unset" in r.getMessage()]
    assert len(warnings) == 1
    assert type(app.extensions["youpin.sessions"]).__name__ == "DatabaseSessions"


def test_with_redis_configured_the_app_keeps_sessions_and_limits_there(app):
    from tests.account.conftest import redis_url

    if not redis_url():
        assert type(app.extensions["youpin.sessions"]).__name__ == "DatabaseSessions"
        return
    assert type(app.extensions["youpin.sessions"]).__name__ == "RedisSessions"
    assert type(app.extensions["youpin.limiter"].storage).__name__ == "RedisStorage"


def test_a_sign_in_clears_expired_database_sessions(client, make_user, moving_clock):
    # (the database store only) the table keeps no session past its idle limit for long
    user = make_user("inspector", password="account-password-1")
    settle()
    from app.account.sessions import DatabaseSessions

    store = DatabaseSessions()
    store.create(user.id)
    moving_clock.advance(hours=1)
    store.create(user.id)
    count = db.session.scalar(select(func.count()).select_from(WebSession).where(WebSession.user_id == user.id))
    assert count == 1
