"""Schema pieces every feature shares: strict base schema, pagination, errors."""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, fields, validate

# The largest id an INTEGER primary key holds; larger ids in a URL or body are refused before
# they reach the database driver (which would overflow rather than find nothing).
MAX_ID = 2**31 - 1


class DecimalString(fields.Decimal):
    """An exact decimal sent as a string ("0.050"), documented as such in OpenAPI.

    Quantities and limits must not pass through binary floats; registered with the Api in
    create_app so the document says ``type: string, format: decimal``.
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("as_string", True)
        super().__init__(**kwargs)


class StrictSchema(Schema):
    """Refuse unknown fields: a typo in a farmer's app must fail loudly, not be dropped."""

    class Meta:
        unknown = RAISE
        ordered = True


class PageArgs(StrictSchema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class PageMeta(Schema):
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    total = fields.Integer(required=True)


class ErrorOut(Schema):
    code = fields.Integer(required=True)
    status = fields.String(required=True)
    message = fields.String()
    errors = fields.Dict()


def page_of(items: list[Any], page: int, per_page: int, total: int) -> dict[str, Any]:
    return {"items": items, "meta": {"page": page, "per_page": per_page, "total": total}}
