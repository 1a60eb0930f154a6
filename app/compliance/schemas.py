"""Request and response shapes for standards declared and registered, inspections, compliance,
findings and certifications."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.catalog.products import PRODUCTS
from app.catalog.schemas import StandardRef
from app.compliance.certifications import CERTIFICATION_KINDS
from app.compliance.findings import FINDING_KINDS, FINDING_STATUSES
from app.compliance.report_schemas import ReportFacts, SamplingIn
from app.compliance.report_types import REPORT_TYPES
from app.compliance.rules import BASES, DECLARABLE_COMPARATORS, OVERALL_VERDICTS, REVIEW_DECISIONS, ROW_VERDICTS
from app.schemas import DecimalIn, DecimalString, Id, ListMeta, StrictSchema

# Numeric(20, 6) holds up to 10^14; anything near that is a typo, not a measurement.
_AMOUNT = validate.Range(min=0, max=Decimal("1e12"))
_POSITIVE_AMOUNT = validate.Range(min=0, max=Decimal("1e12"), min_inclusive=False)
# Reports and certificates from before the pilot's era are typos; the service refuses the future.
_EARLIEST = dt.datetime(1990, 1, 1, tzinfo=dt.UTC)
_LATEST = dt.datetime(2200, 1, 1, tzinfo=dt.UTC)
_MOMENT = validate.Range(min=_EARLIEST, max=_LATEST)
_DAY = validate.Range(min=_EARLIEST.date(), max=_LATEST.date())


# --- declared and enterprise standards -------------------------------------------------------


_FILING = fields.String(
    allow_none=True,
    load_default=None,
    validate=validate.Length(min=1, max=60),
    metadata={"description": "备案号 of a Q/ enterprise standard (where it was filed)"},
)


class StandardDeclare(StrictSchema):
    standard = Id(required=True, metadata={"description": "standard id"})
    executive = fields.Boolean(
        load_default=False,
        metadata={"description": "the batch's 执行标准 (the product standard on its label); replaces the one before"},
    )
    filing_no = _FILING


class DeclaredStandardOut(Schema):
    batch_id = fields.Integer(required=True)
    standard = fields.Nested(StandardRef, required=True)
    source = fields.String(required=True, metadata={"description": "mandatory, executive or declared"})
    bound_at = fields.DateTime(required=True)


class ReviewCreate(StrictSchema):
    parameter = fields.String(
        validate=validate.Length(min=1, max=60), metadata={"description": "the parameter awaiting review"}
    )
    row = fields.Integer(
        validate=validate.Range(min=0, max=10000),
        metadata={"description": "or: its index in the compliance view's rows"},
    )
    decision = fields.String(required=True, validate=validate.OneOf(REVIEW_DECISIONS))
    basis = fields.String(
        required=True,
        validate=validate.Length(min=1, max=2000),
        metadata={"description": "what the decision rests on, e.g. the official text relied on"},
    )

    @validates_schema
    def _one_target(self, data: dict[str, Any], **kwargs: Any) -> None:
        if ("parameter" in data) == ("row" in data):
            raise ValidationError("name the parameter, or the row (not both)", field_name="parameter")


class ReviewOut(Schema):
    batch_id = fields.Integer(required=True)
    seq = fields.Integer(required=True, metadata={"description": "the review's record in the batch's chain"})
    parameter = fields.String(required=True)
    report_no = fields.String(allow_none=True)
    decision = fields.String(required=True)
    basis = fields.String(required=True)
    reviewer = fields.String(required=True)
    recorded_at = fields.DateTime(required=True)
    verdict = fields.String(required=True, metadata={"enum": list(OVERALL_VERDICTS)})


class EnterpriseRequirementIn(StrictSchema):
    parameter = fields.String(
        required=True,
        validate=validate.Length(min=1, max=60),
        metadata={"description": "a canonical parameter key (lead, fluoride, ...) or pesticide.<name>"},
    )
    unit = fields.String(required=True, validate=validate.Length(min=1, max=30))
    comparator = fields.String(required=True, validate=validate.OneOf(DECLARABLE_COMPARATORS))
    limit = DecimalIn(allow_none=True, load_default=None, validate=_AMOUNT)
    clause = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=120))
    method = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=120))


class StandardCreate(StrictSchema):
    code = fields.String(
        required=True, validate=validate.Length(min=4, max=60), metadata={"example": "Q/XNYP 0001S-2026"}
    )
    title_zh = fields.String(required=True, validate=validate.Length(min=1, max=300))
    title_en = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=300))
    products = fields.List(
        fields.String(validate=validate.OneOf(list(PRODUCTS))), required=True, validate=validate.Length(min=1, max=6)
    )
    requirements = fields.List(
        fields.Nested(EnterpriseRequirementIn), required=True, validate=validate.Length(min=1, max=200)
    )
    level = fields.String(load_default="enterprise", validate=validate.OneOf(["enterprise"]))
    owner_org_id = Id(required=True)
    effective = fields.Date(allow_none=True, load_default=None, validate=_DAY)
    filing_no = _FILING


# --- inspections -------------------------------------------------------------------------------


class InspectionResultIn(StrictSchema):
    parameter = fields.String(required=True, validate=validate.Length(min=1, max=60))
    value = DecimalIn(allow_none=True, load_default=None, validate=_AMOUNT)
    unit = fields.String(required=True, validate=validate.Length(min=1, max=30))
    not_detected = fields.Boolean(load_default=False)
    lod = DecimalIn(
        allow_none=True, load_default=None, validate=_POSITIVE_AMOUNT, metadata={"description": "limit of detection"}
    )
    method = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=120))
    basis = fields.String(
        load_default="as_is",
        validate=validate.OneOf(BASES),
        metadata={"description": "as_is (default), dry_matter (以干样品计) or fat (以脂肪计)"},
    )
    below_loq = fields.Boolean(
        load_default=False,
        metadata={"description": "未检出(<定量限): detected but below the limit of quantification; give loq"},
    )
    loq = DecimalIn(
        allow_none=True,
        load_default=None,
        validate=_POSITIVE_AMOUNT,
        metadata={"description": "limit of quantification"},
    )

    @validates_schema
    def _value_or_not_detected(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("below_loq"):
            if data.get("not_detected"):
                raise ValidationError(
                    "below the LOQ is detected, not quantified; not_detected means below the LOD: give one",
                    field_name="below_loq",
                )
            if data.get("value") is not None:
                raise ValidationError("a result below the LOQ carries its loq, not a value", field_name="value")
            if data.get("loq") is None:
                raise ValidationError("required when below_loq is true", field_name="loq")
            return
        if data.get("not_detected"):
            if data.get("value") is not None:
                raise ValidationError("a result not detected carries its lod, not a value", field_name="value")
            if data.get("lod") is None:
                raise ValidationError("required when not_detected is true", field_name="lod")
        elif data.get("value") is None:
            raise ValidationError("required unless not_detected is true", field_name="value")


class InspectionCreate(StrictSchema):
    report_no = fields.String(required=True, validate=validate.Length(min=1, max=60))
    lab = fields.String(
        validate=validate.Length(min=1, max=200),
        metadata={"description": "the lab's name (free text); with lab_org_id the organization's name is used"},
    )
    type = fields.String(
        validate=validate.OneOf(list(REPORT_TYPES)),
        metadata={"description": "supervision, risk_monitoring, commissioned (without a type), self_check or rapid"},
    )
    lab_org_id = Id(metadata={"description": "the testing body: an organization of kind lab"})
    retest_of = Id(metadata={"description": "复检: the id of the report of this batch it re-tests"})
    sampling = fields.Nested(SamplingIn, metadata={"description": "抽样单; required for supervision"})
    notified_at = fields.AwareDateTime(
        validate=_MOMENT,
        metadata={"description": "when the producer was told of the (first) report's result: starts the 复检 window"},
    )
    requested_at = fields.AwareDateTime(
        validate=_MOMENT, metadata={"description": "复检: when it was requested (default: now)"}
    )
    sampled_at = fields.AwareDateTime(required=True, validate=_MOMENT)
    tested_at = fields.AwareDateTime(required=True, validate=_MOMENT)
    results = fields.List(fields.Nested(InspectionResultIn), required=True, validate=validate.Length(min=1, max=200))

    @validates_schema
    def _a_lab(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data.get("lab") and data.get("lab_org_id") is None:
            raise ValidationError("name the lab, or give lab_org_id", field_name="lab")


class InspectionResultOut(Schema):
    parameter = fields.String(attribute="parameter_key", required=True)
    value = DecimalString(allow_none=True)
    unit = fields.String(required=True)
    not_detected = fields.Boolean(required=True)
    lod = DecimalString(allow_none=True)
    method = fields.String(allow_none=True)
    basis = fields.String(required=True)
    below_loq = fields.Boolean(required=True)
    loq = DecimalString(allow_none=True)


class InspectionOut(ReportFacts):
    id = fields.Integer(required=True)
    batch_id = fields.Integer(required=True)
    report_no = fields.String(required=True)
    lab = fields.String(required=True)
    sampled_at = fields.DateTime(required=True)
    tested_at = fields.DateTime(required=True)
    results = fields.List(fields.Nested(InspectionResultOut), required=True)
    verdict = fields.String(required=True, metadata={"enum": list(OVERALL_VERDICTS)})
    findings_opened = fields.List(fields.Integer(), required=True)


# --- compliance ----------------------------------------------------------------------------------


class RowReviewOut(Schema):
    decision = fields.String(required=True)
    basis = fields.String(required=True)
    seq = fields.Integer(required=True)
    reviewer = fields.String(allow_none=True)


class ExecutiveStandardOut(Schema):
    standard = fields.String(required=True)
    standard_id = fields.Integer(required=True)
    title_zh = fields.String(required=True)
    title_en = fields.String(allow_none=True)
    level = fields.String(required=True)
    filing_no = fields.String(allow_none=True, metadata={"description": "备案号 (Q/ enterprise standards)"})
    status = fields.String(required=True)
    binds = fields.Boolean(required=True)


class SuggestedStandardOut(Schema):
    standard = fields.String(required=True)
    standard_id = fields.Integer(required=True)
    title_zh = fields.String(required=True)
    mandatory = fields.Boolean(required=True)


class ComplianceRowOut(Schema):
    standard = fields.String(allow_none=True, metadata={"description": "null for a result no limit covers"})
    edition = fields.String(allow_none=True)
    mandatory = fields.Boolean(allow_none=True)
    binding = fields.String(allow_none=True)
    clause = fields.String(allow_none=True)
    parameter = fields.String(required=True)
    parameter_zh = fields.String(allow_none=True)
    parameter_en = fields.String(allow_none=True)
    comparator = fields.String(allow_none=True)
    limit = fields.String(allow_none=True, metadata={"description": "the limit as an exact decimal string"})
    limit_text = fields.String(allow_none=True)
    unit = fields.String(allow_none=True)
    provisional = fields.Boolean(required=True)
    value = fields.String(allow_none=True, metadata={"description": "the result in the limit's unit"})
    value_unit = fields.String(allow_none=True)
    not_detected = fields.Boolean(required=True)
    below_loq = fields.Boolean(required=True, metadata={"description": "未检出(<定量限): detected, not quantified"})
    loq = fields.String(allow_none=True)
    basis = fields.String(allow_none=True, metadata={"description": "the limit's basis: as_is, dry_matter or fat"})
    result_basis = fields.String(allow_none=True, metadata={"description": "the result's basis"})
    grading = fields.Boolean(required=True, metadata={"description": "a grading item: a grade, never a safety fail"})
    temporary_mrl = fields.Boolean(required=True, metadata={"description": "an official 临时限量"})
    report_no = fields.String(allow_none=True)
    sampled_on = fields.String(allow_none=True, metadata={"description": "sampling date (China) of the result"})
    edition_dates = fields.List(
        fields.String(),
        required=True,
        metadata={"description": "the sampling dates on which this edition was in force and judged results"},
    )
    verdict = fields.String(required=True, metadata={"enum": list(ROW_VERDICTS)})
    governing = fields.Boolean(required=True)
    note = fields.String(allow_none=True)
    review = fields.Nested(RowReviewOut, allow_none=True)


class EditionChoiceOut(Schema):
    base_code = fields.String(required=True)
    standard = fields.String(allow_none=True)
    standard_id = fields.Integer(allow_none=True)
    edition = fields.String(allow_none=True)
    title_zh = fields.String(allow_none=True)
    mandatory = fields.Boolean(allow_none=True)
    binding = fields.String(required=True)
    applied = fields.Boolean(required=True)
    note = fields.String(required=True)
    editions = fields.List(fields.String(), required=True)
    status = fields.String(metadata={"description": "catalog status of the edition: in_force, withdrawn, uncertain"})


class FindingStepOut(Schema):
    action = fields.String(required=True)
    note = fields.String(allow_none=True)
    user = fields.String(allow_none=True)
    org = fields.String(allow_none=True)
    at = fields.DateTime(required=True)


class FindingOut(Schema):
    id = fields.Integer(required=True)
    batch_id = fields.Integer(required=True)
    lot_code = fields.String(allow_none=True)
    kind = fields.String(required=True, metadata={"enum": list(FINDING_KINDS)})
    subject = fields.String(required=True)
    # The subject in words, in the caller's language (app/compliance/finding_text.py).
    subject_text = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": list(FINDING_STATUSES)})
    opened_at = fields.DateTime(required=True)
    detail = fields.Dict(required=True)
    steps = fields.List(fields.Nested(FindingStepOut), required=True)


class FindingList(Schema):
    items = fields.List(fields.Nested(FindingOut), required=True)
    meta = fields.Nested(ListMeta, required=True)


class FindingQuery(StrictSchema):
    status = fields.String(validate=validate.OneOf(FINDING_STATUSES))
    batch = Id()


class FindingNote(StrictSchema):
    note = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class IntervalOut(Schema):
    pesticide = fields.String(required=True)
    registration_no = fields.String(allow_none=True)
    applied_at = fields.String(required=True)
    phi_days = fields.Integer(required=True)
    safe_from = fields.String(required=True)
    harvested_at = fields.String(required=True)
    planting_seq = fields.Integer(required=True)
    harvest_seq = fields.Integer(required=True)
    breached = fields.Boolean(required=True)
    days_short = fields.Integer(required=True)


class ReportSummaryOut(ReportFacts):
    id = fields.Integer(required=True)
    report_no = fields.String(required=True)
    lab = fields.String(required=True)
    sampled_at = fields.DateTime(required=True)
    tested_at = fields.DateTime(required=True)


class ComplianceOut(Schema):
    batch_id = fields.Integer(required=True)
    lot_code = fields.String(required=True)
    product = fields.String(required=True)
    verdict = fields.String(required=True, metadata={"enum": list(OVERALL_VERDICTS)})
    provisional_basis = fields.Boolean(
        required=True, metadata={"description": "the verdict rests on at least one provisional limit"}
    )
    reasons = fields.List(fields.String(), required=True)
    evaluated_on = fields.Date(required=True, metadata={"description": "the sampling date whose editions apply"})
    basis = fields.String(required=True, metadata={"description": "sampling, harvest, production or creation"})
    standards = fields.List(fields.Nested(EditionChoiceOut), required=True)
    forms = fields.List(fields.String(), required=True, metadata={"description": "the batch's product forms"})
    form_known = fields.Boolean(required=True)
    form_note = fields.String(allow_none=True, metadata={"description": "why no form filter applied"})
    executive_standard = fields.Nested(ExecutiveStandardOut, allow_none=True, metadata={"description": "执行标准"})
    suggested_standards = fields.List(
        fields.Nested(SuggestedStandardOut),
        required=True,
        metadata={"description": "the product's default standards not declared: suggestions, not binding"},
    )
    rows = fields.List(fields.Nested(ComplianceRowOut), required=True)
    inspections = fields.List(fields.Nested(ReportSummaryOut), required=True)
    findings = fields.List(fields.Nested(FindingOut), required=True)
    pre_harvest = fields.List(fields.Nested(IntervalOut), required=True)


# --- certifications ------------------------------------------------------------------------------


class CertificationCreate(StrictSchema):
    kind = fields.String(required=True, validate=validate.OneOf(list(CERTIFICATION_KINDS)))
    number = fields.String(required=True, validate=validate.Length(min=1, max=60))
    issuer = fields.String(required=True, validate=validate.Length(min=1, max=200))
    holder = fields.String(required=True, validate=validate.Length(min=1, max=40), metadata={"description": "org code"})
    product = fields.String(required=True, validate=validate.OneOf(list(PRODUCTS)))
    site = Id(allow_none=True, load_default=None)
    scope = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=2000))
    valid_from = fields.Date(required=True, validate=_DAY)
    valid_to = fields.Date(allow_none=True, load_default=None, validate=_DAY)


class CertificationOut(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    kind_zh = fields.String(required=True)
    kind_en = fields.String(required=True)
    number = fields.String(required=True)
    issuer = fields.String(required=True)
    holder = fields.String(allow_none=True)
    holder_name = fields.String(allow_none=True)
    product = fields.String(required=True)
    site = fields.Integer(allow_none=True)
    scope = fields.String(allow_none=True)
    valid_from = fields.Date(required=True)
    valid_to = fields.Date(allow_none=True)
    status = fields.String(metadata={"enum": ["valid", "expired", "not_yet_valid"]})


class CertificationList(Schema):
    items = fields.List(fields.Nested(CertificationOut), required=True)
    meta = fields.Nested(ListMeta, required=True)


class CertificationQuery(StrictSchema):
    holder = fields.String(validate=validate.Length(min=1, max=40))
    product = fields.String(validate=validate.OneOf(list(PRODUCTS)))


class BatchCertificationList(Schema):
    batch_id = fields.Integer(required=True)
    judged_on = fields.Date(required=True, metadata={"description": "harvest, else production, else creation date"})
    basis = fields.String(required=True)
    items = fields.List(fields.Nested(CertificationOut), required=True)
    meta = fields.Nested(ListMeta, required=True)
