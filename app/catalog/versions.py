"""Catalog versions: limits are never changed in place without a trace.

Every change to the catalog through the service (a ``catalog load`` that changed anything, an
enterprise standard registered) appends a version (``catalog_versions``): its number, when, why,
and per standard code a digest of the standard and of each requirement with the limit as written.
A stored verdict names the version it was judged against (``batch_verdicts.catalog_version``).

Checking compares the catalog as stored now with the latest version: a limit (or any column a
verdict reads) changed directly in the database is named, with the value the version recorded.
Compliance checks the standards a batch is bound to before it judges (it then keeps the verdict
judged against the version and says why), and ``flask catalog verify`` checks the whole catalog
and the versions themselves.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app import clock
from app.catalog import signals
from app.catalog.models import CatalogVersion, Requirement, Standard
from app.db import db


def _number(value: Decimal | None) -> str | None:
    # One spelling however the value was last seen: 200 as set, 200.000000 as read back.
    if value is None:
        return None
    text = format(value.normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _date(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _limit_text(req: Requirement) -> str:
    limit = _number(req.limit_value) if req.limit_value is not None else req.limit_text
    return f"{req.comparator} {limit if limit is not None else '—'} {req.unit or ''}".strip()


def requirement_entry(req: Requirement) -> dict[str, Any]:
    """What a version records of one requirement: a digest of every column a verdict reads, and
    the limit as written so a check can say what it was."""
    content = [
        req.position, req.parameter_key, req.parameter_zh, req.parameter_en, req.unit, req.comparator,
        _number(req.limit_value), req.limit_text, req.scope, req.product_key, list(req.forms or []), req.basis,
        req.grading, req.temporary_mrl, _number(req.not_detected_below), req.clause, req.verified,
    ]  # fmt: skip
    return {"parameter": req.parameter_key, "limit": _limit_text(req), "digest": _digest(content)}


def standard_entry(std: Standard) -> dict[str, Any]:
    """What a version records of one standard: its own columns' digest and each requirement's entry."""
    content = [
        std.code, std.edition, _date(std.effective), _date(std.issued), std.superseded_by, std.mandatory,
        std.status, std.level, std.kind, std.title_zh, list(std.applies_to or []), std.owner_org_id,
    ]  # fmt: skip
    return {
        "digest": _digest(content),
        "requirements": {str(r.position): requirement_entry(r) for r in std.requirements},
    }


def current_entries(codes: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
    """The entries of the catalog as stored now (every standard, or those codes)."""
    query = select(Standard).options(selectinload(Standard.requirements)).order_by(Standard.code)
    if codes is not None:
        query = query.where(Standard.code.in_(sorted(set(codes))))
    return {s.code: standard_entry(s) for s in db.session.scalars(query)}


def latest() -> CatalogVersion | None:
    number = db.session.scalar(select(func.max(CatalogVersion.number)))
    return db.session.get(CatalogVersion, number) if number is not None else None


def record(reason: str, now: dt.datetime | None = None) -> CatalogVersion:
    """The catalog as stored now as a version: the latest one if nothing changed, else a new one."""
    db.session.flush()
    entries = current_entries()
    digest = _digest(entries)
    last = latest()
    if last is not None and last.digest == digest:
        return last
    version = CatalogVersion(
        number=(last.number + 1) if last is not None else 1,
        loaded_at=now or clock.now(),
        reason=reason[:200],
        digest=digest,
        standards=len(entries),
        requirements=sum(len(e["requirements"]) for e in entries.values()),
        entries=entries,
    )
    db.session.add(version)
    db.session.flush()
    return version


def changed(base_codes: set[str] | None, reason: str, now: dt.datetime | None = None) -> CatalogVersion:
    """The catalog was changed through the service: record the version, then tell the subscribers
    (compliance re-judges), so the verdicts they store name the new version."""
    version = record(reason, now)
    signals.standards_changed.send(signals.sender(), base_codes=base_codes)
    return version


def differences(
    version: CatalogVersion, now_entries: dict[str, dict[str, Any]], codes: Iterable[str] | None = None
) -> list[str]:
    """How the catalog as stored now differs from ``version`` (for ``codes`` only, when given)."""
    recorded: dict[str, Any] = version.entries
    wanted = sorted(set(codes) if codes is not None else set(recorded) | set(now_entries))
    found: list[str] = []
    where = f"catalog version {version.number}"
    for code in wanted:
        then, now = recorded.get(code), now_entries.get(code)
        if then is None and now is None:
            continue
        if then is None:
            found.append(f"{code} is in the catalog but not in {where}")
            continue
        if now is None:
            found.append(f"{code} is in {where} but no longer in the catalog")
            continue
        if then["digest"] != now["digest"]:
            found.append(f"{code} is not as {where} recorded it")
        for position in sorted(set(then["requirements"]) | set(now["requirements"]), key=int):
            was, is_ = then["requirements"].get(position), now["requirements"].get(position)
            if was is None:
                found.append(f"{code} requirement {position} ({is_['parameter']}) is not in {where}")
            elif is_ is None:
                found.append(f"{code} requirement {position} ({was['parameter']}) of {where} is gone")
            elif was["digest"] != is_["digest"]:
                found.append(
                    f"{code} requirement {position} ({is_['parameter']}): {is_['limit']} in the database, "
                    f"{was['limit']} in {where}"
                )
    return found


@dataclass
class Checker:
    """Checks standards against the latest version, reading the version once for many batches."""

    version: CatalogVersion | None = None
    _entries: dict[str, dict[str, Any]] = field(default_factory=dict)
    _loaded: bool = False

    def __post_init__(self) -> None:
        if self.version is None:
            self.version = latest()

    def problems(self, codes: Iterable[str]) -> list[str]:
        """What differs from the latest version among these standards ([] when no version exists yet)."""
        if self.version is None:
            return []
        wanted = set(codes)
        missing = wanted - set(self._entries)
        if missing:
            self._entries.update(current_entries(missing))
        return differences(self.version, {c: self._entries[c] for c in wanted if c in self._entries}, wanted)


@dataclass(frozen=True)
class CatalogCheck:
    version: CatalogVersion | None
    problems: list[str]

    @property
    def valid(self) -> bool:
        return self.version is not None and not self.problems


def verify_catalog() -> CatalogCheck:
    """The whole catalog against the latest version, and the version log against itself: each
    version's digest over its entries, the numbers without a gap, every verdict's version present."""
    versions = list(db.session.scalars(select(CatalogVersion).order_by(CatalogVersion.number)))
    if not versions:
        return CatalogCheck(None, ["no catalog version is recorded yet: run `flask catalog load`"])
    problems: list[str] = []
    for expected, version in enumerate(versions, start=1):
        if version.number != expected:
            problems.append(f"catalog version {expected} is missing (the log jumps to {version.number})")
            break
        if _digest(version.entries) != version.digest:
            problems.append(f"catalog version {version.number} as stored does not hash to its recorded digest")
    numbers = {v.number for v in versions}
    # Read by table, not model: compliance (whose verdicts name versions) sits above the catalog.
    verdicts = db.metadata.tables["batch_verdicts"]
    named = set(db.session.scalars(select(verdicts.c.catalog_version).distinct())) - {None}
    for number in sorted(named - numbers):
        problems.append(f"stored verdicts name catalog version {number}, which is not in the log")
    problems.extend(differences(versions[-1], current_entries()))
    return CatalogCheck(versions[-1], problems)
