"""A batch's journey as people read it: in the order things happened, corrections applied, history kept.

The chain stays in recording order (seq); the journey is told by occurred_at, ties by seq. A record
made after one that happened later (a forgotten planting entered after the harvest) is ``late``
(补录), with its recording delay.

Pure: takes the stored events, returns plain data. The API, the consumer page and the PDF all
read the journey through here, so a correction shows the same everywhere.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from app.batches.models import Event
from app.batches.vocabulary import SYSTEM_KINDS


@dataclass
class JourneyEntry:
    event: Event
    # The data as it stands after every amendment, and the amendments themselves, oldest first.
    data: dict[str, Any]
    amendments: list[Event] = field(default_factory=list)
    # Recorded after an event that happened later than it did: a late entry (补录).
    late: bool = False

    @property
    def seq(self) -> int:
        return self.event.seq

    @property
    def stage(self) -> str:
        return self.event.stage

    @property
    def occurred_at(self) -> dt.datetime:
        return self.event.occurred_at

    @property
    def amended(self) -> bool:
        return bool(self.amendments)

    @property
    def recording_delay(self) -> dt.timedelta:
        """How long after it happened it was recorded."""
        return self.event.recorded_at - self.event.occurred_at


def build_journey(events: list[Event], include_system: bool = True) -> list[JourneyEntry]:
    """Fold amendments into the events they correct; amendments themselves are not entries."""
    entries: dict[int, JourneyEntry] = {}
    ordered: list[JourneyEntry] = []
    latest: dt.datetime | None = None  # the latest occurred_at among the stages recorded so far
    for ev in sorted(events, key=lambda e: e.seq):
        if ev.stage == "created":
            continue  # the batch's own facts, which the page's header shows: not a step of the journey
        if ev.stage == "amendment":
            target = entries.get(ev.amends_seq or -1)
            if target is not None:
                target.amendments.append(ev)
                target.data = dict(ev.data.get("data", {}))
            continue
        stage = ev.stage not in SYSTEM_KINDS
        late = stage and latest is not None and ev.occurred_at < latest
        entry = JourneyEntry(event=ev, data=dict(ev.data), late=late)
        entries[ev.seq] = entry
        ordered.append(entry)
        if stage:  # lateness is among the stages; system records carry the server's own times
            latest = ev.occurred_at if latest is None else max(latest, ev.occurred_at)
    ordered.sort(key=lambda e: (e.occurred_at, e.seq))
    if not include_system:
        ordered = [e for e in ordered if e.stage not in SYSTEM_KINDS]
    return ordered
