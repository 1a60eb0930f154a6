"""Views of the verdict: JSON-safe dictionaries shared by the API, the desk and the PDF."""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from collections.abc import Sequence
from typing import Any

from flask_babel import gettext
from sqlalchemy import select

from app import clock
from app.batches.models import Batch
from app.catalog.products import PRODUCTS
from app.compliance import labs, report_types, retests, rules, timing
from app.compliance.certifications import kind_name
from app.compliance.evaluation import Evaluation, reference_date
from app.compliance.finding_text import subject_text
from app.compliance.models import Certification, Finding, Inspection
from app.compliance.standards import parameter_names
from app.db import db
from app.i18n import N_, in_each_language
from app.orgs.models import Organization, User

# The notes ``rules.judge`` and ``rules.evaluate`` put on a clause row are machine values (the API
# gives them as they are); each is shown to people as the Chinese source string below, translated
# by Babel (the English catalog gives back the note's own words).
ROW_NOTES: dict[str, str] = {
    "not detected": N_("未检出"),
    "not detected; LOD at or below the limit": N_("未检出，检出限不高于限量"),
    "not detected, below the range": N_("未检出，低于规定范围"),
    "not detected; below the minimum": N_("未检出，低于最低要求"),
    "not detected; below the required value": N_("未检出，低于规定值"),
    "inconclusive: the LOD lies inside the range": N_("无法判定：检出限落在规定范围内"),
    "inconclusive: the LOD is above the limit": N_("无法判定：检出限高于限量"),
    "inconclusive: the LOD is above the minimum": N_("无法判定：检出限高于最低要求"),
    "inconclusive: not detected": N_("无法判定：未检出"),
    "no result for this parameter": N_("无该项检测结果"),
    "the result carries no value": N_("检测结果没有数值"),
    "no limit on record": N_("无限量记录"),
    "limit not numeric": N_("限量不是数值"),
    "no limit on record for this product in the standards bound to the batch": N_(
        "本批次适用的标准中没有该产品的限量记录"
    ),
    rules.NEEDS_REVIEW_NOTE: N_("检出，但无限量记录：待检验人员判定"),
    "decided by an inspector's review": N_("已由检验人员判定"),
    "counts as not detected": N_("视为未检出"),
    "detected": N_("检出"),
    "detected, below the LOQ": N_("检出，低于定量限"),
    "below the LOQ; LOQ within the range": N_("低于定量限，定量限在规定范围内"),
    "below the LOQ, below the range": N_("低于定量限，低于规定范围"),
    "inconclusive: the LOQ lies inside the range": N_("无法判定：定量限落在规定范围内"),
    "below the LOQ; LOQ at or below the limit": N_("低于定量限，定量限不高于限量"),
    "inconclusive: the LOQ is above the limit": N_("无法判定：定量限高于限量"),
    "below the LOQ; below the minimum": N_("低于定量限，低于最低要求"),
    "inconclusive: the LOQ is above the minimum": N_("无法判定：定量限高于最低要求"),
    "inconclusive: below the LOQ": N_("无法判定：低于定量限"),
}
_BASIS_NOTE = re.compile(r"^basis mismatch: the result is on (?P<result>\w+), the limit on (?P<limit>\w+); not judged$")
# What a result or a limit is measured on, as people read it.
MEASURE_BASIS_NAMES: dict[str, str] = {
    "as_is": N_("以原样计"),
    "dry_matter": N_("以干样品计"),
    "fat": N_("以脂肪计"),
}
_UNIT_NOTE = re.compile(r"^result unit (?P<result>'.*') cannot be compared with limit unit (?P<limit>'.*'|None)$")
_TEXT_LIMIT_NOTE = re.compile(r"^limit (?P<limit>'.*') cannot be judged automatically$")

# Machine values of a verdict, its basis, a finding and a certification's status, as people read them.
VERDICT_NAMES: dict[str, str] = {
    rules.PASS: N_("合格"),
    rules.FAIL: N_("不合格"),
    rules.INCOMPLETE: N_("检测不全"),
    rules.NOT_TESTED: N_("未检测"),
    rules.NO_LIMIT: N_("无限量记录"),
    rules.NEEDS_REVIEW: N_("待判定"),
    rules.GRADE_MET: N_("符合等级要求"),
    rules.GRADE_NOT_MET: N_("未达等级要求"),
}
BASIS_NAMES: dict[str, str] = {
    "sampling": N_("抽样日期"),
    "harvest": N_("采收日期"),
    "production": N_("生产日期"),
    "creation": N_("建档日期"),
}
FINDING_KIND_NAMES: dict[str, str] = {
    "failed_verdict": N_("检测不合格"),
    "pre_harvest_interval": N_("未过安全间隔期采收"),
    "lab_test_needed": N_("快检阳性，需实验室检测"),
}
FINDING_STATUS_NAMES: dict[str, str] = {
    "open": N_("待处理"),
    "action_recorded": N_("已整改待核查"),
    "closed": N_("已关闭"),
}
FINDING_STEP_NAMES: dict[str, str] = {
    "opened": N_("立案"),
    "action": N_("整改措施"),
    "closed": N_("核查关闭"),
    "reopened": N_("重新立案"),
}
CERTIFICATION_STATUS_NAMES: dict[str, str] = {
    "valid": N_("有效"),
    "expired": N_("已过期"),
    "not_yet_valid": N_("尚未生效"),
}


def name_in(names: dict[str, str], value: str) -> str:
    """``value``'s name from one of the tables above, in the current language; an unknown value as it is."""
    return gettext(names[value]) if value in names else value


def note_text(note: str | None) -> str | None:
    """A clause row's note in the current language; a note not known here is returned as it is."""
    if note is None:
        return None
    if note in ROW_NOTES:
        return gettext(ROW_NOTES[note])
    if found := _UNIT_NOTE.match(note):
        units = {"result": found["result"], "limit": found["limit"]}
        return gettext("结果单位 %(result)s 无法与限量单位 %(limit)s 比较", **units)
    if found := _TEXT_LIMIT_NOTE.match(note):
        return gettext("限量 %(limit)s 无法自动判定", limit=found["limit"])
    if found := _BASIS_NOTE.match(note):
        result, limit = name_in(MEASURE_BASIS_NAMES, found["result"]), name_in(MEASURE_BASIS_NAMES, found["limit"])
        return gettext("结果%(result)s，限量%(limit)s：计量基础不同，未判定", result=result, limit=limit)
    return note


def row_view(row: rules.Row) -> dict[str, Any]:
    limit = row.limit
    m = row.measurement
    zh, en = (limit.parameter_zh, limit.parameter_en) if limit else parameter_names(row.parameter)
    return {
        "standard": limit.standard if limit else None,
        "edition": limit.edition if limit else None,
        "mandatory": limit.mandatory if limit else None,
        "binding": limit.binding if limit else None,
        "clause": limit.clause if limit else None,
        "parameter": row.parameter,
        "parameter_zh": zh,
        "parameter_en": en,
        "comparator": limit.comparator if limit else None,
        "limit": rules.format_decimal(limit.limit_value) if limit else None,
        "limit_text": limit.limit_text if limit else None,
        "unit": limit.unit if limit else None,
        "provisional": row.provisional,
        "value": rules.format_decimal(row.value),
        "value_unit": row.value_unit,
        "not_detected": bool(m and m.not_detected),
        "below_loq": bool(m and m.below_loq),
        "loq": rules.format_decimal(m.loq) if m else None,
        "basis": limit.basis if limit else None,
        "result_basis": m.basis if m else None,
        "grading": row.grading,
        "temporary_mrl": bool(limit and limit.temporary_mrl),
        "report_no": m.report_no if m else None,
        # The sampling date of the result judged, and the dates whose editions put the limit in force.
        "sampled_on": m.sampled_on.isoformat() if m and m.sampled_on else None,
        "edition_dates": [d.isoformat() for d in row.dates],
        "verdict": row.verdict,
        "governing": row.governing,
        "note": row.note,
        "review": (
            {"decision": row.review.decision, "basis": row.review.basis, "seq": row.review.seq,
             "reviewer": row.review.reviewer}
            if row.review
            else None
        ),
    }  # fmt: skip


def local_moment(moment: dt.datetime) -> str:
    """A moment for people, in ISO 8601 in China time: its first ten characters are the date a
    reader in Xianning would give it (22:30 UTC on the 27th is the 28th there).

    A moment too close to the ends of the calendar to move keeps the offset it has.
    """
    try:
        return clock.to_china(moment).isoformat()
    except (OverflowError, ValueError):
        return moment.isoformat()


def interval_view(check: timing.IntervalCheck) -> dict[str, Any]:
    """One pre-harvest check; its moments in China time, the dates the desk and the PDF print.

    The breach itself was decided on the instants (``timing.check_intervals``), not on these dates.
    """
    return {
        "pesticide": check.use.name,
        "registration_no": check.use.registration_no,
        "applied_at": local_moment(check.use.applied_at),
        "phi_days": check.use.phi_days,
        "safe_from": local_moment(check.safe_from),
        "harvested_at": local_moment(check.harvested_at),
        "planting_seq": check.use.planting_seq,
        "harvest_seq": check.harvest_seq,
        "breached": check.breached,
        "days_short": check.days_short,
    }


WARNING_TEXTS: dict[str, str] = {
    retests.RETEST_AFTER_WINDOW: N_("复检申请晚于期限 %(deadline)s（被告知结果后7个工作日内）"),
    retests.NOTIFIED_UNKNOWN: N_("未记录生产者被告知首次检测结果的时间，无法核对复检期限"),
}


def report_facts(inspection: Inspection, evaluation: Evaluation) -> dict[str, Any]:
    """A report's type, 抽样单, lab, flags and 复检 links, JSON-safe, in machine values (what a stored
    verdict keeps); ``localized_report`` adds the names and messages for the reader."""
    return {
        "type": inspection.type or report_types.COMMISSIONED,
        "sampling": retests.sampling_view(inspection.sampling),
        "lab_org": labs.lab_view(inspection.lab_org),
        "flags": evaluation.flags.get(inspection.id, []),
        "retest_of": inspection.retest_of_id,
        "superseded": inspection.id in evaluation.superseded,
        "notified_at": _utc(inspection.notified_at) if inspection.notified_at else None,
        "requested_at": _utc(inspection.requested_at) if inspection.requested_at else None,
        "retest_deadline": inspection.retest_deadline.isoformat() if inspection.retest_deadline else None,
        "warnings": list(inspection.warnings or []),
        # A 快检's positive parameters (it gives no verdict; each asks for a laboratory test).
        "positives": [p for no, p in evaluation.rapid_positives if no == inspection.report_no]
        if inspection.type == report_types.RAPID
        else [],
    }


def localized_report(entry: dict[str, Any]) -> dict[str, Any]:
    """A report entry (``report_facts`` keys) for the reader: type and stage names, flag messages,
    warnings as sentences. A verdict stored before reports had types reads as a 委托检验."""
    entry = dict(entry)
    entry.setdefault("type", report_types.COMMISSIONED)
    entry["type_name"] = name_in(report_types.REPORT_TYPES, entry["type"])
    sampling = entry.get("sampling")
    if sampling:
        entry["sampling"] = {**sampling, "stage_name": name_in(report_types.SAMPLING_STAGES, sampling["stage"])}
    else:
        entry["sampling"] = None
    entry.setdefault("lab_org", None)
    lab = entry["lab_org"]
    entry["flags"] = [
        {**f, "message": labs.flag_message(f, lab, parameter_names(f["parameter"])[0] or f["parameter"])}
        for f in entry.get("flags") or []
    ]
    entry.setdefault("retest_of", None)
    entry.setdefault("superseded", False)
    entry.setdefault("notified_at", None)
    entry.setdefault("requested_at", None)
    entry.setdefault("retest_deadline", None)
    deadline = entry["retest_deadline"] or ""
    entry["warnings"] = [
        gettext(WARNING_TEXTS[w], deadline=deadline) if w in WARNING_TEXTS else w for w in entry.get("warnings") or []
    ]
    return entry


def inspection_view(inspection: Inspection, evaluation: Evaluation, opened: list[Finding]) -> dict[str, Any]:
    """A recorded test report with the verdict it led to and the findings it opened."""
    return {
        "id": inspection.id,
        "batch_id": inspection.batch_id,
        "report_no": inspection.report_no,
        "lab": inspection.lab,
        "sampled_at": inspection.sampled_at,
        "tested_at": inspection.tested_at,
        "results": inspection.results,
        "verdict": evaluation.overall.verdict,
        "findings_opened": [f.id for f in opened],
        **localized_report(json.loads(json.dumps(report_facts(inspection, evaluation)))),
    }


def finding_view(finding: Finding) -> dict[str, Any]:
    return finding_views([finding])[0]


def finding_views(findings: Sequence[Finding]) -> list[dict[str, Any]]:
    """Each finding with its steps' users and organizations: three queries however many findings
    (their steps are loaded by the caller's query, or one query more)."""
    users = {s.user_id for f in findings for s in f.steps if s.user_id}
    orgs = {s.org_id for f in findings for s in f.steps if s.org_id}
    batch_ids = {f.batch_id for f in findings}
    # Keyed by id; a step with no user (or org) looks up None and finds nothing.
    usernames: dict[int | None, str] = (
        dict(db.session.execute(select(User.id, User.username).where(User.id.in_(users))).all()) if users else {}
    )
    org_codes: dict[int | None, str] = (
        dict(db.session.execute(select(Organization.id, Organization.code).where(Organization.id.in_(orgs))).all())
        if orgs
        else {}
    )
    lot_codes: dict[int, str] = (
        dict(db.session.execute(select(Batch.id, Batch.lot_code).where(Batch.id.in_(batch_ids))).all())
        if batch_ids
        else {}
    )
    return [
        {
            "id": finding.id,
            "batch_id": finding.batch_id,
            "lot_code": lot_codes.get(finding.batch_id),
            "kind": finding.kind,
            "subject": finding.subject,
            "subject_text": subject_text(finding.kind, finding.subject, finding.detail),
            "status": finding.status,
            "opened_at": finding.opened_at,
            "detail": finding.detail,
            "steps": [
                {
                    "action": s.action,
                    "note": s.note,
                    "user": usernames.get(s.user_id),
                    "org": org_codes.get(s.org_id),
                    "at": s.at,
                }
                for s in finding.steps
            ],
        }
        for finding in findings
    ]


def _utc(moment: dt.datetime) -> str:
    """A moment in UTC, ISO 8601: one spelling whether it was just given (+08:00) or read back (UTC)."""
    try:
        return moment.astimezone(dt.UTC).isoformat()
    except (OverflowError, ValueError):  # at the very ends of the calendar: as it is
        return moment.isoformat()


def verdict_result(evaluation: Evaluation) -> dict[str, Any]:
    """What the pages show of a verdict, JSON-safe: what a stored verdict holds (``BatchVerdict.result``).

    Built the same way whether it is stored or shown as computed in memory, so a page reads the
    same either way. Beyond the clause rows as the API shows them, each row keeps its report's lab
    and test moment (the consumer page lists them), and the batch's own date (harvest, production
    or creation) on which its certifications are judged.
    """
    on, basis = reference_date(evaluation.batch, evaluation.journey)
    rows = []
    for row in evaluation.rows:
        m = row.measurement
        rows.append(
            {
                **row_view(row),
                "measured": m is not None,
                "lab": m.lab if m else None,
                "tested_at": _utc(m.tested_at) if m and m.tested_at else None,
            }
        )
    result = {
        "verdict": evaluation.overall.verdict,
        "provisional_basis": evaluation.overall.provisional_basis,
        "reasons": evaluation.overall.reasons,
        "evaluated_on": evaluation.evaluated_on.isoformat(),
        "basis": evaluation.basis,
        "reference_date": on.isoformat(),
        "reference_basis": basis,
        "standards": evaluation.standards,
        "forms": evaluation.forms,
        "form_known": bool(evaluation.forms) or not PRODUCTS[evaluation.batch.product_key].forms,
        "executive_standard": evaluation.executive,
        "suggested_standards": evaluation.suggested,
        "rows": rows,
        "inspections": [
            {
                "id": i.id,
                "report_no": i.report_no,
                "lab": i.lab,
                "sampled_at": _utc(i.sampled_at),
                "tested_at": _utc(i.tested_at),
                **report_facts(i, evaluation),
            }
            for i in evaluation.inspections
        ],
        "pre_harvest": [interval_view(c) for c in evaluation.pre_harvest],
    }
    # Through JSON once, so a verdict computed now has exactly the shape of one read back.
    return json.loads(json.dumps(result))


def form_note(batch: Batch, result: dict[str, Any]) -> str | None:
    """Why every form's requirements bind, when the batch's form is not known; None otherwise."""
    if result.get("form_known", True):
        return None
    return "form not known: held to the requirements of every form of its product (no form filter)"


def compliance_view(batch: Batch, result: dict[str, Any], findings: list[Finding]) -> dict[str, Any]:
    """The compliance view of a batch from its verdict's result (stored or computed) and its findings."""
    result = copy.deepcopy(result)  # callers adjust the view for display; the stored row stays as it is
    return {
        "batch_id": batch.id,
        "lot_code": batch.lot_code,
        "product": batch.product_key,
        "verdict": result["verdict"],
        "provisional_basis": result["provisional_basis"],
        "reasons": result["reasons"],
        "evaluated_on": dt.date.fromisoformat(result["evaluated_on"]),
        "basis": result["basis"],
        "standards": result["standards"],
        "forms": result.get("forms", []),
        "form_known": result.get("form_known", True),
        "form_note": form_note(batch, result),
        "executive_standard": result.get("executive_standard"),
        "suggested_standards": result.get("suggested_standards", []),
        "rows": result["rows"],
        "inspections": [
            {
                **localized_report(i),
                "sampled_at": dt.datetime.fromisoformat(i["sampled_at"]),
                "tested_at": dt.datetime.fromisoformat(i["tested_at"]),
            }
            for i in result["inspections"]
        ],
        "findings": finding_views(findings),
        "pre_harvest": result["pre_harvest"],
    }


def certification_view(cert: Certification, status: str | None = None) -> dict[str, Any]:
    holder = db.session.get(Organization, cert.holder_org_id)
    names = in_each_language(lambda: kind_name(cert.kind))
    view = {
        "id": cert.id,
        "kind": cert.kind,
        "kind_zh": names["zh"],
        "kind_en": names["en"],
        "number": cert.number,
        "issuer": cert.issuer,
        "holder": holder.code if holder else None,
        "holder_name": holder.name if holder else None,
        "product": cert.product_key,
        "site": cert.site_id,
        "scope": cert.scope,
        "valid_from": cert.valid_from,
        "valid_to": cert.valid_to,
    }
    if status is not None:
        view["status"] = status
    return view
