"""What the batch records announce: a batch created, an event appended, standards bound.

The record of what happened does not call the judgement of it: compliance (and anything else that
reacts to a batch's facts) subscribes to these signals from its own init hook. Each is sent by
the service that wrote the fact, inside the same transaction (after its flush, unless a caller
chaining many batches at once flushes them together), so a subscriber's writes commit or roll
back with it. Senders pass the Flask app (Flask's own convention) and these keyword arguments:

- ``batch_created``: ``batch``, ``actor``, ``now``
- ``event_appended``: ``batch``, ``event``, ``actor``, ``now`` (one system record chained: the
  created record, a transfer, split, inspection...)
- ``events_appended``: ``batch``, ``events``, ``actor``, ``now`` (the stage events and amendments a
  request appended to one batch, in order: sent once per batch after the request's one insert, so
  a subscriber's work is per request, not per row; an Idempotency-Key retry stores nothing and
  sends nothing)
- ``standards_bound``: ``batch``, ``actor``, ``now`` (a standard declared for an existing batch)
"""

from __future__ import annotations

from blinker import Namespace
from flask import Flask, current_app

_signals = Namespace()

batch_created = _signals.signal("batch-created")
event_appended = _signals.signal("event-appended")
events_appended = _signals.signal("events-appended")
standards_bound = _signals.signal("standards-bound")


def sender() -> Flask:
    """The app to send a signal as: the object behind ``current_app``, which receivers connect to."""
    # Flask types current_app as the app itself, so mypy does not see the proxy's own method.
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    return app
