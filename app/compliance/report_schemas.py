"""Request and response shapes of what a test report is beyond its results: its 抽样单 (sampling
record), its lab organization with the CMA, the flags on its results and its 复检 links."""

from __future__ import annotations

import datetime as dt

from marshmallow import Schema, fields, validate

from app.compliance.report_types import REPORT_TYPES, SAMPLING_STAGES
from app.schemas import Id, StrictSchema

# Reports from before the pilot's era are typos; the service refuses the future.
_DAY = validate.Range(min=dt.date(1990, 1, 1), max=dt.date(2200, 1, 1))


class SamplingIn(StrictSchema):
    """The 抽样单 (sampling record) of a report."""

    number = fields.String(
        required=True, validate=validate.Length(min=1, max=60), metadata={"description": "抽样单编号"}
    )
    task_source = fields.String(
        required=True, validate=validate.Length(min=1, max=200), metadata={"description": "任务来源"}
    )
    stage = fields.String(
        required=True,
        validate=validate.OneOf(list(SAMPLING_STAGES)),
        metadata={"description": "planting_base (种植基地), production (生产) or circulation (流通)"},
    )
    place = fields.String(required=True, validate=validate.Length(min=1, max=200), metadata={"description": "抽样地点"})
    sampled_org_id = Id(allow_none=True, load_default=None, metadata={"description": "the sampled organization"})
    sampled_org_name = fields.String(
        allow_none=True,
        load_default=None,
        validate=validate.Length(max=200),
        metadata={"description": "or its name, when it is not registered"},
    )
    sample_lot = fields.String(
        allow_none=True,
        load_default=None,
        validate=validate.Length(max=60),
        metadata={"description": "样品批号 as labelled"},
    )
    production_date = fields.Date(
        allow_none=True, load_default=None, validate=_DAY, metadata={"description": "生产日期 as labelled"}
    )
    sampling_base = fields.String(
        required=True, validate=validate.Length(min=1, max=60), metadata={"description": "抽样基数, e.g. 500 kg"}
    )
    quantity = fields.String(
        required=True, validate=validate.Length(min=1, max=60), metadata={"description": "抽样数量, e.g. 2 kg"}
    )
    samplers = fields.List(
        fields.String(validate=validate.Length(min=1, max=60)),
        required=True,
        validate=validate.Length(equal=2),
        metadata={"description": "the two samplers, by name"},
    )
    backup_sealed = fields.Boolean(required=True, metadata={"description": "a backup sample was sealed (备样封存)"})


class SamplingOut(Schema):
    number = fields.String(required=True)
    task_source = fields.String(required=True)
    stage = fields.String(required=True, metadata={"enum": list(SAMPLING_STAGES)})
    stage_name = fields.String(required=True)
    place = fields.String(required=True)
    sampled_org = fields.String(required=True)
    sampled_org_id = fields.Integer(allow_none=True)
    sample_lot = fields.String(allow_none=True)
    production_date = fields.String(allow_none=True)
    sampling_base = fields.String(required=True)
    quantity = fields.String(required=True)
    samplers = fields.List(fields.String(), required=True)
    backup_sealed = fields.Boolean(required=True)


class LabOrgOut(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    cma_no = fields.String(allow_none=True)
    cma_valid_from = fields.String(allow_none=True)
    cma_valid_to = fields.String(allow_none=True)


class ReportFlagOut(Schema):
    code = fields.String(required=True, metadata={"enum": ["out_of_scope", "cma_expired"]})
    parameter = fields.String(required=True)
    message = fields.String(required=True)


class ReportFacts(Schema):
    """What a report is beyond its number: its type, 抽样单, lab, flags and 复检 links."""

    type = fields.String(required=True, metadata={"enum": list(REPORT_TYPES)})
    type_name = fields.String(required=True)
    sampling = fields.Nested(SamplingOut, allow_none=True)
    lab_org = fields.Nested(LabOrgOut, allow_none=True)
    flags = fields.List(fields.Nested(ReportFlagOut), required=True)
    retest_of = fields.Integer(allow_none=True)
    superseded = fields.Boolean(required=True, metadata={"description": "a 复检 replaced its conclusion"})
    notified_at = fields.String(allow_none=True)
    requested_at = fields.String(allow_none=True)
    retest_deadline = fields.String(allow_none=True, metadata={"description": "last day to request a 复检"})
    warnings = fields.List(fields.String(), required=True)
