"""compliance feature."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Subscribe compliance to the records that change a verdict (see compliance/verdicts.py)."""
    from app.compliance import verdicts

    verdicts.connect_signals(app)
