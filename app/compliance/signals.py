"""What compliance announces: a batch's verdict stored.

Holds (app/holds) subscribe: a stored ``fail`` puts the lot and every lot made from it on hold.
Sent by ``verdicts.refresh`` inside the writer's transaction with the Flask app as sender and
these keyword arguments: ``batch``, ``verdict`` (pass, fail or incomplete), ``result`` (what
is stored: ``presenters.verdict_result``, its rows and pre-harvest checks), ``actor`` (None when no one acted: a
catalog load, ``flask compliance refresh``) and ``now``.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

verdict_stored = _signals.signal("verdict-stored")
