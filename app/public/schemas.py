"""The consumer page's JSON twin: public fields only, never an internal id."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields

from app.catalog.schemas import StandardRef
from app.orgs.schemas import OrgRef


class FactOut(Schema):
    key = fields.String(required=True, metadata={"description": "Machine name of the fact, e.g. quantity, route."})
    label = fields.String(required=True, metadata={"description": "The fact's name in the response language."})
    value = fields.String(required=True, metadata={"description": "The value in plain words, units included."})
    corrected = fields.Boolean(required=True, metadata={"description": "Changed by a later amendment."})


class CorrectionOut(Schema):
    reason = fields.String(
        required=True, metadata={"description": "Why the record was corrected, as its recorder wrote it."}
    )
    date = fields.String(required=True, metadata={"description": "The day of the correction in China time, localized."})


class JourneyEntryOut(Schema):
    seq = fields.Integer(required=True, metadata={"description": "Position in the batch's chain."})
    stage = fields.String(required=True)
    stage_name = fields.String(required=True)
    system = fields.Boolean(
        required=True, metadata={"description": "A record such as a transfer or inspection, not a stage."}
    )
    occurred_at = fields.AwareDateTime(required=True)
    date = fields.String(required=True, metadata={"description": "occurred_at's date in China time, localized."})
    place = fields.String(allow_none=True)
    by = fields.String(required=True, metadata={"description": "Public name of the organization that recorded it."})
    corrected = fields.Boolean(required=True)
    corrections = fields.List(
        fields.Nested(CorrectionOut), required=True, metadata={"description": "Each amendment's reason and date."}
    )
    facts = fields.List(fields.Nested(FactOut), required=True)


class StandardRefOut(StandardRef):
    """A standard as a consumer sees it: code, title and level name in the page's language, no id."""

    title = fields.String(required=True)
    level_name = fields.String(required=True)
    executive = fields.Boolean(required=True, metadata={"description": "The 执行标准 printed on the label."})

    class Meta:
        fields = ("code", "title", "level", "level_name", "mandatory", "executive")


class ChainOut(Schema):
    """Whether the records are as written: it proves they were not changed, not that they are complete."""

    valid = fields.Boolean(required=True)
    events = fields.Integer(required=True)
    head_hash = fields.String(required=True)
    first_invalid_seq = fields.Integer(allow_none=True)


class AnchorOut(Schema):
    checkpoint = fields.Integer(required=True, metadata={"description": "the latest checkpoint's id"})
    created_at = fields.AwareDateTime(required=True)
    time = fields.String(required=True, metadata={"description": "created_at in China time, localized"})
    seq = fields.Integer(required=True, metadata={"description": "the chain is anchored up to this event"})
    covers_all = fields.Boolean(required=True, metadata={"description": "no event was recorded since"})


class NoticeOut(Schema):
    title = fields.String(required=True)
    text = fields.String(required=True)


class RecallOut(Schema):
    notice = fields.Dict(
        keys=fields.String(), values=fields.Nested(NoticeOut), metadata={"description": "The notice in zh and en."}
    )
    reason = fields.String(allow_none=True)
    severity = fields.String(allow_none=True)
    opened_at = fields.AwareDateTime(allow_none=True)
    date = fields.String(allow_none=True)
    lot_code = fields.String(required=True, metadata={"description": "The batch the recall was started on."})
    inherited = fields.Boolean(
        required=True, metadata={"description": "The recall was started on a batch this one came from."}
    )


class InspectionSummaryOut(Schema):
    report_no = fields.String(required=True)
    lab = fields.String(required=True)
    tested_at = fields.AwareDateTime(required=True)
    date = fields.String(required=True)
    results = fields.Integer(required=True, metadata={"description": "Number of measured parameters."})


class TestSummaryOut(Schema):
    count = fields.Integer(required=True)
    inspections = fields.List(fields.Nested(InspectionSummaryOut), required=True)


class ParameterVerdictOut(Schema):
    """One tested item: its result, the limit that speaks for it (or none on record) and the outcome."""

    parameter = fields.String(required=True)
    name = fields.String(required=True, metadata={"description": "The item's name in the response language."})
    name_zh = fields.String(required=True)
    name_en = fields.String(required=True)
    verdict = fields.String(
        required=True,
        metadata={"description": "pass, fail, inconclusive, needs_review (detected, no limit on record: 待判定) "
                  "or no_limit (not detected, no limit on record)"},
    )  # fmt: skip
    result = fields.String(required=True, metadata={"description": "The result in plain words, unit included."})
    value = fields.String(allow_none=True, metadata={"description": "In value_unit; the LOD when not detected."})
    value_unit = fields.String(allow_none=True)
    not_detected = fields.Boolean(required=True)
    limit = fields.String(allow_none=True, metadata={"description": "e.g. ≤ 0.5 mg/kg; null: no limit on record"})
    unit = fields.String(allow_none=True, metadata={"description": "The limit's unit."})
    standard = fields.String(allow_none=True, metadata={"description": "The standard edition the limit is from."})
    provisional = fields.Boolean(required=True, metadata={"description": "The limit is not yet verified."})
    temporary_mrl = fields.Boolean(required=True, metadata={"description": "An official temporary MRL (临时限量)."})
    grading = fields.Boolean(required=True, metadata={"description": "A grading item: a grade, not food safety."})
    tested_at = fields.String(allow_none=True, metadata={"description": "China-time date of the test"})
    lab = fields.String(allow_none=True)
    report_no = fields.String(allow_none=True)


class CertificationRefOut(Schema):
    kind = fields.String(required=True)
    kind_zh = fields.String(required=True)
    kind_en = fields.String(required=True)
    number = fields.String(required=True)
    issuer = fields.String(required=True)
    valid_to = fields.String(allow_none=True)


class ComplianceSummaryOut(Schema):
    verdict = fields.String(required=True, metadata={"description": "pass, fail or incomplete"})
    compliant = fields.Boolean(required=True, metadata={"description": "True only when the verdict is pass."})
    provisional_basis = fields.Boolean(required=True)
    unverified_limits = fields.Boolean(
        required=True, metadata={"description": "Some listed limit is not yet verified against an official text."}
    )
    temporary_limits = fields.Boolean(required=True, metadata={"description": "Some listed limit is a 临时限量."})
    evaluated_on = fields.String(required=True)
    tests = fields.List(
        fields.Nested(ParameterVerdictOut),
        required=True,
        metadata={"description": "Every tested item, failures first, including items with no limit on record."},
    )
    standards_in_force = fields.List(
        fields.String(),
        required=True,
        metadata={"description": "codes of the bound standards in the edition in force on evaluated_on"},
    )
    certifications = fields.List(
        fields.Nested(CertificationRefOut),
        required=True,
        metadata={"description": "Only certifications valid on certifications_on, the day the page is read."},
    )
    certifications_on = fields.String(required=True, metadata={"description": "Today, China time."})


class ReasonOut(Schema):
    kind = fields.String(
        required=True,
        metadata={"description": "fail, pre_harvest, needs_review, inconclusive, not_tested or no_tests"},
    )
    parameter = fields.String(allow_none=True)
    text = fields.String(required=True, metadata={"description": "The reason in plain words."})


class VerdictOut(Schema):
    """The verdict first, and why, in plain words."""

    verdict = fields.String(required=True, metadata={"description": "pass, fail or incomplete"})
    title = fields.String(required=True)
    summary = fields.String(required=True)
    reasons = fields.List(fields.Nested(ReasonOut), required=True)
    missing = fields.List(fields.String(), required=True, metadata={"description": "Items not yet tested."})
    evaluated_on = fields.String(required=True)


class LicenceOut(Schema):
    number = fields.String(required=True, metadata={"description": "食品生产许可证编号: SC and 14 digits"})
    holder = fields.String(required=True)


class SourceLotOut(Schema):
    """A lot this one was made from (merged, split or transformed), with its public facts."""

    lot_code = fields.String(required=True)
    product = fields.String(required=True)
    producer = fields.String(required=True)
    origin_county = fields.String(required=True)
    harvested_on = fields.String(allow_none=True)
    quantity = fields.String(allow_none=True, metadata={"description": "How much of it went in, in its unit."})
    into = fields.String(required=True, metadata={"description": "The lot it went into."})
    depth = fields.Integer(required=True, metadata={"description": "1: a direct input; 2: an input's input..."})
    recalled = fields.Boolean(required=True)
    public_code = fields.String(required=True)
    public_url = fields.String(required=True, metadata={"description": "Its own consumer page."})


class StageRefOut(Schema):
    stage = fields.String(required=True)
    name = fields.String(required=True)


class CompletenessOut(Schema):
    stages = fields.List(fields.Nested(StageRefOut), required=True, metadata={"description": "The line's stages."})
    missing = fields.List(fields.Nested(StageRefOut), required=True, metadata={"description": "No record at all."})
    in_sources = fields.List(
        fields.Nested(StageRefOut), required=True, metadata={"description": "Recorded in the source lots only."}
    )


class ProductRefOut(Schema):
    key = fields.String(required=True)
    name = fields.String(required=True)
    brand_county = fields.String(required=True)


class PublicOrgOut(OrgRef):
    """An organization as a consumer sees it: its name in the page's language, nothing else."""

    class Meta:
        fields = ("name",)


class HoldOut(Schema):
    cause = fields.String(required=True, metadata={"description": "the lot whose failed verdict holds this one"})


class CommitmentOut(Schema):
    number = fields.String(required=True)
    issuer = fields.String(required=True)
    issued_on = fields.String(required=True)
    basis = fields.String(required=True)
    commitments = fields.List(fields.String(), required=True)
    came_from = fields.List(fields.String(), required=True)


class PublicBatchOut(Schema):
    verdict = fields.Nested(VerdictOut, required=True)
    lang = fields.String(required=True, metadata={"description": "zh or en: ?lang= or Accept-Language."})
    public_code = fields.String(required=True)
    public_url = fields.String(required=True)
    lot_code = fields.String(required=True)
    status = fields.String(required=True)
    product = fields.Nested(ProductRefOut, required=True)
    origin_county = fields.String(required=True)
    producer = fields.Nested(PublicOrgOut, required=True)
    produced_at = fields.AwareDateTime(allow_none=True)
    executive_standards = fields.List(
        fields.String(), required=True, metadata={"description": "The 执行标准 printed on the label."}
    )
    production_licences = fields.List(fields.Nested(LicenceOut), required=True)
    sources = fields.List(fields.Nested(SourceLotOut), required=True)
    more_sources = fields.Integer(required=True, metadata={"description": "Source lots not listed."})
    journey = fields.List(fields.Nested(JourneyEntryOut), required=True)
    completeness = fields.Nested(CompletenessOut, required=True)
    standards = fields.List(fields.Nested(StandardRefOut), required=True)
    chain = fields.Nested(ChainOut, required=True)
    anchor = fields.Nested(
        AnchorOut,
        required=True,
        allow_none=True,
        metadata={"description": "the latest signed checkpoint's cover of the chain; null when none covers it"},
    )
    recall = fields.Nested(RecallOut, allow_none=True)
    hold = fields.Nested(HoldOut, allow_none=True, metadata={"description": "set while the lot is on hold"})
    commitment_certificate = fields.Nested(
        CommitmentOut, allow_none=True, metadata={"description": "the 承诺达标合格证 issued for this batch"}
    )
    commitment_required = fields.Boolean(
        required=True, metadata={"description": "fruit, vegetables and fresh tea leaf must carry one"}
    )
    tests = fields.Nested(TestSummaryOut, required=True)
    compliance = fields.Nested(ComplianceSummaryOut, required=True)


class PublicLangArgs(Schema):
    class Meta:
        # A scanned link may carry a shop's tracking parameters; they must not break the page.
        unknown = EXCLUDE

    lang = fields.String(metadata={"description": "zh (default) or en; otherwise Accept-Language decides."})
