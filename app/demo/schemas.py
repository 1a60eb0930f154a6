"""The shape of the demo's data files.

Loading a file converts it into what the services take: China times into aware datetimes, amounts
into decimals. Unknown fields are refused, so a misspelt one fails loudly instead of being dropped.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from app import clock
from app.schemas import StrictSchema

CHINA_TIME = "a China time like 2026-04-02 09:30"


def china_time(text: Any) -> dt.datetime:
    """'2026-05-12 07:30' in China time."""
    return clock.china_clock_time(text)


class ChinaTime(fields.Field):
    default_error_messages = {"invalid": f"should be {CHINA_TIME}, got {{input}}"}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dt.datetime:
        try:
            return china_time(value)
        except (TypeError, ValueError) as exc:
            raise self.make_error("invalid", input=value) from exc


class StageData(fields.Dict):
    """What a stage records, as the API takes it, with each ``*_at`` time (an input's, a step's) in ISO 8601."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dict[str, Any]:
        def stamped(item: Any, key: str) -> Any:
            if isinstance(item, dict):
                return {k: stamped(v, str(k)) for k, v in item.items()}
            if isinstance(item, list):
                return [stamped(v, key) for v in item]
            try:
                return china_time(item).isoformat() if key.endswith("_at") else item
            except (TypeError, ValueError):
                raise ValidationError(f"{key} should be {CHINA_TIME}, got {item}") from None

        return stamped(super()._deserialize(value, attr, data, **kwargs), "")


def _text(required: bool = False, **kwargs: Any) -> fields.String:
    return fields.String(required=required, validate=validate.Length(min=1), **kwargs)


def _entries(schema: type[StrictSchema], **kwargs: Any) -> fields.List:
    return fields.List(fields.Nested(schema), **kwargs)


def each_once(entries: list[dict[str, Any]], key: str, field: str) -> None:
    """Each entry's name once: it is how a second load finds the entry instead of making another."""
    names = [entry[key] for entry in entries]
    if twice := sorted({name for name in names if names.count(name) > 1}):
        raise ValidationError(f"{key} {', '.join(twice)} is given more than once", field)


class UserEntry(StrictSchema):
    username = _text(required=True)
    role = _text(required=True)
    display_name = _text(required=True)


class SiteEntry(StrictSchema):
    name = _text(required=True)
    name_en = _text(required=True)
    kind = _text(required=True)
    county = _text(required=True)
    township = _text()
    latitude = fields.Float(required=True)
    longitude = fields.Float(required=True)


class OrganizationEntry(StrictSchema):
    code = _text(required=True)
    name = _text(required=True)
    name_en = _text(required=True)
    kind = _text(required=True)
    county = _text()
    credit_code = _text()
    masked_id = _text()
    cooperative_code = _text(data_key="cooperative")
    # A lab's CMA certificate: number (marked 示例), validity, the parameter keys it covers.
    cma_no = _text()
    cma_valid_from = fields.Date()
    cma_valid_to = fields.Date()
    cma_parameters = fields.List(fields.String(validate=validate.Length(min=1, max=60)))
    users = _entries(UserEntry, load_default=list)
    sites = _entries(SiteEntry, load_default=list)


class OrganizationsFile(StrictSchema):
    organizations = _entries(OrganizationEntry, required=True)

    @validates_schema
    def _each_once(self, data: dict[str, Any], **kwargs: Any) -> None:
        organizations = data["organizations"]
        each_once(organizations, "code", "organizations")
        each_once([user for org in organizations for user in org["users"]], "username", "organizations")
        # Batches and certificates name a site by its name alone.
        each_once([site for org in organizations for site in org["sites"]], "name", "organizations")


class EventEntry(StrictSchema):
    stage = _text(required=True)
    occurred_at = ChinaTime(required=True)
    site = _text()
    data = StageData(load_default=dict)


class BatchEntry(StrictSchema):
    lot_code = _text(required=True)
    product = _text(required=True)
    quantity = fields.Decimal(required=True)
    unit = _text(required=True)
    recorded_by = _text(required=True)
    producer = _text()
    produced_at = ChinaTime(required=True)
    site = _text()
    gtin = _text()
    # The lot is opened with its first record.
    events = _entries(EventEntry, required=True, validate=validate.Length(min=1))


class BatchesFile(StrictSchema):
    batches = _entries(BatchEntry, required=True)

    @validates_schema
    def _each_once(self, data: dict[str, Any], **kwargs: Any) -> None:
        each_once(data["batches"], "lot_code", "batches")


class ResultEntry(StrictSchema):
    parameter = _text(required=True)
    value = fields.Decimal()
    not_detected = fields.Boolean()
    lod = fields.Decimal()
    unit = _text(required=True)
    method = _text()


class SamplingEntry(StrictSchema):
    number = _text(required=True)
    task_source = _text(required=True)
    stage = _text(required=True)
    place = _text(required=True)
    sampled_org = _text(required=True, metadata={"description": "the sampled organization's code"})
    sample_lot = _text()
    production_date = fields.Date()
    sampling_base = _text(required=True)
    quantity = _text(required=True)
    samplers = fields.List(_text(), required=True)
    backup_sealed = fields.Boolean(required=True)


class InspectionEntry(StrictSchema):
    lot_code = _text(required=True)
    report_no = _text(required=True)
    type = _text(required=True)
    recorded_by = _text(required=True)
    # The lab organization's code; by default the recorder's own organization when it is a lab.
    lab = _text()
    sampled_at = ChinaTime(required=True)
    tested_at = ChinaTime(required=True)
    notified_at = ChinaTime()
    sampling = fields.Nested(SamplingEntry)
    results = _entries(ResultEntry, required=True)


class CertificationEntry(StrictSchema):
    kind = _text(required=True)
    number = _text(required=True)
    issuer = _text(required=True)
    holder = _text(required=True)
    product = _text(required=True)
    site = _text()
    valid_from = fields.Date(required=True)
    valid_to = fields.Date()
    scope = _text(required=True)
    recorded_by = _text(required=True)


class CommitmentEntry(StrictSchema):
    """A 承诺达标合格证 the lot's holder issued; its number is drawn when it is issued."""

    lot_code = _text(required=True)
    recorded_by = _text(required=True)
    contact = _text(required=True)
    basis = _text(required=True)
    report_no = _text()
    issued_at = ChinaTime(required=True)


class ComplianceFile(StrictSchema):
    inspections = _entries(InspectionEntry, required=True)
    certifications = _entries(CertificationEntry, required=True)
    commitment_certificates = _entries(CommitmentEntry, load_default=list)

    @validates_schema
    def _each_once(self, data: dict[str, Any], **kwargs: Any) -> None:
        each_once(data["certifications"], "number", "certifications")
        each_once(data["commitment_certificates"], "lot_code", "commitment_certificates")


FILES = {"organizations.yaml": OrganizationsFile, "batches.yaml": BatchesFile, "compliance.yaml": ComplianceFile}
