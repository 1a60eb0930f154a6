"""What the desk's batch page shows beyond the verdict: the lot's state and hold, its 承诺达标合格证,
its timeline, its lineage up and down, and the links to its consumer page and QR code.

Read-only: the page's forms post to app/web/batch_actions.py.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import select

from app import access, clock
from app.auth import Actor
from app.batches import service as batches
from app.batches.models import Batch, BatchStatus, Event
from app.batches.vocabulary import record_name
from app.commitments import service as commitments
from app.db import db
from app.holds.service import DISPOSITIONS
from app.lineage.models import LineageEdge
from app.recalls.service import SEVERITIES


def _lots(ids: set[int]) -> list[Batch]:
    if not ids:
        return []
    return list(db.session.scalars(select(Batch).where(Batch.id.in_(ids)).order_by(Batch.lot_code)))


def extras(who: Actor, batch: Batch) -> dict[str, Any]:
    """The batch page's state, certificate, timeline, lineage and links."""
    events = list(db.session.scalars(select(Event).where(Event.batch_id == batch.id).order_by(Event.seq)))
    timeline = [
        {
            "seq": e.seq,
            "name": record_name(e.stage),
            "stage": e.stage,
            "occurred_at": clock.to_china(e.occurred_at),
            "org": e.actor_org.name if e.actor_org else "",
            "data": e.data,
        }
        for e in events
    ]
    holds = [e for e in events if e.stage == "hold"]
    edges = LineageEdge
    parents = set(db.session.scalars(select(edges.input_batch_id).where(edges.output_batch_id == batch.id)))
    children = set(db.session.scalars(select(edges.output_batch_id).where(edges.input_batch_id == batch.id)))
    certificate = commitments.certificate_of(batch.id)
    base = current_app.config["PUBLIC_BASE_URL"]
    return {
        "timeline": timeline,
        "hold": holds[-1].data if holds and batch.status == BatchStatus.on_hold else None,
        "parents": [b for b in _lots(parents) if access.can_read_batch(who, b)],
        "children": [b for b in _lots(children) if access.can_read_batch(who, b)],
        "commitment": certificate,
        "commitment_issued_on": clock.to_china(certificate.issued_at).strftime("%Y-%m-%d") if certificate else None,
        "commitment_receipts": commitments.receipts_of(batch.id) if certificate else [],
        "commitment_required": commitments.required_for(batch),
        "public_url": batches.public_url(base, batch),
        "can_dispose": access.oversees(who),
        "can_recall": batch.status in (BatchStatus.active, BatchStatus.on_hold, BatchStatus.consumed)
        and (access.oversees(who) or batch.producer_org_id == who.org.id),
        "dispositions": DISPOSITIONS,
        "severities": SEVERITIES,
    }
