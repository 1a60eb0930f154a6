"""The report fields at the top of the desk's inspection form (web/_report_fields.html): the
report's type, its lab organization, the report a 复检 re-tests, when the producer was told, and
the 抽样单. Read into the API's body (``InspectionCreate``), so the form and the API refuse alike."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from app import clock
from app.batches.models import Batch
from app.compliance.models import Inspection
from app.compliance.report_types import REPORT_TYPES, SAMPLING_STAGES
from app.db import db
from app.orgs import service as orgs

# Form field names: the body's own, and the 抽样单's prefixed ``sampling-``.
FIELDS = ("type", "lab_org_id", "retest_of", "notified_at")
SAMPLING_FIELDS = (
    "number", "task_source", "stage", "place", "sampled_org_name", "sample_lot", "production_date",
    "sampling_base", "quantity", "sampler_1", "sampler_2",
)  # fmt: skip


def choices(batch: Batch) -> dict[str, Any]:
    """What the pickers offer: report types and sampling stages, labs, and this batch's reports."""
    reports = db.session.scalars(
        select(Inspection).where(Inspection.batch_id == batch.id).order_by(Inspection.sampled_at, Inspection.id)
    )
    return {
        "report_types": list(REPORT_TYPES.items()),
        "sampling_stages": list(SAMPLING_STAGES.items()),
        "labs": orgs.labs(),
        "batch_reports": list(reports),
    }


def values_of(form: Any) -> dict[str, str]:
    """The report fields as typed, to show again on a refused form."""
    values = {name: form.get(name, "") for name in FIELDS}
    values.update({f"sampling-{name}": form.get(f"sampling-{name}", "") for name in SAMPLING_FIELDS})
    values["sampling-backup_sealed"] = "1" if form.get("sampling-backup_sealed") else ""
    return values


def _moment(text: str) -> str | None:
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=clock.CHINA_TZ)).isoformat()


def read(form: Any, body: dict[str, Any], errors: dict[str, str], gettext: Any) -> None:
    """Add the report fields to the API body read from the rest of the form (in place)."""
    for name in ("type", "lab_org_id", "retest_of"):
        value = form.get(name, "").strip()
        if value:
            body[name] = value
    if body.get("lab_org_id") and not (body.get("lab") or "").strip():
        body.pop("lab", None)  # the lab organization names the lab
    notified = form.get("notified_at", "").strip()
    if notified:
        moment = _moment(notified)
        if moment is None:
            errors["notified_at"] = gettext("请填写日期和时间。")
        body["notified_at"] = moment
    typed = {name: form.get(f"sampling-{name}", "").strip() for name in SAMPLING_FIELDS}
    if any(typed.values()) or body.get("type") == "supervision":
        sampling: dict[str, Any] = {
            name: typed[name] for name in ("number", "task_source", "stage", "place", "sampling_base", "quantity")
        }
        sampling["sampled_org_name"] = typed["sampled_org_name"] or None
        sampling["sample_lot"] = typed["sample_lot"] or None
        sampling["production_date"] = typed["production_date"] or None
        sampling["samplers"] = [typed["sampler_1"], typed["sampler_2"]]
        sampling["backup_sealed"] = bool(form.get("sampling-backup_sealed"))
        if not any(typed.values()):
            sampling = {}  # a 监督抽检 with no 抽样单 at all: refused as the API refuses it
        if sampling:
            body["sampling"] = sampling
