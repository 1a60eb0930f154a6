"""Schema pieces every feature shares: strict base schema, ids, pagination, errors."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, pre_load, validate
from werkzeug.routing import IntegerConverter

from app.security import MAX_DATA_DEPTH, MAX_QUANTITY, control_character, data_depth

# The largest id an INTEGER primary key holds; larger ids in a URL or body are refused before
# they reach the database driver (which would overflow rather than find nothing). Row ids are
# 32-bit on every database we run on. Routes say ``<id:batch_id>`` (IdConverter) and bodies
# ``Id()``, so the bound is written here only.
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """The ``id`` URL converter: a row id from 1 to MAX_ID; anything else does not route (404).

    Registered on the app's url_map in create_app; OpenAPI documents it as an integer with
    those bounds (flask-smorest reads an IntegerConverter's min and max).
    """

    def __init__(self, url_map: Any) -> None:
        super().__init__(url_map, min=1, max=MAX_ID)


class Id(fields.Integer):
    """A row id in a request body or query: an integer from 1 to MAX_ID."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(validate=validate.Range(min=1, max=MAX_ID), **kwargs)


class DecimalString(fields.Decimal):
    """An exact decimal sent as a string ("0.050"), documented as such in OpenAPI.

    Quantities and limits must not pass through binary floats; registered with the Api in
    create_app so the document says ``type: string, format: decimal``.
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("as_string", True)
        super().__init__(**kwargs)


class DecimalIn(DecimalString):
    """An exact decimal in a request: a decimal string ("4.5") or a JSON number (4), as documented.

    A plain DecimalString is documented as a string only, yet marshmallow reads a number too;
    this field says both (registered with the Api in create_app without a type of its own).
    """

    def __init__(self, **kwargs: Any) -> None:
        metadata = {
            "anyOf": [{"type": "number"}, {"type": "string", "format": "decimal"}],
            **kwargs.pop("metadata", {}),
        }
        super().__init__(metadata=metadata, **kwargs)


def three_places(value: Decimal) -> None:
    """Quantity columns keep three places (grams of a kilogram); more would be rounded silently."""
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -3:
        raise ValidationError("at most 3 decimal places")


class QuantityIn(fields.Field):
    """An exact quantity given as a JSON number or a decimal string ("12.5"), never a float's guess."""

    _DECIMAL = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")
    default_error_messages = {"invalid": 'Not a valid quantity: a number, or a decimal string such as "12.5".'}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise self.make_error("invalid")
        if isinstance(value, str) and (len(value) > 40 or not self._DECIMAL.match(value)):
            raise self.make_error("invalid")
        try:
            number = Decimal(repr(value) if isinstance(value, float) else str(value))
        except InvalidOperation as exc:
            raise self.make_error("invalid") from exc
        if not number.is_finite():
            raise self.make_error("invalid")
        return number


QUANTITY_DOC = {
    "anyOf": [
        {"type": "number", "minimum": 0, "exclusiveMinimum": True, "maximum": MAX_QUANTITY},
        {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?$", "maxLength": 40},
    ],
    "description": "greater than zero, at most 3 decimal places, in the batch's unit",
}


def quantity_field(**kwargs: Any) -> QuantityIn:
    """A quantity in a request: exact, greater than zero, at most three places, documented as such."""
    return QuantityIn(
        validate=[
            validate.Range(min=0, min_inclusive=False, error="must be greater than zero"),
            validate.Range(max=MAX_QUANTITY, error=f"too large: at most {MAX_QUANTITY:,}"),
            three_places,
        ],
        metadata=QUANTITY_DOC,
        **kwargs,
    )


def _unstorable(value: Any, path: str = "") -> str | None:
    """Why a JSON value cannot be stored as given (NUL, control characters, lone surrogates, NaN),
    or None; inside an object or a list the reason starts with where (``steps.0.name: ...``)."""
    where = f"{path}: " if path else ""
    if isinstance(value, str):
        if "\x00" in value:
            return where + "text cannot contain NUL characters"
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return where + "text is not valid Unicode"
        control = control_character(value)
        if control:
            return where + control
    elif isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return where + "numbers must be finite"
    elif isinstance(value, dict):
        return next(
            (r for k, v in value.items() for r in (_unstorable(k, path), _unstorable(v, _join(path, k))) if r), None
        )
    elif isinstance(value, list):
        return next((r for i, v in enumerate(value) if (r := _unstorable(v, _join(path, i)))), None)
    return None


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


def refuse_unstorable(value: Any) -> None:
    """A field validator for schemas that are not strict (headers): the same rule StrictSchema applies."""
    reason = _unstorable(value)
    if reason:
        raise ValidationError(reason)


class StrictSchema(Schema):
    """Refuse unknown fields: a typo in a farmer's app must fail loudly, not be dropped.

    Values no database can store (NUL in text, lone surrogates, NaN) are refused here too, named
    by field, for every request body and query, instead of failing at commit with a 500; so are
    control characters (C0 but tab and newline, and DEL: they break exports and terminals) and
    free-form objects nested deeper than ``MAX_DATA_DEPTH``. Nested schemas run this again, so a
    nested field is named within its parent.
    """

    class Meta:
        unknown = RAISE
        ordered = True

    @pre_load
    def _refuse_unstorable(self, data: Any, **kwargs: Any) -> Any:
        # A Mapping, not only a dict: query strings arrive as webargs' MultiDictProxy.
        if isinstance(data, Mapping):
            errors = {str(k): [r] for k, v in data.items() if (r := _unstorable(v) or _unstorable(k))}
            free_form = {f.data_key or name for name, f in self.load_fields.items() if isinstance(f, fields.Dict)}
            for key in free_form & set(data.keys()):
                if str(key) not in errors and data_depth(data[key]) > MAX_DATA_DEPTH:
                    errors[str(key)] = [f"nested too deep: at most {MAX_DATA_DEPTH} levels of objects and lists"]
            if errors:
                raise ValidationError(errors)
        return data


class PageArgs(StrictSchema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class ListMeta(Schema):
    """``meta`` of every list: the total, and the page asked for when the list is paginated."""

    total = fields.Integer(required=True, metadata={"description": "items over all pages"})
    page = fields.Integer()
    per_page = fields.Integer()


class PageMeta(ListMeta):
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)


class ErrorOut(Schema):
    code = fields.Integer(required=True)
    status = fields.String(required=True)
    message = fields.String()
    errors = fields.Dict()


@dataclass(frozen=True)
class Page:
    """A list as a service returns it and every list endpoint dumps it: ``{items, meta}``.

    ``total`` counts the items over all pages; ``page`` and ``per_page`` are set when paginated.
    """

    items: Sequence[Any]
    total: int
    page: int | None = None
    per_page: int | None = None

    @classmethod
    def whole(cls, items: Sequence[Any]) -> Page:
        """An unpaginated list: every item, and their number."""
        return cls(list(items), len(items))

    @property
    def meta(self) -> dict[str, int]:
        if self.page is None or self.per_page is None:
            return {"total": self.total}
        return {"page": self.page, "per_page": self.per_page, "total": self.total}
