"""Re-tests (复检) and sampling records (抽样单): the checks a report of either kind must pass
before it is stored, and what is chained of them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from app import clock
from app.batches.models import Batch
from app.compliance import labs, report_types
from app.compliance.models import Inspection, SamplingRecord
from app.compliance.standards import nested_error
from app.db import db
from app.errors import Conflict, InvalidInput
from app.orgs.models import Organization, OrgKind

RETEST_AFTER_WINDOW = "retest_after_window"
NOTIFIED_UNKNOWN = "notified_unknown"


def lab_org_of(lab_org_id: int | None) -> Organization | None:
    """The laboratory organization a report names; 422 for an id that is not a lab."""
    if lab_org_id is None:
        return None
    org = db.session.get(Organization, lab_org_id)
    if org is None:
        raise InvalidInput.field("lab_org_id", f"no organization with id {lab_org_id}")
    if org.kind != OrgKind.lab:
        raise InvalidInput.field("lab_org_id", f"organization {org.code} is not a lab (kind {org.kind})")
    return org


def sampling_record(batch: Batch, sampling: dict[str, Any], now: dt.datetime) -> SamplingRecord:
    """The 抽样单 as stored, checked: the sampled organization by id or by name, two samplers."""
    org_id, name = sampling.get("sampled_org_id"), (sampling.get("sampled_org_name") or "").strip()
    if org_id is not None:
        org = db.session.get(Organization, org_id)
        if org is None:
            raise nested_error(["sampling", "sampled_org_id"], f"no organization with id {org_id}")
        name = org.name
    elif not name:
        raise nested_error(["sampling", "sampled_org_name"], "name the sampled organization (or give its id)")
    if sampling["stage"] not in report_types.SAMPLING_STAGES:
        raise nested_error(["sampling", "stage"], f"must be one of {', '.join(report_types.SAMPLING_STAGES)}")
    samplers = [s.strip() for s in sampling["samplers"]]
    if len(samplers) != 2:
        raise nested_error(["sampling", "samplers"], "two samplers, each by name")
    if any(not s for s in samplers):
        raise nested_error(["sampling", "samplers"], "two samplers, each by name")
    if samplers[0] == samplers[1]:
        raise nested_error(["sampling", "samplers"], "two different samplers")
    produced = sampling.get("production_date")
    if produced is not None and produced > clock.china_date(now):
        raise nested_error(["sampling", "production_date"], "cannot be in the future")
    for key in ("number", "task_source", "place", "sampling_base", "quantity"):
        if not sampling[key].strip():
            raise nested_error(["sampling", key], "must not be blank")
    return SamplingRecord(
        number=sampling["number"].strip(),
        task_source=sampling["task_source"].strip(),
        stage=sampling["stage"],
        place=sampling["place"].strip(),
        sampled_org_id=org_id,
        sampled_org_name=name,
        sample_lot=(sampling.get("sample_lot") or "").strip() or None,
        production_date=produced,
        sampling_base=sampling["sampling_base"].strip(),
        quantity=sampling["quantity"].strip(),
        sampler_1=samplers[0],
        sampler_2=samplers[1],
        backup_sealed=bool(sampling.get("backup_sealed")),
    )


def sampling_view(record: SamplingRecord | None) -> dict[str, Any] | None:
    """A sampling record JSON-safe, as chained and as the pages get it (``stage_name`` added there)."""
    return record.as_chained() if record is not None else None


def check_retest(
    batch: Batch,
    first_id: int,
    *,
    report_type: str,
    lab: Organization | None,
    parameters: list[str],
    sampled_at: dt.datetime,
    tested_at: dt.datetime,
    notified_at: dt.datetime | None,
    requested_at: dt.datetime,
) -> tuple[Inspection, dt.datetime | None, dt.date | None, list[str]]:
    """A 复检 of report ``first_id``: checked, with the moment the producer was told, the window's
    last day and the warnings it is accepted with."""
    first = db.session.get(Inspection, first_id)
    if first is None or first.batch_id != batch.id:
        raise InvalidInput.field("retest_of", f"no report with id {first_id} on batch {batch.lot_code}")
    if first.type == report_types.RAPID:
        raise InvalidInput.field("retest_of", "a rapid test (快检) is followed by a laboratory test, not a re-test")
    if report_type == report_types.RAPID:
        raise InvalidInput.field("type", "a re-test (复检) is a laboratory test, not a rapid test")
    if first.retest_of_id is not None:
        raise InvalidInput.field("retest_of", f"report {first.report_no} is itself a re-test; a re-test is made once")
    if lab is None:
        raise InvalidInput.field("lab_org_id", "a re-test names its lab organization (another lab than the first)")
    if first.lab_org_id == lab.id or (first.lab_org_id is None and first.lab.strip() == lab.name.strip()):
        raise InvalidInput.field("lab_org_id", f"a re-test is made by another lab than {first.lab}")
    for n, parameter in enumerate(parameters):
        if not labs.qualified_for(lab, parameter):
            raise nested_error(["results", n, "parameter"], f"{lab.name} is not qualified (CMA scope) for {parameter}")
    if labs.expired_on(lab, sampled_at, tested_at):
        raise InvalidInput.field("lab_org_id", f"the CMA certificate of {lab.name} expired on {lab.cma_valid_to}")
    if db.session.scalar(select(Inspection.id).where(Inspection.retest_of_id == first.id)):
        raise Conflict(
            f"retest_of: report {first.report_no} already has its re-test",
            {"json": {"retest_of": ["already re-tested"]}},
        )
    # Given on the re-test, or recorded on the first report.
    notified = notified_at or first.notified_at
    if notified is not None and notified > requested_at:
        raise InvalidInput.field("notified_at", "cannot be after the re-test was requested")
    warnings: list[str] = []
    deadline = None
    if notified is None:
        warnings.append(NOTIFIED_UNKNOWN)
    else:
        deadline = report_types.retest_deadline(clock.china_date(notified))
        if clock.china_date(requested_at) > deadline:
            warnings.append(RETEST_AFTER_WINDOW)
    return first, notified, deadline, warnings
