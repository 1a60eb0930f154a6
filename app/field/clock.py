"""China time in the field pages' forms: ``<input type="datetime-local">`` shows and takes China
time (``app/clock.py``), the record keeps UTC."""

from __future__ import annotations

import datetime as dt

from app.clock import CHINA_TZ

# What <input type="datetime-local"> shows and posts.
LOCAL_FORMAT = "%Y-%m-%dT%H:%M"


def now_local_text(now: dt.datetime) -> str:
    """``now`` as a datetime-local value in China time, to minute precision."""
    return now.astimezone(CHINA_TZ).strftime(LOCAL_FORMAT)


def parse_local(text: str) -> dt.datetime | None:
    """A datetime-local value typed in China time, as an aware datetime; None if unreadable."""
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=CHINA_TZ)


def local(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(CHINA_TZ)
