"""Request and response shapes for organizations and users."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.orgs.models import OrgKind, Role
from app.schemas import ListMeta, StrictSchema
from app.security import MAX_PASSWORD_LENGTH


class OrganizationCreate(StrictSchema):
    code = fields.String(required=True, validate=validate.Length(min=2, max=40))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    name_en = fields.String(validate=validate.Length(max=200))
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in OrgKind]))
    county = fields.String(validate=validate.Length(max=40))
    credit_code = fields.String(validate=validate.Length(equal=18))
    masked_id = fields.String(validate=validate.Length(max=18))
    # 食品生产许可证编号; its shape (SC + 14 digits) is checked by the service, in the reader's language.
    production_licence = fields.String(validate=validate.Length(max=40))
    contact_phone = fields.String(validate=validate.Length(max=20))
    cooperative = fields.String(validate=validate.Length(min=2, max=40))
    # A lab's CMA certificate (资质认定): number, validity, and the parameter keys it covers.
    cma_no = fields.String(validate=validate.Length(min=1, max=60), metadata={"description": "CMA certificate number"})
    cma_valid_from = fields.Date()
    cma_valid_to = fields.Date()
    cma_parameters = fields.List(
        fields.String(validate=validate.Length(min=1, max=60)),
        validate=validate.Length(max=500),
        metadata={"description": "parameter keys the lab is qualified for; 'pesticide.*' covers every pesticide"},
    )


class OrganizationUpdate(StrictSchema):
    """The fields an administrator may change on an organization (a lab's CMA certificate)."""

    name = fields.String(validate=validate.Length(min=1, max=200))
    name_en = fields.String(allow_none=True, validate=validate.Length(max=200))
    contact_phone = fields.String(allow_none=True, validate=validate.Length(max=20))
    cma_no = fields.String(allow_none=True, validate=validate.Length(min=1, max=60))
    cma_valid_from = fields.Date(allow_none=True)
    cma_valid_to = fields.Date(allow_none=True)
    cma_parameters = fields.List(
        fields.String(validate=validate.Length(min=1, max=60)), allow_none=True, validate=validate.Length(max=500)
    )

    @validates_schema
    def _something(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data:
            raise ValidationError("give at least one field to change", field_name="_schema")


class OrgRef(Schema):
    """An organization wherever another record names it (a batch's custodian, a recall's holder).

    The one output shape of an organization; the admin's full record and the consumer's public
    name are this with fields added or left out.
    """

    code = fields.String(required=True)
    name = fields.String(required=True)
    name_en = fields.String(required=True, allow_none=True)
    kind = fields.String(required=True)
    county = fields.String(required=True, allow_none=True)


class OrganizationOut(OrgRef):
    id = fields.Integer(required=True)
    credit_code = fields.String(allow_none=True)
    masked_id = fields.String(allow_none=True)
    production_licence = fields.String(allow_none=True)
    contact_phone = fields.String(allow_none=True)
    cooperative = fields.Function(lambda o: o.cooperative.code if o.cooperative else None, allow_none=True)
    cma_no = fields.String(allow_none=True)
    cma_valid_from = fields.Date(allow_none=True)
    cma_valid_to = fields.Date(allow_none=True)
    cma_parameters = fields.List(fields.String(), allow_none=True)
    created_at = fields.DateTime(required=True)


class OrganizationList(Schema):
    items = fields.List(fields.Nested(OrganizationOut), required=True)
    meta = fields.Nested(ListMeta, required=True)


class UserCreate(StrictSchema):
    username = fields.String(required=True, validate=validate.Length(min=2, max=40))
    org = fields.String(required=True, validate=validate.Length(min=2, max=40))
    role = fields.String(required=True, validate=validate.OneOf([r.value for r in Role]))
    display_name = fields.String(validate=validate.Length(max=120))
    phone = fields.String(validate=validate.Length(max=20))
    # The policy (length, common passwords, the username) is the service's: app/security.py.
    password = fields.String(load_only=True, validate=validate.Length(min=1, max=MAX_PASSWORD_LENGTH))


class UserOut(Schema):
    id = fields.Integer(required=True)
    username = fields.String(required=True)
    display_name = fields.String(allow_none=True)
    org = fields.Function(lambda u: u.organization.code, required=True)
    role = fields.String(required=True)
    is_active = fields.Boolean(required=True)
    created_at = fields.DateTime(required=True)


class UserList(Schema):
    items = fields.List(fields.Nested(UserOut), required=True)
    meta = fields.Nested(ListMeta, required=True)
