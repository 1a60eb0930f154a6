"""What each stage records, per product line, and the stage-order rule (invariant 5).

The shared keys hold for every product that has the stage; a product line may add its own
fields (``ProductSpec.extra_fields``). Unknown keys are refused.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any, TypedDict

from marshmallow import Schema, ValidationError, fields, validate

from app.batches.vocabulary import REPEATABLE_STAGES, STAGES, record_name
from app.catalog.products import PRODUCTS, ExtraField
from app.errors import InvalidInput
from app.i18n import in_each_language
from app.schemas import StrictSchema
from app.security import MAX_PACKING_COUNT
from app.units import BATCH_UNITS

_note = fields.String(validate=validate.Length(max=2000))


class _TextOptions(TypedDict):
    """The options of a short free-text field; typed so ``**_text`` is checked key by key."""

    validate: validate.Length


_text: _TextOptions = {"validate": validate.Length(min=1, max=200)}


class PlantingInput(StrictSchema):
    kind = fields.String(required=True, validate=validate.OneOf(["fertilizer", "pesticide"]))
    name = fields.String(required=True, **_text)
    registration_no = fields.String(validate=validate.Length(max=60))
    dose = fields.Decimal(as_string=True, required=True, validate=validate.Range(min=0))
    dose_unit = fields.String(required=True, validate=validate.Length(min=1, max=20))
    applied_at = fields.AwareDateTime(required=True)
    # 安全间隔期: days between the last application and harvest.
    phi_days = fields.Integer(validate=validate.Range(min=0, max=365))


class ProcessingStep(StrictSchema):
    name = fields.String(required=True, **_text)
    started_at = fields.AwareDateTime(required=True)
    parameters = fields.Dict(keys=fields.String(), load_default=dict)


SHARED_FIELDS: dict[str, dict[str, fields.Field]] = {
    "seedling": {
        "variety": fields.String(**_text),
        "source": fields.String(**_text),
        "count": fields.Integer(validate=validate.Range(min=0)),
    },
    "planting": {
        "inputs": fields.List(fields.Nested(PlantingInput), load_default=list),
        "area_mu": fields.Decimal(as_string=True, validate=validate.Range(min=0)),
    },
    "harvest": {
        "quantity": fields.Decimal(as_string=True, required=True, validate=validate.Range(min=0, min_inclusive=False)),
        "unit": fields.String(required=True, validate=validate.OneOf(BATCH_UNITS)),
        "grade": fields.String(validate=validate.Length(max=40)),
    },
    "processing": {
        "steps": fields.List(fields.Nested(ProcessingStep), required=True, validate=validate.Length(min=1)),
    },
    "packing": {
        "package": fields.String(required=True, **_text),
        "count": fields.Integer(required=True, validate=validate.Range(min=1, max=MAX_PACKING_COUNT)),
    },
    "storage": {
        "temperature_c": fields.Decimal(as_string=True, required=True, validate=validate.Range(min=-60, max=80)),
        "humidity_pct": fields.Decimal(as_string=True, required=True, validate=validate.Range(min=0, max=100)),
        "warehouse": fields.String(**_text),
    },
    "transport": {
        "vehicle": fields.String(required=True, **_text),
        "origin": fields.String(required=True, **_text),
        "destination": fields.String(required=True, **_text),
        "temperature_c": fields.Decimal(as_string=True, validate=validate.Range(min=-60, max=80)),
    },
    "sale": {
        "channel": fields.String(required=True, **_text),
        "buyer": fields.String(**_text),
    },
    "after_sale": {
        "kind": fields.String(required=True, validate=validate.OneOf(["complaint", "return", "feedback"])),
    },
}


def _extra_field(extra: ExtraField) -> fields.Field:
    if extra.kind == "number":
        return fields.Decimal(as_string=True)
    if extra.kind == "choice":
        return fields.String(validate=validate.OneOf(extra.choices))
    return fields.String(**_text)


@cache
def stage_schema(product_key: str, stage: str) -> Schema:
    spec = PRODUCTS[product_key]
    declared: dict[str, fields.Field] = {"note": _note}
    declared.update(SHARED_FIELDS[stage])
    for extra in spec.extra_fields.get(stage, ()):
        declared[extra.name] = _extra_field(extra)
    # Each schema class is built once per (product, stage); fields are copied by marshmallow.
    cls = StrictSchema.from_dict(declared, name=f"{product_key}_{stage}_data")
    return cls()


def validate_stage_data(product_key: str, stage: str, data: dict[str, Any]) -> dict[str, Any]:
    """Validate and normalize ``data``; errors name each field under ``data``."""
    spec = PRODUCTS[product_key]
    if stage not in spec.stages:
        raise InvalidInput.field(
            "stage", f"{spec.name_en} has no stage {stage!r}; its stages are {', '.join(spec.stages)}"
        )
    try:
        loaded = stage_schema(product_key, stage).load(data)
    except ValidationError as exc:
        raise InvalidInput(
            "data: the stage's data is not valid; see errors for each field.",
            {"json": {"data": exc.normalized_messages()}},
        ) from exc
    # Dump back to JSON-safe primitives (decimals as strings, datetimes as ISO text).
    return stage_schema(product_key, stage).dump(loaded)


def check_stage_order(
    product_key: str, stage: str, occurred_at: dt.datetime, recorded: list[tuple[str, dt.datetime]]
) -> None:
    """Stages follow the product's order by when they happened (occurred_at), not by when they were recorded.

    ``recorded`` holds the stage and occurred_at of the stages already in the chain. A stage must
    have happened strictly before every later stage on record (a tie goes to the record already
    made) and no earlier than every earlier stage on record. So a forgotten planting record is
    accepted when dated before the harvest, and marked late (补录) on the journey. Repeatable
    stages (storage, transport) may come at any time.
    """
    if stage in REPEATABLE_STAGES:
        return
    order = PRODUCTS[product_key].stages
    rank = order.index(stage)
    for other, when in recorded:
        if other not in order or other in REPEATABLE_STAGES or other == stage:
            continue
        if order.index(other) > rank and occurred_at >= when:
            raise InvalidInput.field(
                "stage",
                f"{stage!r} at {occurred_at.isoformat()} cannot come after {other!r}, recorded as happening at "
                f"{when.isoformat()}; this product's order is {' → '.join(order)}. A forgotten earlier stage is "
                "accepted when it happened before the later ones",
            )
        if order.index(other) < rank and occurred_at < when:
            raise InvalidInput.field(
                "stage",
                f"{stage!r} at {occurred_at.isoformat()} cannot come before {other!r}, recorded as happening at "
                f"{when.isoformat()}; this product's order is {' → '.join(order)}",
            )


def ordered_stages(product_key: str, stage: str) -> tuple[str, ...]:
    """The stages whose occurred_at bounds ``stage``'s: the product's others that do not repeat."""
    if stage in REPEATABLE_STAGES:
        return ()
    return tuple(s for s in PRODUCTS[product_key].stages if s not in REPEATABLE_STAGES and s != stage)


def describe_stage(product_key: str, stage: str) -> dict[str, Any]:
    names = in_each_language(lambda: record_name(stage))
    schema = stage_schema(product_key, stage)
    described = [{"name": name, "type": type(f).__name__, "required": f.required} for name, f in schema.fields.items()]
    return {
        "key": stage,
        "name_zh": names["zh"],
        "name_en": names["en"],
        "repeatable": stage in REPEATABLE_STAGES,
        "fields": described,
    }


assert set(SHARED_FIELDS) == set(STAGES), "every stage of the vocabulary has its fields"
