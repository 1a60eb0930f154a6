"""China time: the one zone the pilot's people live in, and the one place it is defined.

Every date a person reads (a harvest day, a sampling day, a recall sheet's column, a day in a
list filter) is the date in Xianning, not in UTC: 22:30 UTC on the 27th is the 28th there.
Moments are stored and hashed in UTC (app/db.py, app/batches/chain.py); they become China time
only here, on the way to a reader.

China (Asia/Shanghai) has kept UTC+8 all year since 1991, so the zone is a fixed offset: it
needs no tz database on the machine and prints the same everywhere.
"""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext

from app.errors import InvalidInput

CHINA_TZ = dt.timezone(dt.timedelta(hours=8), "CST")


def now() -> dt.datetime:
    """The current moment, aware, in UTC (services are given it; they never read the clock)."""
    return dt.datetime.now(dt.UTC)


def to_china(moment: dt.datetime) -> dt.datetime:
    """The same instant on a clock in Xianning."""
    return moment.astimezone(CHINA_TZ)


def china_date(moment: dt.datetime) -> dt.date:
    """The date a reader in Xianning gives the instant."""
    return to_china(moment).date()


def china_midnight(day: dt.date) -> dt.datetime:
    """The instant a China-time day begins (for "created on or after this day" filters)."""
    return dt.datetime.combine(day, dt.time(), CHINA_TZ)


def china_clock_time(text: str, fmt: str = "%Y-%m-%d %H:%M") -> dt.datetime:
    """A wall-clock time written in China time ("2026-04-02 09:30"), as an aware moment."""
    return dt.datetime.strptime(text, fmt).replace(tzinfo=CHINA_TZ)


# How far ahead of the server a phone's clock may run before the time it sends is refused.
MAX_CLOCK_SKEW = dt.timedelta(minutes=5)


def refuse_future(field: str, moment: dt.datetime | None, now: dt.datetime) -> None:
    """Invariant 5: what is recorded cannot have happened in the future (past the clock skew).

    The one refusal every service gives, for every moment a person states (``occurred_at``,
    ``produced_at``, ``sampled_at``, ``tested_at``): a 422 naming the field, in the reader's language.
    """
    if moment is not None and moment > now + MAX_CLOCK_SKEW:
        raise InvalidInput.field(field, gettext("不能晚于当前时间五分钟以上"))
