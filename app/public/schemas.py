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
    facts = fields.List(fields.Nested(FactOut), required=True)


class StandardRefOut(StandardRef):
    """A standard as a consumer sees it: code, title and level name in the page's language, no id."""

    title = fields.String(required=True)
    level_name = fields.String(required=True)

    class Meta:
        fields = ("code", "title", "level", "level_name", "mandatory")


class ChainOut(Schema):
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
    parameter = fields.String(required=True)
    name_zh = fields.String(required=True)
    name_en = fields.String(required=True)
    verdict = fields.String(required=True, metadata={"description": "pass, fail or inconclusive"})
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
    evaluated_on = fields.String(required=True)
    tests = fields.List(fields.Nested(ParameterVerdictOut), required=True)
    standards_in_force = fields.List(
        fields.String(),
        required=True,
        metadata={"description": "codes of the bound standards in the edition in force on evaluated_on"},
    )
    certifications = fields.List(
        fields.Nested(CertificationRefOut),
        required=True,
        metadata={"description": "Only certifications valid on the batch's harvest or production date."},
    )


class ProductRefOut(Schema):
    key = fields.String(required=True)
    name = fields.String(required=True)
    brand_county = fields.String(required=True)


class PublicOrgOut(OrgRef):
    """An organization as a consumer sees it: its name in the page's language, nothing else."""

    class Meta:
        fields = ("name",)


class PublicBatchOut(Schema):
    lang = fields.String(required=True, metadata={"description": "zh or en: ?lang= or Accept-Language."})
    public_code = fields.String(required=True)
    public_url = fields.String(required=True)
    lot_code = fields.String(required=True)
    status = fields.String(required=True)
    product = fields.Nested(ProductRefOut, required=True)
    origin_county = fields.String(required=True)
    producer = fields.Nested(PublicOrgOut, required=True)
    produced_at = fields.AwareDateTime(allow_none=True)
    journey = fields.List(fields.Nested(JourneyEntryOut), required=True)
    standards = fields.List(fields.Nested(StandardRefOut), required=True)
    chain = fields.Nested(ChainOut, required=True)
    anchor = fields.Nested(
        AnchorOut,
        required=True,
        allow_none=True,
        metadata={"description": "the latest signed checkpoint's cover of the chain; null when none covers it"},
    )
    recall = fields.Nested(RecallOut, allow_none=True)
    tests = fields.Nested(TestSummaryOut, required=True)
    compliance = fields.Nested(ComplianceSummaryOut, required=True)


class PublicLangArgs(Schema):
    class Meta:
        # A scanned link may carry a shop's tracking parameters; they must not break the page.
        unknown = EXCLUDE

    lang = fields.String(metadata={"description": "zh (default) or en; otherwise Accept-Language decides."})
