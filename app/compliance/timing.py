"""The compliance rules that depend on dates, as pure functions: which edition of a standard is
in force on a day, whether a requirement binds a product, pre-harvest intervals (安全间隔期) and
whether a certificate is valid on a day.

- A standard applies in the edition in force on the evaluation date: among editions sharing a
  base code, the latest whose effective date is on or before it. An edition with no known
  effective date is used only when no dated edition is in force, and the choice says so. An
  edition whose successor (named by ``superseded_by``, possibly under another base code) is in
  force on the date no longer applies.
- A harvest earlier than the last application plus its interval is a breach.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

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


def requirement_applies(requirement_product: str | None, standard_applies_to: Sequence[str], product: str) -> bool:
    """A requirement naming a product binds only that product; otherwise every product of its standard."""
    if requirement_product is not None:
        return requirement_product == product
    return "all" in standard_applies_to or product in standard_applies_to


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
        if not self.breached:
            return 0
        gap = self.safe_from - self.harvested_at
        return max(1, gap.days + (1 if gap.seconds or gap.microseconds else 0))


def check_intervals(uses: Sequence[PesticideUse], harvests: Sequence[tuple[int, dt.datetime]]) -> list[IntervalCheck]:
    """Each pesticide applied before a harvest must have had its pre-harvest interval (安全间隔期).

    A harvest earlier than applied_at + phi_days is a breach. An application recorded after the
    harvest did not touch what was harvested, so it is not checked against that harvest.
    """
    checks = []
    for seq, harvested_at in harvests:
        for use in uses:
            if use.applied_at > harvested_at:
                continue
            safe_from = use.applied_at + dt.timedelta(days=use.phi_days)
            checks.append(IntervalCheck(use, harvested_at, seq, safe_from, harvested_at < safe_from))
    return checks


def certification_status(valid_from: dt.date, valid_to: dt.date | None, on: dt.date) -> str:
    """valid, expired or not_yet_valid on a date; no end date means it does not expire (e.g. a GI)."""
    if on < valid_from:
        return "not_yet_valid"
    if valid_to is not None and on > valid_to:
        return "expired"
    return "valid"
