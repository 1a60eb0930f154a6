"""Label runs, their serialized units, the scans of unit pages, PIN attempts and anomaly flags."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.batches.models import Batch
from app.db import Model, utcnow
from app.jobs.models import Job


class Template(enum.StrEnum):
    a4_24 = "a4_24"  # A4, 3 x 8 labels of 70 x 37 mm
    a4_40 = "a4_40"  # A4, 4 x 10 labels of 52.5 x 29.7 mm
    zpl = "zpl"  # Zebra thermal printers
    tspl = "tspl"  # TSC thermal printers


class LabelRun(Model):
    """N units made at once under a batch, printed with one template."""

    __tablename__ = "label_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), index=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id"), unique=True)
    count: Mapped[int]
    template: Mapped[str] = mapped_column(String(8))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    batch: Mapped[Batch] = relationship()
    job: Mapped[Job] = relationship()


class LabelRunFile(Model):
    """What a run prints: the print file of its template and the printing house's CSV (serial, URI, PIN).

    The only place a PIN exists in clear, written once by the run's job (units keep PIN hashes
    only); zlib-compressed.
    """

    __tablename__ = "label_run_files"
    __table_args__ = (UniqueConstraint("run_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("label_runs.id"))
    kind: Mapped[str] = mapped_column(String(8))  # pdf, zpl, tspl, csv
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Unit(Model):
    """One labelled item: a serial (80 random bits, 16 Crockford base32 characters) and a PIN hash."""

    __tablename__ = "units"
    __table_args__ = (UniqueConstraint("run_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    serial: Mapped[str] = mapped_column(String(16), unique=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("label_runs.id"))
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), index=True)
    # 1..count within the run: the order printed, so a range of a roll can be voided.
    seq: Mapped[int]
    pin_hash: Mapped[str] = mapped_column(String(64))
    voided_at: Mapped[dt.datetime | None]
    void_reason: Mapped[str | None] = mapped_column(String(200))
    verified_at: Mapped[dt.datetime | None]
    verified_city: Mapped[str | None] = mapped_column(String(40))
    verifications: Mapped[int] = mapped_column(default=0)

    batch: Mapped[Batch] = relationship()
    run: Mapped[LabelRun] = relationship()


class Scan(Model):
    """One opening of a unit's page. No full IP and no GPS: a network prefix and a city at most."""

    __tablename__ = "scans"
    __table_args__ = (Index("ix_scans_unit_id_scanned_at", "unit_id", "scanned_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), index=True)
    scanned_at: Mapped[dt.datetime] = mapped_column(index=True)
    # IPv4 /24 or IPv6 /48, e.g. "203.0.113.0/24".
    net_prefix: Mapped[str] = mapped_column(String(50))
    city: Mapped[str | None] = mapped_column(String(40))
    # The city's own coordinates (never the phone's), for the travel rule.
    city_lat: Mapped[float | None]
    city_lon: Mapped[float | None]
    browser: Mapped[str] = mapped_column(String(12))
    wechat: Mapped[bool] = mapped_column(default=False)


class ScanDay(Model):
    """Scans of a batch on one day (China time), what stays after raw scans pass retention."""

    __tablename__ = "scan_days"
    __table_args__ = (UniqueConstraint("batch_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    day: Mapped[dt.date] = mapped_column(Date)
    scans: Mapped[int]


class PinAttempt(Model):
    """One PIN check: for the rate limits (per unit, per client network) and the guessing rule."""

    __tablename__ = "pin_attempts"
    __table_args__ = (
        Index("ix_pin_attempts_unit_id_at", "unit_id", "at"),
        Index("ix_pin_attempts_net_prefix_at", "net_prefix", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    at: Mapped[dt.datetime]
    net_prefix: Mapped[str] = mapped_column(String(50))
    ok: Mapped[bool]


class FlagRule(enum.StrEnum):
    burst = "burst"  # more scans in 24 hours than a genuine unit gets
    travel = "travel"  # two cities farther apart than travel allows in the time between
    pin_guessing = "pin_guessing"  # wrong PINs past the threshold
    voided_scan = "voided_scan"  # any scan of a voided serial


class UnitFlag(Model):
    """A unit a rule caught: one row per unit and rule, its evidence, first and last seen."""

    __tablename__ = "unit_flags"
    __table_args__ = (UniqueConstraint("unit_id", "rule"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), index=True)
    rule: Mapped[str] = mapped_column(String(16))
    detail: Mapped[dict[str, Any]]
    raised_at: Mapped[dt.datetime] = mapped_column(index=True)
    last_seen_at: Mapped[dt.datetime]
    hits: Mapped[int] = mapped_column(default=1)

    unit: Mapped[Unit] = relationship()
    batch: Mapped[Batch] = relationship()
