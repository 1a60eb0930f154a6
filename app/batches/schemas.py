"""Request and response shapes for batches, their events, the journey and chain verification."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import current_app
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from app.batches.models import BatchStatus
from app.batches.service import public_url
from app.batches.vocabulary import record_name
from app.catalog.products import PRODUCTS
from app.catalog.schemas import StandardRef
from app.i18n import in_language
from app.orgs.schemas import OrgRef
from app.schemas import MAX_ID, Id, ListMeta, PageArgs, PageMeta, StrictSchema, quantity_field, refuse_unstorable
from app.units import BATCH_UNITS

# Dates outside this window are typing mistakes, and far enough out they overflow on the way to UTC.
EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
_plausible_moment = validate.Range(min=EARLIEST, max=LATEST, error="must be between 1970 and 2100")
_plausible_day = validate.Range(min=EARLIEST.date(), max=LATEST.date(), error="must be between 1970 and 2100")

# Lot codes go on printed labels: letters, digits and a few separators, no spaces.
LOT_CODE = validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,39}$", error="1-40 letters, digits, '.', '_', '/' or '-'")


class UTCDateTime(fields.DateTime):
    """Datetimes leave in UTC, whatever zone they arrived in, so a value reads the same everywhere."""

    def _serialize(self, value: dt.datetime | None, attr: str | None, obj: Any, **kwargs: Any) -> str | float | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return super()._serialize(value, attr, obj, **kwargs)


class BatchCreate(StrictSchema):
    product = fields.String(required=True, validate=validate.OneOf(list(PRODUCTS)))
    quantity = quantity_field(required=True)
    unit = fields.String(required=True, validate=validate.OneOf(BATCH_UNITS))
    lot_code = fields.String(validate=LOT_CODE)
    site = Id(metadata={"description": "id of a site"})
    gtin = fields.String(validate=validate.Regexp(r"^(\d{8}|\d{12,14})$", error="8, 12, 13 or 14 digits"))
    produced_at = fields.AwareDateTime(validate=_plausible_moment)
    producer = fields.String(
        validate=validate.Length(min=2, max=40),
        metadata={"description": "code of a member household, when a cooperative creates the batch for it"},
    )
    forms = fields.List(
        fields.String(validate=validate.Length(min=1, max=30)),
        validate=validate.Length(min=1, max=10),
        metadata={
            "description": "product-form tags of the product line (GET /products/{key} lists them), "
            'e.g. ["edible_oil", "pressed"]; checked against the product'
        },
    )


class BatchQuery(PageArgs):
    product = fields.String(validate=validate.OneOf(list(PRODUCTS)))
    status = fields.String(validate=validate.OneOf([s.value for s in BatchStatus]))
    custodian = fields.String(validate=validate.Length(min=1, max=40), metadata={"description": "organization code"})
    from_ = fields.Date(
        data_key="from", validate=_plausible_day, metadata={"description": "created on or after (China time)"}
    )
    to = fields.Date(validate=_plausible_day, metadata={"description": "created on or before (China time)"})

    @validates_schema
    def _range_in_order(self, data: dict[str, Any], **kwargs: Any) -> None:
        if "from_" in data and "to" in data and data["from_"] > data["to"]:
            raise ValidationError("must not be before 'from'", field_name="to")


class BatchSiteOut(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    name_en = fields.String(required=True, allow_none=True)
    kind = fields.String(required=True)
    county = fields.String(required=True, allow_none=True)
    township = fields.String(required=True, allow_none=True)
    latitude = fields.Decimal(places=6, as_string=True, required=True, allow_none=True, metadata={"type": "string"})
    longitude = fields.Decimal(places=6, as_string=True, required=True, allow_none=True, metadata={"type": "string"})


class BatchStandardOut(StandardRef):
    """A standard the batch is bound to: the standard's reference, and why it binds."""

    source = fields.String(
        required=True,
        metadata={
            "description": "mandatory (the national floor), executive (its 执行标准), declared, or default "
            "(a product default bound by an older release: a suggestion, not binding)"
        },
    )

    def get_attribute(self, obj: Any, attr: str, default: Any) -> Any:
        # The reference's fields are the bound standard's; only ``source`` is the binding's own.
        return super().get_attribute(obj if attr == "source" else obj.standard, attr, default)


class BoundStandards(fields.List):
    """The batch's standards, mandatory floor first, then by code: the order people read them in."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if value is not None:
            value = sorted(value, key=lambda bs: (not bs.standard.mandatory, bs.standard.code))
        return super()._serialize(value, attr, obj, **kwargs)


class BatchOut(Schema):
    id = fields.Integer(required=True)
    lot_code = fields.String(required=True)
    product = fields.String(attribute="product_key", required=True)
    product_name_zh = fields.String(attribute="product.name_zh", required=True)
    product_name_en = fields.String(attribute="product.name_en", required=True)
    quantity = fields.Decimal(places=3, as_string=True, required=True, metadata={"type": "string", "format": "decimal"})
    unit = fields.String(required=True)
    status = fields.String(required=True)
    public_code = fields.String(required=True)
    public_url = fields.Function(
        lambda b: public_url(current_app.config["PUBLIC_BASE_URL"], b),
        required=True,
        metadata={"type": "string", "description": "PUBLIC_BASE_URL + /t/{public_code}: what the QR code encodes"},
    )
    gtin = fields.String(required=True, allow_none=True)
    custodian = fields.Nested(OrgRef, required=True)
    producer = fields.Nested(OrgRef, required=True)
    site = fields.Nested(BatchSiteOut, required=True, allow_none=True)
    produced_at = UTCDateTime(required=True, allow_none=True)
    created_at = UTCDateTime(required=True)
    events = fields.Integer(attribute="head_seq", required=True, metadata={"description": "events in the chain"})
    head_hash = fields.String(required=True)
    standards = BoundStandards(fields.Nested(BatchStandardOut), required=True)
    forms = fields.List(
        fields.String(), required=True, metadata={"description": "its product-form tags; [] when not known"}
    )


class BatchList(Schema):
    items = fields.List(fields.Nested(BatchOut), required=True)
    meta = fields.Nested(PageMeta, required=True)


class EventCreate(StrictSchema):
    stage = fields.String(
        required=True,
        validate=validate.Length(min=1, max=20),
        metadata={"description": "a stage of the product line, or 'amendment'"},
    )
    occurred_at = fields.AwareDateTime(required=True, validate=_plausible_moment)
    site = Id(metadata={"description": "id of a site"})
    data = fields.Dict(
        keys=fields.String(),
        load_default=dict,
        metadata={"description": "the stage's fields; for an amendment {reason, data: corrected stage data}"},
    )
    amends_seq = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))


class BulkEventIn(EventCreate):
    batch = Id(required=True, metadata={"description": "batch id"})


class BulkEventsIn(StrictSchema):
    events = fields.List(
        fields.Nested(BulkEventIn),
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={"description": "1-200 events, applied all or nothing"},
    )


class IdempotencyHeaders(Schema):
    """Only the header we read; a request carries many others, which are not ours to refuse."""

    class Meta:
        unknown = EXCLUDE

    idempotency_key = fields.String(
        data_key="Idempotency-Key",
        validate=[validate.Length(min=1, max=100), refuse_unstorable],
        metadata={"description": "the same key with the same body returns the stored event instead of a new one"},
    )


class EventsQuery(StrictSchema):
    raw = fields.Boolean(
        load_default=False,
        metadata={"description": "also return every stored event as recorded, amendments and hashes included"},
    )


def stage_name(stage: str, lang: str) -> str:
    return in_language(lang, lambda: record_name(stage))


class EventOut(Schema):
    """One event as stored: what the chain hashes, plus who recorded it."""

    seq = fields.Integer(required=True)
    stage = fields.String(required=True)
    occurred_at = UTCDateTime(required=True)
    recorded_at = UTCDateTime(required=True)
    actor_org = fields.Nested(OrgRef, required=True)
    actor_user = fields.Function(
        lambda e: e.actor_user.username if e.actor_user else None,
        required=True,
        allow_none=True,
        metadata={"type": "string", "description": "username of who recorded it"},
    )
    site = fields.Nested(BatchSiteOut, required=True, allow_none=True)
    data = fields.Dict(required=True)
    amends_seq = fields.Integer(required=True, allow_none=True)
    prev_hash = fields.String(required=True)
    hash = fields.String(required=True)


class BulkEventOut(EventOut):
    batch = fields.Integer(attribute="batch_id", required=True)
    lot_code = fields.Function(lambda e: e.batch.lot_code, required=True, metadata={"type": "string"})


class BulkEventsOut(Schema):
    items = fields.List(fields.Nested(BulkEventOut), required=True, metadata={"description": "in request order"})
    meta = fields.Nested(ListMeta, required=True)


class EventAmendmentOut(Schema):
    seq = fields.Integer(required=True)
    reason = fields.Function(lambda e: e.data.get("reason"), required=True, metadata={"type": "string"})
    data = fields.Function(
        lambda e: e.data.get("data", {}),
        required=True,
        metadata={"type": "object", "description": "the stage data it set"},
    )
    occurred_at = UTCDateTime(required=True)
    recorded_at = UTCDateTime(required=True)
    actor_org = fields.Nested(OrgRef, required=True)


class JourneyEntryItemOut(Schema):
    """A stage as people read it: the data as corrected, and the corrections kept."""

    seq = fields.Integer(required=True)
    stage = fields.String(required=True)
    stage_name_zh = fields.Function(lambda e: stage_name(e.stage, "zh"), required=True, metadata={"type": "string"})
    stage_name_en = fields.Function(lambda e: stage_name(e.stage, "en"), required=True, metadata={"type": "string"})
    occurred_at = UTCDateTime(required=True)
    recorded_at = UTCDateTime(attribute="event.recorded_at", required=True)
    actor_org = fields.Nested(OrgRef, attribute="event.actor_org", required=True)
    site = fields.Nested(BatchSiteOut, attribute="event.site", required=True, allow_none=True)
    data = fields.Dict(required=True)
    amended = fields.Boolean(required=True)
    amendments = fields.List(fields.Nested(EventAmendmentOut), required=True)
    late = fields.Boolean(
        required=True,
        metadata={
            "description": "补录: recorded after a stage that happened later (the journey is in occurred_at order)"
        },
    )


class BatchJourneyOut(Schema):
    batch_id = fields.Integer(required=True)
    lot_code = fields.String(required=True)
    items = fields.List(fields.Nested(JourneyEntryItemOut), required=True)
    meta = fields.Nested(ListMeta, required=True)
    events = fields.List(
        fields.Nested(EventOut), metadata={"description": "every stored event; present with ?raw=true"}
    )


class ChainVerifyOut(Schema):
    valid = fields.Boolean(required=True)
    events = fields.Integer(required=True)
    head_hash = fields.String(required=True)
    first_invalid_seq = fields.Integer(required=True, allow_none=True)
    reason = fields.String(required=True, allow_none=True)
