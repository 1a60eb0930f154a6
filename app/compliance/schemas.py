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
from app.compliance.rules import DECLARABLE_COMPARATORS, OVERALL_VERDICTS, ROW_VERDICTS
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


class StandardDeclare(StrictSchema):
    standard = Id(required=True, metadata={"description": "standard id"})


class DeclaredStandardOut(Schema):
    batch_id = fields.Integer(required=True)
    standard = fields.Nested(StandardRef, required=True)
    source = fields.String(required=True, metadata={"description": "mandatory, default or declared"})
    bound_at = fields.DateTime(required=True)


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

    @validates_schema
    def _value_or_not_detected(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("not_detected"):
            if data.get("value") is not None:
                raise ValidationError("a result not detected carries its lod, not a value", field_name="value")
            if data.get("lod") is None:
                raise ValidationError("required when not_detected is true", field_name="lod")
        elif data.get("value") is None:
            raise ValidationError("required unless not_detected is true", field_name="value")


class InspectionCreate(StrictSchema):
    report_no = fields.String(required=True, validate=validate.Length(min=1, max=60))
    lab = fields.String(required=True, validate=validate.Length(min=1, max=200))
    sampled_at = fields.AwareDateTime(required=True, validate=_MOMENT)
    tested_at = fields.AwareDateTime(required=True, validate=_MOMENT)
    results = fields.List(fields.Nested(InspectionResultIn), required=True, validate=validate.Length(min=1, max=200))


class InspectionResultOut(Schema):
    parameter = fields.String(attribute="parameter_key", required=True)
    value = DecimalString(allow_none=True)
    unit = fields.String(required=True)
    not_detected = fields.Boolean(required=True)
    lod = DecimalString(allow_none=True)
    method = fields.String(allow_none=True)


class InspectionOut(Schema):
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
    report_no = fields.String(allow_none=True)
    verdict = fields.String(required=True, metadata={"enum": list(ROW_VERDICTS)})
    governing = fields.Boolean(required=True)
    note = fields.String(allow_none=True)


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


class ReportSummaryOut(Schema):
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
