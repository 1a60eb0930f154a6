"""The consumer page's verdict and tests: what was found, in plain words, with nothing claimed beyond it.

Read from the batch's stored verdict (``compliance.verdicts.current``); nothing is judged or
written here. What the page may say (invariant 10):

- the verdict comes first, with its reasons: each failed item with its value, its limit and its
  unit; a pre-harvest interval broken, naming the pesticide and the days short; a detected
  residue with no limit on record, awaiting an inspector (待判定); what was not tested;
- every tested item is listed, each with its value, the limit that governs it and its unit, or
  "no limit on record";
- a pass reads 「所检项目符合……」: the tested items met their limits. It never says that every
  required item was tested: the catalog nowhere records that its list for a product and form is
  complete, so nothing here can know it;
- unverified limits (the catalog's ``verified: false``) are marked per row and explained once;
  an official temporary MRL (临时限量, ``temporary_mrl``) is marked as such, per row;
- certifications are listed as valid only when they are valid on the day the page is read.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select

from app import clock
from app.batches.models import Batch
from app.catalog.models import Requirement, Standard
from app.catalog.parameters import known_keys, parameter_key
from app.compliance import rules, verdicts
from app.compliance.certifications import batch_certifications, kind_name
from app.compliance.standards import parameter_names
from app.db import db
from app.i18n import in_each_language
from app.public.facts import Translate, number, translator

# A row's verdict as the page names it. ``needs_review`` (待判定) is a detected residue with no
# limit on record: never a pass, and the batch cannot read as compliant while one is open.
NEEDS_REVIEW = "needs_review"
# A grading item (stem length, soluble solids) reads as a grade reached or not, never 合格/不合格.
ITEM_VERDICTS = ("fail", NEEDS_REVIEW, "inconclusive", "no_limit", "pass", rules.GRADE_MET, rules.GRADE_NOT_MET)
_ITEM_OF_ROW = {
    rules.PASS: "pass",
    rules.FAIL: "fail",
    rules.NOT_TESTED: "inconclusive",
    rules.NO_LIMIT: "no_limit",
    NEEDS_REVIEW: NEEDS_REVIEW,
    rules.GRADE_MET: rules.GRADE_MET,
    rules.GRADE_NOT_MET: rules.GRADE_NOT_MET,
}
# Which of a parameter's rows the page shows: the worst, then the governing one.
_SEVERITY = {
    "fail": 4, NEEDS_REVIEW: 3, "inconclusive": 2, "pass": 1, "no_limit": 0, rules.GRADE_NOT_MET: 0, rules.GRADE_MET: 0,
}  # fmt: skip
_SYMBOLS = {"<=": "≤", "<": "<", ">=": "≥", ">": ">", "==": "="}
# How many untested items the page names before it says "and N more".
NAMED_MISSING = 10
# Between a figure and its unit (and a comparator and its figure): a phone never breaks "0.5 mg/kg".
NBSP = "\u00a0"


def _figure(value: Any, unit: str | None) -> str:
    return f"{number(value)}{NBSP}{unit}" if unit else number(value)


# A catalog note in an English name ("glyphosate (pesticide identity inferred from ...)"); a
# short one such as "(Pb)" or "(以F计)" stays.
_NOTE = re.compile(r"\s*\((?=[^)]{16,}\)).*?\)\s*")


def english_name(name: str | None) -> str | None:
    """The catalog's English name of a parameter without the researcher's notes in it."""
    return _NOTE.sub(" ", name).strip() or name if name else None


def _name(row: dict[str, Any], lang: str) -> str:
    zh, en = row.get("parameter_zh") or row["parameter"], english_name(row.get("parameter_en"))
    return en if lang == "en" and en else zh


def limit_text(row: dict[str, Any], _: Translate) -> str | None:
    """The limit as a label prints it: ≤ 0.5 mg/kg, ≥ 21 %, 13-17 mm, 不得检出; None when there is none."""
    comparator, unit = row.get("comparator"), row.get("unit")
    if comparator == "not_detected":
        return _("不得检出")
    if comparator in _SYMBOLS and row.get("limit") is not None:
        return f"{_SYMBOLS[comparator]}{NBSP}{_figure(row['limit'], unit)}"
    if row.get("limit_text"):
        return f"{row['limit_text']}{NBSP}{unit}" if unit else str(row["limit_text"])
    return None


def result_text(row: dict[str, Any], _: Translate) -> str:
    """The result as measured: 0.8 mg/kg, or 未检出（检出限 0.01 mg/kg）."""
    unit = row.get("value_unit")
    if row.get("not_detected"):
        if row.get("value") is None:
            return _("未检出")
        return _("未检出（检出限 %(lod)s）", lod=_figure(row["value"], unit))
    if row.get("value") is None:
        return "—"
    return _figure(row["value"], unit)


def _temporary(rows: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """(standard, parameter) of the rows whose limit the catalog marks as 临时限量 (one query).

    A row stored before the verdict carried the flag is matched to its requirement by standard,
    parameter, comparator and limit.
    """
    codes = {r["standard"] for r in rows if r.get("standard") and "temporary_mrl" not in r}
    marked = {(r["standard"], r["parameter"]) for r in rows if r.get("temporary_mrl")}
    if not codes:
        return marked
    found = db.session.execute(
        select(Standard.code, Requirement.parameter_key, Requirement.comparator, Requirement.limit_value)
        .join(Requirement, Requirement.standard_id == Standard.id)
        .where(Standard.code.in_(codes), Requirement.temporary_mrl.is_(True))
    ).all()
    limits = {(code, key, comparator, rules.format_decimal(limit)) for code, key, comparator, limit in found}
    for r in rows:
        if (r.get("standard"), r["parameter"], r.get("comparator"), r.get("limit")) in limits:
            marked.add((r["standard"], r["parameter"]))
    return marked


def _item(row: dict[str, Any], lang: str, _: Translate, temporary: set[tuple[str, str]]) -> dict[str, Any]:
    tested_at = row.get("tested_at")
    outcome = _ITEM_OF_ROW.get(row["verdict"], "inconclusive")
    return {
        "parameter": row["parameter"],
        "name": _name(row, lang),
        "name_zh": row.get("parameter_zh") or row["parameter"],
        "name_en": english_name(row.get("parameter_en")) or row["parameter"],
        "verdict": outcome,
        "result": result_text(row, _),
        "value": row.get("value"),
        "value_unit": row.get("value_unit"),
        "not_detected": bool(row.get("not_detected")),
        "limit": limit_text(row, _) if row.get("standard") else None,
        "unit": row.get("unit"),
        "standard": row.get("standard"),
        "provisional": bool(row.get("provisional")) and row.get("standard") is not None,
        "temporary_mrl": (row.get("standard"), row["parameter"]) in temporary,
        "grading": bool(row.get("grading")),
        "tested_at": clock.china_date(dt.datetime.fromisoformat(tested_at)).isoformat() if tested_at else None,
        "lab": row.get("lab"),
        "report_no": row.get("report_no"),
    }


def tested_items(rows: list[dict[str, Any]], lang: str, _: Translate) -> list[dict[str, Any]]:
    """Every measured parameter once, by the row that speaks for it (the worst, then the governing)."""
    measured = [r for r in rows if r.get("measured")]
    temporary = _temporary(measured)
    chosen: dict[str, dict[str, Any]] = {}
    for row in measured:
        item = _item(row, lang, _, temporary)
        held = chosen.get(row["parameter"])
        rank = (_SEVERITY[item["verdict"]], bool(row.get("governing")))
        if held is None or rank > (_SEVERITY[held["verdict"]], held["_governing"]):
            chosen[row["parameter"]] = {**item, "_governing": bool(row.get("governing"))}
    items = [{k: v for k, v in item.items() if k != "_governing"} for item in chosen.values()]
    # Failures first, so a phone shows them before what passed.
    return sorted(items, key=lambda i: -_SEVERITY[i["verdict"]])


def _fail_reason(item: dict[str, Any], row: dict[str, Any], _: Translate) -> str:
    where = {"item": item["name"], "value": item["result"], "limit": item["limit"] or "", "standard": item["standard"]}
    if row.get("comparator") in rules.UPPER:
        return _("%(item)s %(value)s，超过限量 %(limit)s（%(standard)s）。", **where)
    if row.get("comparator") in rules.LOWER:
        return _("%(item)s %(value)s，低于最低要求 %(limit)s（%(standard)s）。", **where)
    if row.get("comparator") == "not_detected":
        return _("%(item)s 检出 %(value)s，%(standard)s 要求不得检出。", **where)
    return _("%(item)s %(value)s，不符合要求 %(limit)s（%(standard)s）。", **where)


def catalog_english(names: Iterable[str], lang: str) -> dict[str, str]:
    """English names, from the catalog, of substances recorded by their Chinese names (a pesticide a
    farmer sprayed, 吡虫啉 -> imidacloprid): one query, on English pages only; unknown names are left out."""
    if lang != "en":
        return {}
    known = known_keys()
    keys = {name: parameter_key(name) for name in set(names)}
    keys = {name: key for name, key in keys.items() if key in known}
    if not keys:
        return {}
    english = dict(
        db.session.execute(
            select(Requirement.parameter_key, Requirement.parameter_en)
            .where(Requirement.parameter_key.in_(set(keys.values())), Requirement.parameter_en.is_not(None))
            .order_by(Requirement.id.desc())
        ).all()
    )
    return {name: english_name(english[key]) or name for name, key in keys.items() if key in english}


def _names(items: list[str], lang: str) -> str:
    return (", " if lang == "en" else "、").join(items)


def verdict_block(result: dict[str, Any], items: list[dict[str, Any]], lang: str, _: Translate) -> dict[str, Any]:
    """The verdict and why, in plain words: what the page and the JSON show first."""
    verdict = result["verdict"]
    reasons: list[dict[str, Any]] = []
    rows_by_parameter: dict[str, list[dict[str, Any]]] = {}
    for row in result["rows"]:
        rows_by_parameter.setdefault(row["parameter"], []).append(row)

    def failing_row(item: dict[str, Any]) -> dict[str, Any]:
        rows = [r for r in rows_by_parameter[item["parameter"]] if r["verdict"] == rules.FAIL]
        return next((r for r in rows if r.get("standard") == item["standard"]), rows[0])

    for item in items:
        if item["verdict"] == "fail":
            reasons.append({"kind": "fail", "parameter": item["parameter"],
                            "text": _fail_reason(item, failing_row(item), _)})  # fmt: skip
    breaches = [c for c in result.get("pre_harvest") or [] if c.get("breached")]
    pesticides = catalog_english((c["pesticide"] for c in breaches), lang)
    for check in breaches:
        text = _(
            "%(pesticide)s施用后未过 %(days)s 天的安全间隔期就采收了，提前了 %(short)s 天。",
            pesticide=pesticides.get(check["pesticide"], check["pesticide"]), days=check.get("phi_days", "?"),
            short=check.get("days_short", "?"),
        )  # fmt: skip
        if all(r["text"] != text for r in reasons):
            reasons.append({"kind": "pre_harvest", "parameter": None, "text": text})
    for item in items:
        if item["verdict"] == NEEDS_REVIEW:
            text = _("%(item)s 检出 %(value)s，但没有可依据的限量记录，待检验人员判定。",
                     item=item["name"], value=item["result"])  # fmt: skip
            reasons.append({"kind": NEEDS_REVIEW, "parameter": item["parameter"], "text": text})
    for item in items:
        if item["verdict"] == "inconclusive":
            text = _("%(item)s 的检测结果（%(value)s）无法对照限量 %(limit)s 判定。",
                     item=item["name"], value=item["result"], limit=item["limit"] or "—")  # fmt: skip
            reasons.append({"kind": "inconclusive", "parameter": item["parameter"], "text": text})
    missing = []
    for row in result["rows"]:
        name = _name(row, lang)
        if not row.get("measured") and row["verdict"] == rules.NOT_TESTED and name not in missing:
            missing.append(name)
    if not result.get("inspections"):
        reasons.append({"kind": "no_tests", "parameter": None, "text": _("尚无检测报告。")})
    elif missing:
        named = _names(missing[:NAMED_MISSING], lang)
        text = (
            _("尚未检测：%(items)s。", items=named)
            if len(missing) <= NAMED_MISSING
            else _("尚未检测：%(items)s 等 %(n)s 项。", items=named, n=len(missing))
        )
        reasons.append({"kind": "not_tested", "parameter": None, "text": text})
    titles = {rules.PASS: _("所检项目合格"), rules.FAIL: _("检测不合格")}
    summaries = {
        rules.FAIL: _("本批次有检测项目不符合标准要求，不能视为合格产品。"),
        rules.PASS: _("所检项目符合所适用标准的要求。本结论只针对下列已检测的项目。"),
    }
    return {
        "verdict": verdict,
        "title": titles.get(verdict, _("尚不能判定是否合格")),
        "summary": summaries.get(verdict, _("检测尚未完成，或有结果有待判定，本批次暂不能视为合格。")),
        "reasons": reasons,
        "missing": missing,
        "evaluated_on": result["evaluated_on"],
    }


def report_notes(result: dict[str, Any], lang: str, _: Translate) -> list[dict[str, Any]]:
    """What the page says of re-tests (复检: which conclusion stands) and rapid tests (快检: never
    合格 or 不合格), in plain words."""
    reports = result.get("inspections") or []
    by_id = {r["id"]: r for r in reports}
    names = {}
    for key in {p for r in reports for p in r.get("positives") or []}:
        zh, en = parameter_names(key)
        names[key] = (english_name(en) if lang == "en" and en else zh) or key
    notes: list[dict[str, Any]] = []
    for report in reports:
        first = by_id.get(report.get("retest_of"))
        if first is not None:
            text = _(
                "报告 %(first)s 的结果已经复检：复检由另一家检测机构（%(lab)s）进行，报告 %(retest)s。"
                "现以复检结论为准，首次检测的结论不再作为依据。",
                first=first["report_no"], lab=report["lab"], retest=report["report_no"],
            )  # fmt: skip
            notes.append({"kind": "retest", "report_no": report["report_no"], "text": text})
        if report.get("type") == "rapid":
            positives = [names.get(p, p) for p in report.get("positives") or []]
            if positives:
                text = _(
                    "快检（报告 %(no)s）：%(items)s 初筛呈阳性，需送实验室检测确认。快检只是初筛，不判定合格或不合格。",
                    no=report["report_no"], items=_names(positives, lang),
                )  # fmt: skip
            else:
                text = _(
                    "快检（报告 %(no)s）初筛未发现问题。快检只是初筛，不判定合格或不合格。", no=report["report_no"]
                )
            notes.append({"kind": "rapid", "report_no": report["report_no"], "text": text})
    return notes


def _kind_names(kind: str) -> dict[str, str]:
    """``kind_zh`` and ``kind_en``: a certification kind's name in both languages."""
    return {f"kind_{lang}": name for lang, name in in_each_language(lambda: kind_name(kind)).items()}


def valid_certifications(batch: Batch, today: dt.date) -> list[dict[str, Any]]:
    """The certifications of the batch's producer or custodian for its product that are valid today."""
    return [
        {
            "kind": bc.certification.kind,
            **_kind_names(bc.certification.kind),
            "number": bc.certification.number,
            "issuer": bc.certification.issuer,
            "valid_to": bc.certification.valid_to.isoformat() if bc.certification.valid_to else None,
        }
        for bc in batch_certifications(batch, reference=(today, "today"))
        if bc.status == "valid"
    ]


def public_summary(
    batch: Batch, lang: str = "zh", _: Translate | None = None, today: dt.date | None = None
) -> dict[str, Any]:
    """What a consumer may read about a batch's verdict, tests and certifications (valid ``today``,
    China time, by default the day it is asked); JSON-safe."""
    _ = _ or translator()
    today = today or clock.china_date(clock.now())
    result = verdicts.current(batch).result
    items = tested_items(result["rows"], lang, _)
    listed = [i for i in items if i["standard"]]
    return {
        "verdict": result["verdict"],
        "compliant": result["verdict"] == rules.PASS,
        "block": verdict_block(result, items, lang, _),
        "provisional_basis": result["provisional_basis"],
        # Any listed item judged against a limit not yet read in an official text (shown once).
        "unverified_limits": any(i["provisional"] for i in listed),
        "temporary_limits": any(i["temporary_mrl"] for i in listed),
        "evaluated_on": result["evaluated_on"],
        "tests": items,
        "reports": report_notes(result, lang, _),
        "certifications": valid_certifications(batch, today),
        "certifications_on": today.isoformat(),
        # The bound standards in the edition in force on evaluated_on: superseded editions and
        # ones not yet in force stay bound (for older dates) but do not apply to this batch.
        "standards_in_force": sorted(s["standard"] for s in result["standards"] if s["applied"]),
    }
