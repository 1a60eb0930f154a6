"""Inspections and their results, certifications, findings with their follow-up steps, and the
stored verdict of each batch."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import Date, ForeignKey, Index, Numeric, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Model, utcnow

if TYPE_CHECKING:
    from app.orgs.models import Organization


class Inspection(Model):
    """A test report. Its number is unique per lab: per laboratory organization (``lab_org_id``),
    and for an older report naming its lab in free text only, per that text."""

    __tablename__ = "inspections"
    __table_args__ = (
        Index(
            "uq_inspections_lab_org_id_report_no",
            "lab_org_id",
            "report_no",
            unique=True,
            sqlite_where=text("lab_org_id IS NOT NULL"),
            postgresql_where=text("lab_org_id IS NOT NULL"),
        ),
        Index(
            "uq_inspections_lab_report_no",
            "lab",
            "report_no",
            unique=True,
            sqlite_where=text("lab_org_id IS NULL"),
            postgresql_where=text("lab_org_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), index=True)
    report_no: Mapped[str] = mapped_column(String(60))
    # The lab's name as the report gives it (the lab organization's name when ``lab_org_id`` is set).
    lab: Mapped[str] = mapped_column(String(200))
    # supervision, risk_monitoring, commissioned (the default), self_check or rapid (app/compliance/report_types.py).
    type: Mapped[str] = mapped_column(String(20), default="commissioned", server_default="commissioned")
    lab_org_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    # A 复检 names the report it re-tests (of the same batch); that one is then superseded.
    retest_of_id: Mapped[int | None] = mapped_column(ForeignKey("inspections.id"), index=True)
    # When the producer was told of this report's result (starts the 复检 window).
    notified_at: Mapped[dt.datetime | None]
    # A 复检's: when it was requested, the last day of its window, and the warnings it was accepted with.
    requested_at: Mapped[dt.datetime | None]
    retest_deadline: Mapped[dt.date | None] = mapped_column(Date)
    warnings: Mapped[list[Any]] = mapped_column(default=list, server_default=text("'[]'"))
    sampled_at: Mapped[dt.datetime]
    tested_at: Mapped[dt.datetime]
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_org_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    results: Mapped[list[InspectionResult]] = relationship(
        back_populates="inspection", order_by="InspectionResult.id", cascade="all, delete-orphan"
    )
    sampling: Mapped[SamplingRecord | None] = relationship(
        back_populates="inspection", cascade="all, delete-orphan", uselist=False
    )
    lab_org: Mapped[Organization | None] = relationship(foreign_keys=[lab_org_id])


class SamplingRecord(Model):
    """The 抽样单 of a report: required for a 监督抽检, optional for the others."""

    __tablename__ = "sampling_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id"), unique=True)
    number: Mapped[str] = mapped_column(String(60))
    task_source: Mapped[str] = mapped_column(String(200))
    # planting_base (种植基地), production (生产) or circulation (流通).
    stage: Mapped[str] = mapped_column(String(20))
    place: Mapped[str] = mapped_column(String(200))
    sampled_org_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    sampled_org_name: Mapped[str] = mapped_column(String(200))
    # The sample's own lot code and production date, as its label gives them.
    sample_lot: Mapped[str | None] = mapped_column(String(60))
    production_date: Mapped[dt.date | None] = mapped_column(Date)
    sampling_base: Mapped[str] = mapped_column(String(60))
    quantity: Mapped[str] = mapped_column(String(60))
    sampler_1: Mapped[str] = mapped_column(String(60))
    sampler_2: Mapped[str] = mapped_column(String(60))
    backup_sealed: Mapped[bool] = mapped_column(default=False)

    inspection: Mapped[Inspection] = relationship(back_populates="sampling")

    def as_chained(self) -> dict[str, Any]:
        """The record JSON-safe, as the report's chained record holds it (and the pages read it)."""
        return {
            "number": self.number,
            "task_source": self.task_source,
            "stage": self.stage,
            "place": self.place,
            "sampled_org": self.sampled_org_name,
            "sampled_org_id": self.sampled_org_id,
            "sample_lot": self.sample_lot,
            "production_date": self.production_date.isoformat() if self.production_date else None,
            "sampling_base": self.sampling_base,
            "quantity": self.quantity,
            "samplers": [self.sampler_1, self.sampler_2],
            "backup_sealed": self.backup_sealed,
        }


def _utc_iso(moment: dt.datetime | None) -> str | None:
    return moment.astimezone(dt.UTC).isoformat() if moment is not None else None


def report_chain_extras(inspection: Inspection) -> dict[str, Any]:
    """What a report's chained record holds beyond its number, lab, dates and results: nothing for
    a 委托检验 with a free-text lab only (its record stays as reports were chained before types);
    else its type and lab organization, its 抽样单, and a 复检's links, window and warnings."""
    plain = (
        inspection.type == "commissioned"
        and inspection.lab_org_id is None
        and inspection.sampling is None
        and inspection.retest_of_id is None
        and inspection.notified_at is None
    )
    if plain:
        return {}
    extras: dict[str, Any] = {"type": inspection.type, "lab_org_id": inspection.lab_org_id}
    if inspection.sampling is not None:
        extras["sampling"] = inspection.sampling.as_chained()
    if inspection.notified_at is not None:
        extras["notified_at"] = _utc_iso(inspection.notified_at)
    if inspection.retest_of_id is not None:
        extras.update(
            retest_of=inspection.retest_of_id,
            requested_at=_utc_iso(inspection.requested_at),
            retest_deadline=inspection.retest_deadline.isoformat() if inspection.retest_deadline else None,
            warnings=list(inspection.warnings or []),
        )
    return extras


class InspectionResult(Model):
    __tablename__ = "inspection_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id"), index=True)
    parameter_key: Mapped[str] = mapped_column(String(60))
    value: Mapped[Decimal | None] = mapped_column(Numeric(20, 6))
    unit: Mapped[str] = mapped_column(String(30))
    not_detected: Mapped[bool] = mapped_column(default=False)
    lod: Mapped[Decimal | None] = mapped_column(Numeric(20, 6))
    method: Mapped[str | None] = mapped_column(String(120))
    # What the figure is measured on: as_is, dry_matter (以干样品计) or fat (以脂肪计).
    basis: Mapped[str] = mapped_column(String(12), default="as_is", server_default="as_is")
    # 未检出(<定量限): detected but not quantified; ``loq`` is the limit of quantification.
    below_loq: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    loq: Mapped[Decimal | None] = mapped_column(Numeric(20, 6))

    inspection: Mapped[Inspection] = relationship(back_populates="results")


class Certification(Model):
    """三品一标 and the 承诺达标合格证: who holds it, for what, where, and for how long."""

    __tablename__ = "certifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    number: Mapped[str] = mapped_column(String(60), unique=True)
    issuer: Mapped[str] = mapped_column(String(200))
    holder_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    product_key: Mapped[str] = mapped_column(ForeignKey("product_lines.key"))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    scope: Mapped[str | None] = mapped_column(Text)
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Finding(Model):
    """A failed verdict or a pre-harvest-interval breach, followed up until an inspector closes it."""

    __tablename__ = "findings"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    # Identifies the finding so re-evaluating the same facts does not open it twice.
    subject: Mapped[str] = mapped_column(String(200))
    detail: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(20), default="open")
    opened_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    steps: Mapped[list[FindingStep]] = relationship(back_populates="finding", order_by="FindingStep.id")

    __table_args__ = (UniqueConstraint("batch_id", "kind", "subject"),)


class FindingStep(Model):
    __tablename__ = "finding_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id"), index=True)
    action: Mapped[str] = mapped_column(String(30))
    note: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    finding: Mapped[Finding] = relationship(back_populates="steps")


class BatchVerdict(Model):
    """The latest verdict of a batch, stored by the writes that change it and read by every page.

    ``result`` holds what the pages render (the clause rows, the standards applied, the pre-harvest
    checks, the reports judged), so no page re-evaluates. ``fingerprint`` is the SHA-256 of every
    input the verdict was judged from (see ``verdicts.fingerprints``): a page whose fresh
    fingerprint differs shows a verdict computed in memory instead, never the stale one.
    """

    __tablename__ = "batch_verdicts"

    # Derived from the batch alone, so it goes with it (only test clean-ups ever delete a batch).
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"), primary_key=True)
    verdict: Mapped[str] = mapped_column(String(20))
    result: Mapped[dict[str, Any]]
    fingerprint: Mapped[str] = mapped_column(String(64))
    computed_at: Mapped[dt.datetime]
    # The catalog version (app/catalog/versions.py) whose limits judged it; None before versions.
    catalog_version: Mapped[int | None] = mapped_column(ForeignKey("catalog_versions.number"))
