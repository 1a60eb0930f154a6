"""holds feature: a failed verdict holds the lot and its descendants until a disposition."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Subscribe holds to the verdicts compliance stores (see holds/service.py)."""
    from app.compliance import signals
    from app.holds import service

    signals.verdict_stored.connect(service.on_verdict_stored, sender=app)
