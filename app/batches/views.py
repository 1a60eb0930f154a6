"""The batches API: create and find batches, append and read their events, verify their chain.

Who may read what (invariant 4): inspectors and admins read every batch; anyone else reads the
batches their organization holds, produced, handed over or was offered through a transfer, and a
cooperative also reads its member households' batches. A batch you may not read is a 404, the same
as one that does not exist, so ids cannot be probed. Only the custodian writes (the service checks).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from marshmallow import RAISE
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import selectinload

from app.api import Blueprint
from app.auth import actor, require_roles
from app.batches import service
from app.batches.journey import build_journey
from app.batches.models import Batch, BatchStandard
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
from app.batches.service import get_readable_batch, readable_clause
from app.db import db
from app.orgs.models import Organization
from app.schemas import ErrorOut, page_of

blp = Blueprint("batches", __name__, url_prefix="/api/v1", description="Batches, their events and the hash chain")

BEARER: list[dict[str, list[str]]] = [{"bearerAuth": []}]
# Query strings refuse unknown keys as bodies do (webargs would drop them): a misspelt filter
# (``prodcut=mahua``) must fail, not silently list everything.
QUERY: dict[str, Any] = {"location": "query", "unknown": RAISE}
# The pilot runs in Xianning: a day in a date filter is a day in China Standard Time.
CHINA = dt.timezone(dt.timedelta(hours=8), "CST")


def _batch_loads() -> list[Any]:
    # Everything BatchOut reads, in a fixed number of queries however long the page.
    return [
        selectinload(Batch.product),
        selectinload(Batch.custodian),
        selectinload(Batch.producer),
        selectinload(Batch.site),
        selectinload(Batch.standards).selectinload(BatchStandard.standard),
    ]


@blp.route("/batches", methods=["POST"])
@blp.arguments(BatchCreate)
@blp.response(201, BatchOut)
@blp.alt_response(403, schema=ErrorOut, description="The role may not create batches.")
@blp.alt_response(409, schema=ErrorOut, description="The lot code is taken.")
@blp.doc(security=BEARER)
@require_roles(service.CREATOR_ROLES)
def create_batch(body: dict[str, Any]) -> Batch:
    """Create a batch held by the caller's organization (farmer, cooperative, processor)."""
    return service.create_batch(actor(), **body)


@blp.route("/batches", methods=["GET"])
@blp.arguments(BatchQuery, **QUERY)
@blp.response(200, BatchList)
@blp.doc(security=BEARER)
@require_roles()
def list_batches(args: dict[str, Any]) -> dict[str, Any]:
    """List the batches the caller may read, newest first; filter by product, status, custodian, date."""
    conditions: list[ColumnElement[bool]] = []
    clause = readable_clause(actor())
    if clause is not None:
        conditions.append(clause)
    if "product" in args:
        conditions.append(Batch.product_key == args["product"])
    if "status" in args:
        conditions.append(Batch.status == args["status"])
    if "custodian" in args:
        conditions.append(
            Batch.custodian_org_id.in_(select(Organization.id).where(Organization.code == args["custodian"]))
        )
    if "from_" in args:
        conditions.append(Batch.created_at >= dt.datetime.combine(args["from_"], dt.time(), CHINA))
    if "to" in args:
        conditions.append(Batch.created_at < dt.datetime.combine(args["to"] + dt.timedelta(days=1), dt.time(), CHINA))
    total = db.session.scalar(select(func.count(Batch.id)).where(*conditions)) or 0
    page, per_page = args["page"], args["per_page"]
    rows = db.session.scalars(
        select(Batch)
        .where(*conditions)
        .options(*_batch_loads())
        .order_by(Batch.created_at.desc(), Batch.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return page_of(list(rows), page, per_page, total)


@blp.route("/batches/<int(min=1, max=2147483647):batch_id>", methods=["GET"])
@blp.response(200, BatchOut)
@blp.alt_response(404, schema=ErrorOut, description="No such batch, or not one the caller may read.")
@blp.doc(security=BEARER)
@require_roles()
def get_batch(batch_id: int) -> Batch:
    """One batch: custodian, producer, status, chain head and the standards it is bound to."""
    return get_readable_batch(batch_id, actor())


@blp.route("/batches/<int(min=1, max=2147483647):batch_id>/events", methods=["POST"])
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
    who = actor()
    batch = get_readable_batch(batch_id, who)
    result = service.append_event(batch.id, who, idempotency_key=headers.get("idempotency_key"), **body)
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
    return {"items": [r.event for r in results]}, 200 if replayed else 201


@blp.route("/batches/<int(min=1, max=2147483647):batch_id>/events", methods=["GET"])
@blp.arguments(EventsQuery, **QUERY)
@blp.response(200, BatchJourneyOut)
@blp.alt_response(404, schema=ErrorOut, description="No such batch, or not one the caller may read.")
@blp.doc(security=BEARER)
@require_roles()
def journey(args: dict[str, Any], batch_id: int) -> dict[str, Any]:
    """The journey in order, corrections applied and kept; ``raw=true`` adds every stored event."""
    batch = get_readable_batch(batch_id, actor())
    events = service.events_of(batch)
    out: dict[str, Any] = {"batch_id": batch.id, "lot_code": batch.lot_code, "items": build_journey(events)}
    if args["raw"]:
        out["events"] = events
    return out


@blp.route("/batches/<int(min=1, max=2147483647):batch_id>/verify", methods=["GET"])
@blp.response(200, ChainVerifyOut)
@blp.alt_response(404, schema=ErrorOut, description="No such batch, or not one the caller may read.")
@blp.doc(security=BEARER)
@require_roles()
def verify(batch_id: int) -> Any:
    """Recompute the batch's hash chain from the stored rows; name the first event that is off."""
    return service.verify_batch(get_readable_batch(batch_id, actor()))
