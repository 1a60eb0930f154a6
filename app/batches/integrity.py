"""The rows outside a batch's events that restate its chained records, read for verification.

A batch's facts (its row), its lineage edges, its recalls and its test reports are also stored in
tables of their own, which the trace, recalls, verdicts and pages read. ``restated`` reads them in
the shape the chained records give them (chain.Restated), so chain.check_restated can compare the
two. It reads other features' models only, never their services: verification sits under them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from app.batches import chain
from app.batches.models import Batch
from app.compliance.models import Inspection, InspectionResult, report_chain_extras
from app.compliance.rules import format_decimal
from app.db import db
from app.lineage.models import LineageEdge
from app.orgs.models import Organization
from app.recalls.models import Recall, RecallItem

QUANTUM = Decimal("0.001")


def q3(value: Decimal) -> str:
    """A quantity as the chains write it: a string with three places."""
    return str(Decimal(value).quantize(QUANTUM))


def facts_of(batch: Batch, producer_code: str) -> dict[str, object]:
    return chain.batch_facts(
        lot_code=batch.lot_code,
        product=batch.product_key,
        producer=producer_code,
        quantity=q3(batch.quantity),
        unit=batch.unit,
        created_at=batch.created_at,
        site_id=batch.site_id,
        gtin=batch.gtin,
    )


def chained_result(result: dict[str, Any]) -> dict[str, Any]:
    """One test result as a report's chained record holds it.

    The basis, "below the LOQ" and the LOQ are written only when they say something (not as_is,
    true, a figure), so every report chained before they existed still reads the same.
    """
    out: dict[str, Any] = {
        "parameter": result["parameter"],
        "unit": result["unit"],
        "not_detected": bool(result["not_detected"]),
        "method": result["method"],
        "value": format_decimal(result["value"]),
        "lod": format_decimal(result["lod"]),
    }
    if (result.get("basis") or "as_is") != "as_is":
        out["basis"] = result["basis"]
    if result.get("below_loq"):
        out["below_loq"] = True
    if result.get("loq") is not None:
        out["loq"] = format_decimal(result["loq"])
    return out


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat()


def restated(batch_id: int) -> chain.Restated:
    """What the database's other rows say about one batch, read fresh (never from the identity map)."""
    fresh = {"populate_existing": True}
    row = db.session.execute(
        select(Batch, Organization.code)
        .join(Organization, Organization.id == Batch.producer_org_id)
        .where(Batch.id == batch_id)
        .execution_options(**fresh)
    ).one()
    batch, producer_code = row
    other = db.aliased(Batch)
    edges_out = [
        (tid, lot, q3(qty))
        for tid, lot, qty in db.session.execute(
            select(LineageEdge.transformation_id, other.lot_code, LineageEdge.quantity)
            .join(other, other.id == LineageEdge.output_batch_id)
            .where(LineageEdge.input_batch_id == batch_id)
        )
    ]
    edges_in = [
        (tid, lot, q3(qty))
        for tid, lot, qty in db.session.execute(
            select(LineageEdge.transformation_id, other.lot_code, LineageEdge.quantity)
            .join(other, other.id == LineageEdge.input_batch_id)
            .where(LineageEdge.output_batch_id == batch_id)
        )
    ]
    root = db.aliased(Batch)
    recalls = {
        rid: (lot, severity, reason, depth, status)
        for rid, lot, severity, reason, depth, status in db.session.execute(
            select(Recall.id, root.lot_code, Recall.severity, Recall.reason, RecallItem.depth, Recall.status)
            .join(RecallItem, RecallItem.recall_id == Recall.id)
            .join(root, root.id == Recall.batch_id)
            .where(RecallItem.batch_id == batch_id)
        )
    }
    inspections: dict[Any, dict[str, object]] = {}
    by_id: dict[int, list[object]] = {}
    for inspection, result in db.session.execute(
        select(Inspection, InspectionResult)
        .outerjoin(InspectionResult, InspectionResult.inspection_id == Inspection.id)
        .where(Inspection.batch_id == batch_id)
        .order_by(Inspection.id, InspectionResult.id)
        .execution_options(**fresh)
    ):
        results = by_id.setdefault(inspection.id, [])
        inspections[chain.report_key(inspection.lab_org_id, inspection.lab, inspection.report_no)] = {
            "report_no": inspection.report_no,
            "lab": inspection.lab,
            "sampled_at": _iso(inspection.sampled_at),
            "tested_at": _iso(inspection.tested_at),
            "results": results,
            **report_chain_extras(inspection),
        }
        if result is not None:
            results.append(
                chained_result(
                    {
                        "parameter": result.parameter_key,
                        "unit": result.unit,
                        "not_detected": result.not_detected,
                        "method": result.method,
                        "value": result.value,
                        "lod": result.lod,
                        "basis": result.basis,
                        "below_loq": result.below_loq,
                        "loq": result.loq,
                    }
                )
            )
    return chain.Restated(
        facts=facts_of(batch, producer_code),
        status=batch.status,
        edges_out=edges_out,
        edges_in=edges_in,
        recalls=recalls,
        inspections=inspections,
    )
