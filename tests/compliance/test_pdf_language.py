"""The compliance PDF takes its words from Babel: Chinese by default, English when asked."""

from __future__ import annotations

from app.batches import service as batches
from app.compliance import certifications, findings, pdf, presenters, verdicts
from tests.compliance.factories import post_inspection
from tests.compliance.test_pdf import pdf_text


def _report(batch, lang):
    verdict = verdicts.current(batch)
    view = presenters.compliance_view(batch, verdict.result, findings.findings_of(batch))
    chain = batches.verify_batch(batch)
    found = certifications.batch_certifications(batch, reference=verdict.reference)
    return pdf_text(pdf.render(batch, view, chain, found, lang=lang))


def test_the_report_is_rendered_in_the_language_asked_for(client, auth, make_batch):
    inspector = auth("inspector")
    batch = make_batch()
    results = [{"parameter": "fluoride", "value": "420", "unit": "mg/kg"}]
    assert post_inspection(client, inspector, batch.id, results, report_no="XN-LANG-1").status_code == 201

    chinese = _report(batch, "zh")
    for words in ("咸宁优品溯源合规检测报告", "Compliancereport", "综合判定：不合格FAIL", "逐条判定", "问题处理记录"):
        assert words in chinese, words
    english = _report(batch, "en")
    for words in ("YoupinTracecompliancereport", "Overallverdict:FailFAIL", "Clausebyclause", "Findingsandfollow-up"):
        assert words in english, words
    assert "逐条判定" not in english and "问题处理记录" not in english
