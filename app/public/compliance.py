"""The consumer page's compliance summary: the verdict, the tests and the valid certifications."""

from __future__ import annotations

from typing import Any

from app.batches.models import Batch
from app.compliance import rules
from app.compliance.certifications import CERTIFICATION_KINDS, batch_certifications
from app.compliance.evaluation import evaluate_batch
from app.compliance.standards import parameter_names


def public_summary(batch: Batch) -> dict[str, Any]:
    """What a consumer may read about a batch's tests and certifications; JSON-safe.

    Only the overall verdict, which parameters were tested (when, by which lab, with what
    outcome) and the certifications valid on the batch's date. A failed batch reads as failed.
    """
    evaluation = evaluate_batch(batch)
    per_parameter: dict[str, dict[str, Any]] = {}
    for row in evaluation.rows:
        m = row.measurement
        if m is None or row.verdict == rules.NO_LIMIT:
            continue
        entry = per_parameter.get(row.parameter)
        verdict = {rules.PASS: "pass", rules.FAIL: "fail", rules.NOT_TESTED: "inconclusive"}[row.verdict]
        severity = {"pass": 0, "inconclusive": 1, "fail": 2}
        if entry is not None and severity[entry["verdict"]] >= severity[verdict]:
            continue
        zh, en = (row.limit.parameter_zh, row.limit.parameter_en) if row.limit else parameter_names(row.parameter)
        per_parameter[row.parameter] = {
            "parameter": row.parameter,
            "name_zh": zh,
            "name_en": en or row.parameter,
            "verdict": verdict,
            "tested_at": rules.local_date(m.tested_at).isoformat() if m.tested_at else None,
            "lab": m.lab,
            "report_no": m.report_no,
        }
    certifications = [
        {
            "kind": bc.certification.kind,
            "kind_zh": CERTIFICATION_KINDS[bc.certification.kind][0],
            "kind_en": CERTIFICATION_KINDS[bc.certification.kind][1],
            "number": bc.certification.number,
            "issuer": bc.certification.issuer,
            "valid_to": bc.certification.valid_to.isoformat() if bc.certification.valid_to else None,
        }
        for bc in batch_certifications(batch, evaluation.journey)
        if bc.status == "valid"
    ]
    return {
        "verdict": evaluation.overall.verdict,
        "compliant": evaluation.overall.verdict == rules.PASS,
        "provisional_basis": evaluation.overall.provisional_basis,
        "evaluated_on": evaluation.evaluated_on.isoformat(),
        "tests": list(per_parameter.values()),
        "certifications": certifications,
        # The bound standards in the edition in force on evaluated_on: superseded editions and
        # ones not yet in force stay bound (for older dates) but do not apply to this batch.
        "standards_in_force": sorted(s["standard"] for s in evaluation.standards if s["applied"]),
    }
