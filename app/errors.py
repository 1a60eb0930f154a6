"""Domain errors and the one JSON error shape.

Services raise the domain errors below (never ``abort()``), so the CLI and importers can call
them too. Under ``/api/`` every error, ours or Werkzeug's, leaves as::

    {"code": 422, "status": "Unprocessable Entity", "message": "...", "errors": {...}}

Pages outside the API get an HTML page in the visitor's language instead.
"""

from __future__ import annotations

import logging
import re
from http import HTTPStatus
from typing import Any

from flask import Flask, Response, current_app, jsonify, render_template, request
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

from app.db import db

log = logging.getLogger(__name__)


class DomainError(Exception):
    """Base of the errors a service may raise; each maps to one HTTP status."""

    status_code = 400

    def __init__(self, message: str, errors: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors


class InvalidInput(DomainError):
    """The request is well formed but its content breaks a rule; ``errors`` names the fields."""

    status_code = 422

    @classmethod
    def field(cls, field: str, reason: str, location: str = "json") -> InvalidInput:
        return cls(f"{field}: {reason}", {location: {field: [reason]}})


class Unauthorized(DomainError):
    status_code = 401


class Forbidden(DomainError):
    status_code = 403


class NotFound(DomainError):
    status_code = 404


class Conflict(DomainError):
    status_code = 409


def error_body(code: int, message: str | None = None, errors: Any = None) -> dict[str, Any]:
    status = HTTPStatus(code)
    body: dict[str, Any] = {"code": code, "status": status.phrase, "message": message or status.description}
    if errors:
        body["errors"] = errors
    return body


# PostgreSQL's unique_violation; psycopg raises it as psycopg.errors.UniqueViolation.
_PG_UNIQUE_VIOLATION = "23505"
_SQLITE_UNIQUE = re.compile(r"^UNIQUE constraint failed: (.+)$")
_PG_KEY = re.compile(r"^Key \((.+?)\)=")


def unique_violation_columns(exc: IntegrityError) -> list[str] | None:
    """The columns of the unique key ``exc`` broke ([] when the driver does not say which), or
    None when it is another integrity error (a foreign key, a NOT NULL, a CHECK)."""
    orig = exc.orig
    if getattr(orig, "sqlstate", None) == _PG_UNIQUE_VIOLATION:
        detail = getattr(getattr(orig, "diag", None), "message_detail", None) or ""
        key = _PG_KEY.match(detail)
        return [c.strip().strip('"') for c in key.group(1).split(",")] if key else []
    found = _SQLITE_UNIQUE.match(str(orig))
    if found:
        # "UNIQUE constraint failed: inspections.batch_id, inspections.report_no"
        return [c.strip().rpartition(".")[2] for c in found.group(1).split(",")]
    return None


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def _json_error(code: int, message: str | None, errors: Any = None, headers: Any = None) -> Response:
    response = jsonify(error_body(code, message, errors))
    response.status_code = code
    if headers:
        response.headers.extend(headers)
    return response


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def handle_domain_error(exc: DomainError) -> Any:
        if _wants_json():
            headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
            return _json_error(exc.status_code, exc.message, exc.errors, headers)
        return render_template("error.html", code=exc.status_code, message=exc.message), exc.status_code

    @app.errorhandler(HTTPException)
    def handle_http_exception(exc: HTTPException) -> Any:
        code = exc.code or 500
        if _wants_json():
            data = getattr(exc, "data", None) or {}
            # webargs/flask-smorest put field errors in exc.data["messages"].
            errors = data.get("messages") if isinstance(data, dict) else None
            message = data.get("message") if isinstance(data, dict) else None
            if errors and not message:
                message = "The request's content is not valid; see errors for each field."
            headers = [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]
            return _json_error(code, message or exc.description, errors, headers)
        return render_template("error.html", code=code, message=None), code

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception) -> Any:
        # In tests a broken handler must fail its test, not hide behind a tidy 500.
        if current_app.testing and not current_app.config.get("SWALLOW_ERRORS_IN_TESTS"):
            raise exc
        log.exception("unhandled error on %s %s", request.method, request.path)
        if _wants_json():
            return _json_error(500, "Internal error; it has been logged.")
        return render_template("error.html", code=500, message=None), 500

    @app.errorhandler(IntegrityError)
    def handle_integrity_error(exc: IntegrityError) -> Any:
        # A service checks a unique value before it inserts, but a concurrent request can take the
        # value in between and the unique key then refuses the flush. It is the conflict the check
        # would have reported: 409, not 500. (At commit, create_app's commit_or_roll_back answers.)
        columns = unique_violation_columns(exc)
        if columns is None:
            return handle_unexpected(exc)
        db.session.rollback()
        log.info("unique key taken on %s %s: %s", request.method, request.path, columns)
        taken = f" ({', '.join(columns)})" if columns else ""
        return handle_domain_error(
            Conflict(f"Another record already has this value{taken}, which must be unique; change it or retry.")
        )
