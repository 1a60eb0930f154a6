"""The checkpoint log, the public key and a batch's proofs as the API gives them."""

from __future__ import annotations

from marshmallow import Schema, fields

from app.schemas import Id, PageArgs, PageMeta, StrictSchema

HEX = {"type": "string", "pattern": "^[0-9a-f]{64}$"}


class PublicKeyOut(Schema):
    algorithm = fields.String(required=True, metadata={"description": "Ed25519"})
    key_id = fields.String(required=True, metadata={"description": "first 16 hex digits of SHA-256(raw key)"})
    pem = fields.String(required=True, metadata={"description": "SubjectPublicKeyInfo PEM"})
    raw = fields.String(required=True, metadata={"description": "the 32-byte key, base64"})


class StatementOut(Schema):
    id = fields.Integer(required=True, metadata={"description": "position in the log: 1, 2, ..."})
    tree_size = fields.Integer(required=True)
    root_hash = fields.String(required=True, metadata=HEX)
    created_at = fields.String(required=True, metadata={"description": "UTC, ISO 8601 with microseconds"})
    prev_id = fields.Integer(required=True, allow_none=True)
    prev_hash = fields.String(required=True, allow_none=True, metadata={"description": "the predecessor's hash"})
    key_id = fields.String(required=True)
    log = fields.String(required=True)
    version = fields.Integer(required=True)


class CheckpointOut(Schema):
    """A checkpoint file: save it, and ``checkpoints verify FILE`` or scripts/verify_checkpoint.py reads it."""

    format = fields.String(required=True)
    checkpoint = fields.Nested(StatementOut, required=True)
    statement = fields.String(required=True, metadata={"description": "the exact signed text (canonical JSON)"})
    hash = fields.String(required=True, metadata={"description": "SHA-256 of the statement", **HEX})
    signature = fields.String(required=True, metadata={"description": "Ed25519 over the statement, base64"})
    public_key = fields.Nested(PublicKeyOut, required=True)


class CheckpointListArgs(PageArgs):
    pass


class CheckpointList(Schema):
    items = fields.List(fields.Nested(CheckpointOut), required=True, metadata={"description": "newest first"})
    meta = fields.Nested(PageMeta, required=True)


class LeafOut(Schema):
    index = fields.Integer(required=True)
    lot_code = fields.String(required=True)
    seq = fields.Integer(required=True, metadata={"description": "the chain is anchored up to this event"})
    head_hash = fields.String(required=True, metadata={"description": "that event's hash", **HEX})
    hash = fields.String(required=True, metadata={"description": "SHA-256(0x00 || leaf bytes)", **HEX})
    encoding = fields.String(required=True, metadata={"description": "how the leaf bytes are written"})


class InclusionOut(Schema):
    leaf_index = fields.Integer(required=True)
    tree_size = fields.Integer(required=True)
    path = fields.List(fields.String(), required=True, metadata={"description": "RFC 9162 audit path, hex"})


class ConsistencyOut(Schema):
    from_ = fields.Nested(CheckpointOut, required=True, data_key="from", attribute="from")
    old_size = fields.Integer(required=True)
    new_size = fields.Integer(required=True)
    path = fields.List(fields.String(), required=True, metadata={"description": "RFC 9162 consistency proof, hex"})


class ProofOut(Schema):
    lot_code = fields.String(required=True)
    leaf = fields.Nested(LeafOut, required=True)
    covers_head = fields.Boolean(
        required=True, metadata={"description": "the leaf is the batch's current head (no event since)"}
    )
    inclusion = fields.Nested(InclusionOut, required=True)
    checkpoint = fields.Nested(CheckpointOut, required=True, metadata={"description": "the latest checkpoint"})
    consistency = fields.Nested(ConsistencyOut, required=True, allow_none=True)


class ProofArgs(StrictSchema):
    from_ = Id(
        data_key="from",
        metadata={"description": "a checkpoint id you saved: adds the consistency proof from it to the latest"},
    )
