"""What the catalog announces: its standards changed (a catalog load, an enterprise standard).

Sent by whoever changed the catalog, after the flush and inside the same transaction, with the
Flask app as sender and ``base_codes``: the base codes of the standards whose editions changed,
or None when the change may reach any of them (a catalog load). Compliance subscribes to
re-judge the batches those standards bind.
"""

from __future__ import annotations

from blinker import Namespace

from app.batches.signals import sender

__all__ = ["sender", "standards_changed"]

_signals = Namespace()

standards_changed = _signals.signal("standards-changed")
