"""The trace (one recursive query over the lineage edges) and the verification of a lot's lineage.

Both walk the two ``lineage_edges`` indexes, so their cost follows the size of the answer, not of
the database. The same SQL runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Integer, Select, String, cast, func, literal, null, select, union_all

from app.batches import service
from app.batches.models import Batch, Event
from app.db import db
from app.errors import InvalidInput, NotFound
from app.lineage.models import LineageEdge
from app.orgs.models import Organization
from app.schemas import MAX_ID

DEFAULT_TRACE_DEPTH = 50
MAX_TRACE_DEPTH = 100
DIRECTIONS = ("upstream", "downstream", "both")


# Plain slotted records: a trace builds a thousand of each, and a frozen dataclass sets every
# field through object.__setattr__.
@dataclass(slots=True)
class TraceNode:
    id: int
    lot_code: str
    product: str
    quantity: Decimal
    unit: str
    custodian: str
    status: str
    depth: int
    relation: str  # root, ancestor or descendant


@dataclass(slots=True)
class TraceEdge:
    id: int
    source: int  # the input batch
    target: int  # the output batch
    quantity: Decimal
    unit: str
    kind: str
    occurred_at: dt.datetime
    transformation: int | None


@dataclass
class Trace:
    root: TraceNode
    direction: str
    depth: int
    nodes: list[TraceNode]
    edges: list[TraceEdge]
    truncated: bool  # some lot lies beyond ``depth``

    def descendants(self) -> list[TraceNode]:
        return [n for n in self.nodes if n.relation == "descendant"]

    def ancestors(self) -> list[TraceNode]:
        return [n for n in self.nodes if n.relation == "ancestor"]


def _walk(root_id: int, downstream: bool, limit: int) -> Any:
    """Recursive CTE of (edge id, batch id, depth) reached from the root in one direction.

    UNION (not UNION ALL) drops a row already produced, so on a diamond the lot where two paths
    meet is expanded once per distance, not once per path; the depth bound stops the walk even on
    a cycle, which the write path never creates.
    """
    edge = LineageEdge.__table__
    name = "downstream" if downstream else "upstream"
    # The edge's own columns travel with the walk, so the answer needs no second look-up of each edge.
    anchor = select(
        cast(null(), Integer).label("edge_id"),
        literal(root_id, Integer).label("batch_id"),
        literal(0, Integer).label("depth"),
        cast(null(), Integer).label("input_batch_id"),
        cast(null(), Integer).label("output_batch_id"),
        cast(null(), edge.c.quantity.type).label("quantity"),
        cast(null(), edge.c.kind.type).label("kind"),
        cast(null(), edge.c.occurred_at.type).label("occurred_at"),
        cast(null(), Integer).label("transformation_id"),
    ).cte(name, recursive=True)
    near, far = (
        (edge.c.input_batch_id, edge.c.output_batch_id)
        if downstream
        else (edge.c.output_batch_id, edge.c.input_batch_id)
    )
    step = (
        select(
            edge.c.id,
            far,
            (anchor.c.depth + 1).label("depth"),
            edge.c.input_batch_id,
            edge.c.output_batch_id,
            edge.c.quantity,
            edge.c.kind,
            edge.c.occurred_at,
            edge.c.transformation_id,
        )
        .select_from(edge.join(anchor, near == anchor.c.batch_id))
        .where(anchor.c.depth < limit)
    )
    return anchor.union(step)


def descendants(root_id: int, limit: int = MAX_TRACE_DEPTH) -> Any:
    """The root and every lot made from it within ``limit`` steps, each once at its least depth:
    a subquery of (batch_id, depth), for set-based writes over a lot's descendants (a recall)."""
    walk = _walk(root_id, downstream=True, limit=limit)
    return select(walk.c.batch_id, func.min(walk.c.depth).label("depth")).group_by(walk.c.batch_id).subquery("reached")


def trace_statement(root_id: int, direction: str, limit: int) -> Select[Any]:
    """The one statement behind a trace: the walk(s) joined to the lots and edges they reached.

    Separate from ``trace`` so the benchmark can EXPLAIN exactly what the API runs.
    """
    walks = []
    if direction in ("upstream", "both"):
        walks.append((_walk(root_id, downstream=False, limit=limit), "ancestor"))
    if direction in ("downstream", "both"):
        walks.append((_walk(root_id, downstream=True, limit=limit), "descendant"))
    edge_columns = ("input_batch_id", "output_batch_id", "quantity", "kind", "occurred_at", "transformation_id")
    reached = union_all(
        *(
            select(
                w.c.edge_id,
                w.c.batch_id,
                w.c.depth,
                literal(relation, String).label("relation"),
                *(w.c[name] for name in edge_columns),
            )
            for w, relation in walks
        )
    ).subquery("reached")
    return (
        select(
            reached.c.edge_id,
            reached.c.depth,
            reached.c.relation,
            Batch.id,
            Batch.lot_code,
            Batch.product_key,
            Batch.quantity,
            Batch.unit,
            Batch.status,
            Organization.code,
            *(reached.c[name] for name in edge_columns),
        )
        .select_from(reached)
        .join(Batch, Batch.id == reached.c.batch_id)
        .join(Organization, Organization.id == Batch.custodian_org_id)
    )


def trace(root_id: int, direction: str = "both", depth: int = DEFAULT_TRACE_DEPTH) -> Trace:
    """The lineage graph around a batch: each lot once, each edge once, up to ``depth`` steps away."""
    if direction not in DIRECTIONS:
        raise InvalidInput.field("direction", f"must be one of {', '.join(DIRECTIONS)}", location="query")
    if not 1 <= depth <= MAX_TRACE_DEPTH:
        raise InvalidInput.field("depth", f"must be between 1 and {MAX_TRACE_DEPTH}", location="query")
    if not 0 < root_id <= MAX_ID:
        raise NotFound(f"no batch with id {root_id}")
    # Walk one step further than asked: a row beyond the bound says the answer was cut short.
    # Plain rows on the session's connection: no ORM result machinery for a thousand tuples.
    rows = db.session.connection().execute(trace_statement(root_id, direction, depth + 1)).all()
    if not rows:
        raise NotFound(f"no batch with id {root_id}")

    nodes: dict[int, TraceNode] = {}
    # Each edge with the lot it leads to in the walk's direction; UNION already dropped repeats of
    # (edge, lot, depth), the same edge met at two depths is kept once here.
    walked: dict[int, tuple[int, Any]] = {}
    for row in rows:
        (edge_id, row_depth, relation, batch_id, lot_code, product, quantity, unit, status, custodian,
         edge_in, edge_out, edge_qty, edge_kind, edge_at, transformation_id) = row  # fmt: skip
        if edge_id is not None:
            walked[edge_id] = (batch_id, (edge_in, edge_out, edge_qty, edge_kind, edge_at, transformation_id))
        if row_depth > depth:
            continue
        known = nodes.get(batch_id)
        if known is None or row_depth < known.depth:
            nodes[batch_id] = TraceNode(
                id=batch_id,
                lot_code=lot_code,
                product=product,
                quantity=Decimal(quantity),
                unit=unit,
                custodian=custodian,
                status=status,
                depth=row_depth,
                relation="root" if row_depth == 0 else relation,
            )
    # Every lot within the bound, and every edge between them that the walk followed (an edge
    # met one step past the bound still joins two lots within it). A lot met only past the bound
    # means the answer was cut short.
    edges = [
        TraceEdge(
            id=edge_id,
            source=e_in,
            target=e_out,
            quantity=Decimal(qty),
            unit=nodes[e_in].unit,
            kind=kind,
            occurred_at=at,
            transformation=tid,
        )
        for edge_id, (reached_id, (e_in, e_out, qty, kind, at, tid)) in sorted(walked.items())
        if reached_id in nodes
    ]
    truncated = any(reached_id not in nodes for reached_id, _ in walked.values())
    order = {"ancestor": 0, "root": 1, "descendant": 2}
    ordered = sorted(nodes.values(), key=lambda n: (order[n.relation], n.depth, n.id))
    return Trace(root=nodes[root_id], direction=direction, depth=depth, nodes=ordered, edges=edges, truncated=truncated)


def parents_of(batch_ids: Select[Any]) -> dict[int, list[str]]:
    """The lot codes each batch ``batch_ids`` selects was made from (its direct inputs), for recall sheets."""
    parent = db.aliased(Batch)
    rows = db.session.execute(
        select(LineageEdge.output_batch_id, parent.lot_code)
        .join(parent, parent.id == LineageEdge.input_batch_id)
        .where(LineageEdge.output_batch_id.in_(batch_ids))
        .order_by(LineageEdge.output_batch_id, parent.lot_code)
    ).all()
    found: dict[int, list[str]] = {}
    for output_id, lot_code in rows:
        codes = found.setdefault(output_id, [])
        if lot_code not in codes:
            codes.append(lot_code)
    return found


# ---------------------------------------------------------------------------------------------
# Verifying lineage: do the inputs' chains still hold what the outputs committed to?
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InputCheck:
    lot_code: str
    head_seq: int | None
    head_hash: str
    found: bool  # the input's chain still has an event with that hash at that place
    chain_valid: bool  # and the input's chain recomputes from its stored rows

    @property
    def ok(self) -> bool:
        return self.found and self.chain_valid


@dataclass(frozen=True)
class LotCheck:
    batch_id: int
    lot_code: str
    chain_valid: bool
    first_invalid_seq: int | None
    reason: str | None
    inputs: list[InputCheck]

    @property
    def ok(self) -> bool:
        return self.chain_valid and all(i.ok for i in self.inputs)


@dataclass(frozen=True)
class LineageReport:
    root: str
    lots: list[LotCheck]

    @property
    def valid(self) -> bool:
        return all(lot.ok for lot in self.lots)


def verify_lineage(batch: Batch, depth: int = MAX_TRACE_DEPTH) -> LineageReport:
    """Recompute the chain of the batch and of every ancestor, and check each commitment an output
    made to an input's head hash against that input's chain as it is stored now.
    """
    graph = trace(batch.id, "upstream", depth)
    ids = [n.id for n in graph.nodes]
    batches = {b.id: b for b in db.session.scalars(select(Batch).where(Batch.id.in_(ids)))}
    by_code = {b.lot_code: b for b in batches.values()}
    reports = {bid: service.verify_batch(b) for bid, b in batches.items()}
    # The first event of a lot made by a split or transformation names its inputs' heads.
    firsts = {
        ev.batch_id: ev
        for ev in db.session.scalars(
            select(Event)
            .where(Event.batch_id.in_(ids), Event.seq == 1, Event.stage.in_(("split", "transformation")))
            .execution_options(populate_existing=True)
        )
    }
    lots: list[LotCheck] = []
    for node in graph.nodes:
        checks: list[InputCheck] = []
        first = firsts.get(node.id)
        for committed in first.data.get("inputs", []) if first else []:
            source = by_code.get(committed["lot_code"]) or db.session.scalar(
                select(Batch).where(Batch.lot_code == committed["lot_code"])
            )
            found, valid = False, False
            if source is not None:
                query = select(Event.id).where(Event.batch_id == source.id, Event.hash == committed["head_hash"])
                if committed.get("head_seq") is not None:
                    query = query.where(Event.seq == committed["head_seq"])
                found = db.session.scalar(query.limit(1)) is not None
                report = reports.get(source.id) or service.verify_batch(source)
                valid = report.valid
            checks.append(
                InputCheck(
                    lot_code=committed["lot_code"],
                    head_seq=committed.get("head_seq"),
                    head_hash=committed["head_hash"],
                    found=found,
                    chain_valid=valid,
                )
            )
        report = reports[node.id]
        lots.append(
            LotCheck(
                batch_id=node.id,
                lot_code=node.lot_code,
                chain_valid=report.valid,
                first_invalid_seq=report.first_invalid_seq,
                reason=report.reason,
                inputs=checks,
            )
        )
    return LineageReport(root=batch.lot_code, lots=lots)
