"""The compliance rules that depend on dates, as pure functions: which edition of a standard is
in force on a day, whether a requirement binds a product, pre-harvest intervals (安全间隔期) and
whether a certificate is valid on a day.

- A standard applies in the edition in force on the evaluation date: among editions sharing a
  base code, the latest whose effective date is on or before it. An edition with no known
  effective date is used only when no dated edition is in force, and the choice says so. An
  edition whose successor (named by ``superseded_by``, possibly under another base code) is in
  force on the date no longer applies.
- Pre-harvest intervals count calendar days in China time: the harvest date minus the
  application date must be at least ``phi_days``; the hour of day does not matter (sprayed at
  18:00 on 1 April with a 7-day interval, a harvest at 06:00 on 8 April is on time).
- A requirement binds a batch's product form when it names none, or one of the batch's forms;
  a batch whose form is not known is held to every form's requirements (and says so).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from app import clock

# ---------------------------------------------------------------------------------------------
# Editions and scope
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Edition:
    """One edition of a standard, as far as choosing editions needs it."""

    id: int
    code: str
    base_code: str
    edition: str | None
    effective: dt.date | None
    # A successor under another base code (GB 2763.1-2022 -> GB 2763-2026) and when it took over.
    superseded_by: str | None = None
    superseded_on: dt.date | None = None


@dataclass(frozen=True)
class EditionChoice:
    base_code: str
    chosen: Edition | None
    # Why: "in force since 2026-03-01", "effective date unknown; used because ...", "not yet in force".
    note: str
    considered: tuple[str, ...] = ()


def choose_editions(editions: Iterable[Edition], on: dt.date) -> list[EditionChoice]:
    """For each base code, the edition in force on ``on`` (see the module docstring)."""
    groups: dict[str, list[Edition]] = {}
    for ed in editions:
        groups.setdefault(ed.base_code, []).append(ed)
    choices = []
    for base, editions_of_base in sorted(groups.items()):
        codes = tuple(sorted(e.code for e in editions_of_base))
        group = [e for e in editions_of_base if e.superseded_on is None or e.superseded_on > on]
        if not group:
            last = max(editions_of_base, key=lambda e: e.superseded_on or dt.date.min)
            note = f"superseded by {last.superseded_by} since {last.superseded_on.isoformat()}"  # type: ignore[union-attr]
            choices.append(EditionChoice(base, None, note, codes))
            continue
        dated = [e for e in group if e.effective is not None and e.effective <= on]
        if dated:
            best = max(dated, key=lambda e: (e.effective, e.edition or "", e.code))
            assert best.effective is not None  # ``dated`` holds only editions with a date
            choices.append(EditionChoice(base, best, f"in force since {best.effective.isoformat()}", codes))
            continue
        undated = [e for e in group if e.effective is None]
        if undated:
            best = max(undated, key=lambda e: (e.edition or "", e.code))
            future = [e for e in group if e.effective is not None]
            why = "effective date unknown; used because no dated edition is in force on " + on.isoformat()
            if future:
                why += f" ({', '.join(sorted(e.code for e in future))} not yet in force)"
            choices.append(EditionChoice(base, best, why, codes))
            continue
        first = min(group, key=lambda e: e.effective or dt.date.max)
        note = f"not yet in force on {on.isoformat()} (effective {first.effective.isoformat()})"  # type: ignore[union-attr]
        choices.append(EditionChoice(base, None, note, codes))
    return choices


def requirement_applies(
    requirement_product: str | None,
    standard_applies_to: Sequence[str],
    product: str,
    requirement_forms: Sequence[str] = (),
    batch_forms: Sequence[str] | None = None,
) -> bool:
    """A requirement naming a product binds only that product; otherwise every product of its standard.

    A requirement scoped to forms binds a batch carrying any of them; ``batch_forms`` None or
    empty (the form is not known) applies no form filter.
    """
    if requirement_product is not None:
        if requirement_product != product:
            return False
    elif not ("all" in standard_applies_to or product in standard_applies_to):
        return False
    if requirement_forms and batch_forms:
        return bool(set(requirement_forms) & set(batch_forms))
    return True


# ---------------------------------------------------------------------------------------------
# Pre-harvest intervals and certificates
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PesticideUse:
    name: str
    applied_at: dt.datetime
    phi_days: int
    planting_seq: int
    registration_no: str | None = None


@dataclass(frozen=True)
class IntervalCheck:
    use: PesticideUse
    harvested_at: dt.datetime
    harvest_seq: int
    safe_from: dt.datetime
    breached: bool

    @property
    def days_short(self) -> int:
        """Calendar days (China time) the harvest came too early."""
        if not self.breached:
            return 0
        return max(1, (_day(self.safe_from) - _day(self.harvested_at)).days)


def _day(moment: dt.datetime) -> dt.date:
    """The China date of a moment; one too near the ends of the calendar to move keeps its own."""
    try:
        return clock.china_date(moment)
    except OverflowError:
        return moment.date()


def interval_days(applied_at: dt.datetime, harvested_at: dt.datetime) -> int:
    """Calendar days from application to harvest, by their dates in China time."""
    return (_day(harvested_at) - _day(applied_at)).days


def check_intervals(uses: Sequence[PesticideUse], harvests: Sequence[tuple[int, dt.datetime]]) -> list[IntervalCheck]:
    """Each pesticide applied before a harvest must have had its pre-harvest interval (安全间隔期).

    The harvest date minus the application date (China time) must be at least ``phi_days``; a
    harvest on exactly that day is on time. ``safe_from`` is the start of that day in China. An
    application recorded after the harvest did not touch what was harvested, so it is not
    checked against that harvest.
    """
    checks = []
    for seq, harvested_at in harvests:
        for use in uses:
            if use.applied_at > harvested_at:
                continue
            first_day = _day(use.applied_at) + dt.timedelta(days=use.phi_days)
            safe_from = clock.china_midnight(first_day)
            breached = interval_days(use.applied_at, harvested_at) < use.phi_days
            checks.append(IntervalCheck(use, harvested_at, seq, safe_from, breached))
    return checks


def certification_status(valid_from: dt.date, valid_to: dt.date | None, on: dt.date) -> str:
    """valid, expired or not_yet_valid on a date; no end date means it does not expire (e.g. a GI)."""
    if on < valid_from:
        return "not_yet_valid"
    if valid_to is not None and on > valid_to:
        return "expired"
    return "valid"
