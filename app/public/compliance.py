"""The consumer page's compliance summary: the verdict, the tests and the valid certifications."""

from __future__ import annotations

import datetime as dt
from typing import Any

from app import clock
from app.batches.models import Batch
from app.compliance import rules, verdicts
from app.compliance.certifications import batch_certifications, kind_name
from app.i18n import in_each_language


def _kind_names(kind: str) -> dict[str, str]:
    """``kind_zh`` and ``kind_en``: a certification kind's name in both languages."""
    return {f"kind_{lang}": name for lang, name in in_each_language(lambda: kind_name(kind)).items()}


def public_summary(batch: Batch) -> dict[str, Any]:
    """What a consumer may read about a batch's tests and certifications; JSON-safe.

    Only the overall verdict, which parameters were tested (when, by which lab, with what
    outcome) and the certifications valid on the batch's date. A failed batch reads as failed.
    Read from the batch's stored verdict; nothing is judged or written here.
    """
    verdict = verdicts.current(batch)
    result = verdict.result
    per_parameter: dict[str, dict[str, Any]] = {}
    for row in result["rows"]:
        if not row["measured"] or row["verdict"] == rules.NO_LIMIT:
            continue
        entry = per_parameter.get(row["parameter"])
        outcome = {rules.PASS: "pass", rules.FAIL: "fail", rules.NOT_TESTED: "inconclusive"}[row["verdict"]]
        severity = {"pass": 0, "inconclusive": 1, "fail": 2}
        if entry is not None and severity[entry["verdict"]] >= severity[outcome]:
            continue
        tested_at = row["tested_at"]
        per_parameter[row["parameter"]] = {
            "parameter": row["parameter"],
            "name_zh": row["parameter_zh"],
            "name_en": row["parameter_en"] or row["parameter"],
            "verdict": outcome,
            "tested_at": clock.china_date(dt.datetime.fromisoformat(tested_at)).isoformat() if tested_at else None,
            "lab": row["lab"],
            "report_no": row["report_no"],
        }
    certifications = [
        {
            "kind": bc.certification.kind,
            **_kind_names(bc.certification.kind),
            "number": bc.certification.number,
            "issuer": bc.certification.issuer,
            "valid_to": bc.certification.valid_to.isoformat() if bc.certification.valid_to else None,
        }
        for bc in batch_certifications(batch, reference=verdict.reference)
        if bc.status == "valid"
    ]
    return {
        "verdict": result["verdict"],
        "compliant": result["verdict"] == rules.PASS,
        "provisional_basis": result["provisional_basis"],
        "evaluated_on": result["evaluated_on"],
        "tests": list(per_parameter.values()),
        "certifications": certifications,
        # The bound standards in the edition in force on evaluated_on: superseded editions and
        # ones not yet in force stay bound (for older dates) but do not apply to this batch.
        "standards_in_force": sorted(s["standard"] for s in result["standards"] if s["applied"]),
    }
