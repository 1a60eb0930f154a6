"""``/healthz``: the process answers and the database does too."""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.db import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Any:
    """Report the process and the database; 503 when the database does not answer."""
    started = time.perf_counter()
    try:
        db.session.execute(text("SELECT 1"))
        database = {"ok": True, "dialect": db.engine.dialect.name}
    except SQLAlchemyError as exc:
        db.session.rollback()
        database = {"ok": False, "dialect": db.engine.dialect.name, "error": type(exc).__name__}
    body = {
        "status": "ok" if database["ok"] else "degraded",
        "process": {"ok": True},
        "database": {**database, "ms": round((time.perf_counter() - started) * 1000, 2)},
    }
    return jsonify(body), 200 if database["ok"] else 503
