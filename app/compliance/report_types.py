"""What kind of report a test is, where its sample was taken, and the 复检 window.

- ``supervision`` 监督抽检 (carries its 抽样单), ``risk_monitoring`` 风险监测, ``commissioned``
  委托检验 (a request without a type), ``self_check`` 企业自检, ``rapid`` 快检.
- A 快检 is screening, never laboratory evidence: it gives no 合格/不合格. A positive one (any
  result not ``not_detected``) opens a ``lab_test_needed`` finding; a negative one counts for
  nothing in the verdict.
- A 复检 may be requested within 7 working days of the producer being told of the first result.
  Working days are the State Council's (holidays and 调休 make-up days) through the
  ``chinese_calendar`` library for the years it covers, Monday to Friday outside them.
"""

from __future__ import annotations

import datetime as dt

import chinese_calendar

from app.i18n import N_

SUPERVISION = "supervision"
COMMISSIONED = "commissioned"
RAPID = "rapid"
REPORT_TYPES: dict[str, str] = {
    SUPERVISION: N_("监督抽检"),
    "risk_monitoring": N_("风险监测"),
    COMMISSIONED: N_("委托检验"),
    "self_check": N_("企业自检"),
    RAPID: N_("快检"),
}
SAMPLING_STAGES: dict[str, str] = {
    "planting_base": N_("种植基地"),
    "production": N_("生产"),
    "circulation": N_("流通"),
}
RETEST_WORKING_DAYS = 7


def is_working_day(day: dt.date) -> bool:
    """A working day in China: by the official calendar where the library covers the year."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:  # a year the library does not cover: Monday to Friday
        return day.weekday() < 5


def retest_deadline(notified_on: dt.date, working_days: int = RETEST_WORKING_DAYS) -> dt.date:
    """The last day a 复检 may be requested: ``working_days`` working days after ``notified_on``."""
    day, left = notified_on, working_days
    while left:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            left -= 1
    return day
