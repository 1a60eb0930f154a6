"""The batches API: create and find batches, append and read their events, verify their chain.

Who may read and write which batch is app/access.py's to say: a batch you may not read is a 404,
the same as one that does not exist, so ids cannot be probed; only the custodian writes. Each view
loads its schema, calls one service function and dumps.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from marshmallow import RAISE

from app import access, clock
from app.api import Blueprint
from app.auth import actor, require_roles
from app.batches import service
from app.batches.models import Batch
from app.batches.schemas import (
    BatchCreate,
    BatchJourneyOut,
    BatchList,
    BatchOut,
    BatchQuery,
    BulkEventsIn,
    BulkEventsOut,
    ChainVerifyOut,
    EventCreate,
    EventOut,
    EventsQuery,
    IdempotencyHeaders,
)
from app.schemas import ErrorOut, Page

blp = Blueprint("batches", __name__, url_prefix="/api/v1", description="Batches, their events and the hash chain")

BEARER: list[dict[str, list[str]]] = [{"bearerAuth": []}]
# Query strings refuse unknown keys as bodies do (webargs would drop them): a misspelt filter
# (``prodcut=mahua``) must fail, not silently list everything.
QUERY: dict[str, Any] = {"location": "query", "unknown": RAISE}
# The pilot runs in Xianning: a day in a date filter is a day in China Standard Time.


@blp.route("/batches", methods=["POST"])
@blp.arguments(BatchCreate)
@blp.response(201, BatchOut)
@blp.alt_response(403, schema=ErrorOut, description="The role may not create batches.")
@blp.alt_response(409, schema=ErrorOut, description="The lot code is taken.")
@blp.doc(security=BEARER)
@require_roles(access.BATCH_CREATOR_ROLES)
def create_batch(body: dict[str, Any]) -> Batch:
    """Create a batch held by the caller's organization (farmer, cooperative, processor)."""
    return service.create_batch(actor(), **body)


@blp.route("/batches", methods=["GET"])
@blp.arguments(BatchQuery, **QUERY)
@blp.response(200, BatchList)
@blp.doc(security=BEARER)
@require_roles()
def list_batches(args: dict[str, Any]) -> Page:
    """List the batches the caller may read, newest first; filter by product, status, custodian, date."""
    # A day in the filter is a China day: its bounds as moments, for the service.
    created_from = clock.china_midnight(args["from_"]) if "from_" in args else None
    created_before = clock.china_midnight(args["to"] + dt.timedelta(days=1)) if "to" in args else None
    return service.list_batches(
        actor(),
        product=args.get("product"),
        status=args.get("status"),
        custodian=args.get("custodian"),
        created_from=created_from,
        created_before=created_before,
        page=args["page"],
        per_page=args["per_page"],
    )


@blp.route("/batches/<id:batch_id>", methods=["GET"])
@blp.response(200, BatchOut)
@blp.alt_response(404, schema=ErrorOut, description="No such batch, or not one the caller may read.")
@blp.doc(security=BEARER)
@require_roles()
def get_batch(batch_id: int) -> Batch:
    """One batch: custodian, producer, status, chain head and the standards it is bound to."""
    return access.get_readable_batch(actor(), batch_id)


@blp.route("/batches/<id:batch_id>/events", methods=["POST"])
@blp.arguments(EventCreate)
@blp.arguments(IdempotencyHeaders, location="headers")
@blp.response(201, EventOut, description="The event was appended to the chain.")
@blp.alt_response(
    200, schema=EventOut, success=True, description="A retry with the same Idempotency-Key: the event already stored."
)
@blp.alt_response(403, schema=ErrorOut, description="The caller's organization is not the batch's custodian.")
@blp.alt_response(404, schema=ErrorOut, description="No such batch, or not one the caller may read.")
@blp.alt_response(
    409, schema=ErrorOut, description="The Idempotency-Key was used for another body, or the batch takes no events."
)
@blp.doc(security=BEARER)
@require_roles()
def append_event(body: dict[str, Any], headers: dict[str, Any], batch_id: int) -> tuple[Any, int]:
    """Append a stage event, or an amendment naming the seq it corrects (custodian only)."""
    result = service.append_event(batch_id, actor(), idempotency_key=headers.get("idempotency_key"), **body)
    return result.event, 201 if result.created else 200


@blp.route("/events/bulk", methods=["POST"])
@blp.arguments(BulkEventsIn)
@blp.arguments(IdempotencyHeaders, location="headers")
@blp.response(201, BulkEventsOut, description="Every event was appended, in request order.")
@blp.alt_response(
    200, schema=BulkEventsOut, success=True, description="A retry with the same Idempotency-Key: the events stored."
)
@blp.alt_response(
    422, schema=ErrorOut, description="Some rows were refused (errors.json.events.<index>); nothing was stored."
)
@blp.doc(security=BEARER)
@require_roles()
def append_events(body: dict[str, Any], headers: dict[str, Any]) -> tuple[Any, int]:
    """Append up to 200 events to any batches the caller holds, all or nothing (a cooperative's day of logging)."""
    results = service.append_events(actor(), body["events"], idempotency_key=headers.get("idempotency_key"))
    replayed = all(not r.created for r in results)
    return Page.whole([r.event for r in results]), 200 if replayed else 201


@blp.route("/batches/<id:batch_id>/events", methods=["GET"])
@blp.arguments(EventsQuery, **QUERY)
@blp.response(200, BatchJourneyOut)
@blp.alt_response(404, schema=ErrorOut, description="No such batch, or not one the caller may read.")
@blp.doc(security=BEARER)
@require_roles()
def journey(args: dict[str, Any], batch_id: int) -> dict[str, Any]:
    """The journey in order, corrections applied and kept; ``raw=true`` adds every stored event."""
    return service.journey(actor(), batch_id, raw=args["raw"])


@blp.route("/batches/<id:batch_id>/verify", methods=["GET"])
@blp.response(200, ChainVerifyOut)
@blp.alt_response(404, schema=ErrorOut, description="No such batch, or not one the caller may read.")
@blp.doc(security=BEARER)
@require_roles()
def verify(batch_id: int) -> Any:
    """Recompute the batch's hash chain from the stored rows; name the first event that is off."""
    return service.verify_batch(access.get_readable_batch(actor(), batch_id))
