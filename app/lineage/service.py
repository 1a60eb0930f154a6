"""Lineage: splits, merges and transformations under mass balance.

A split, a merge and a transformation are one operation: input batches, each taken in whole or in
part, become new output batches. The taking is recorded as ``LineageEdge`` rows (``quantity`` of
the input, in the input's unit, went into the output) under one ``Transformation`` row, and in the
hash chains: every input's chain records what was taken and into which lots, and every output's
first event commits to its inputs' head hashes, so rewriting an input's history is detectable from
any lot made of it (``verify_lineage``).

Mass balance (invariant 6): what leaves a batch is the sum of its outgoing edges, and it may never
exceed the batch's quantity. Inputs are row-locked in id order before the balance is read, so two
concurrent takings of one lot queue up instead of both seeing the same remainder, and two
transformations sharing inputs cannot deadlock.

The trace and lineage verification are in ``app.lineage.trace``.

Size: one operation, read top to bottom: its inputs locked and checked, its outputs checked, the
balance, the new lots and every chain record written in ``_run``; apart, its steps would be read
in several files that only this operation calls.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import func, select

from app import access, clock, units
from app.auth import Actor
from app.batches import service
from app.batches.models import Batch, BatchStatus
from app.batches.schemas import LOT_CODE
from app.catalog.models import ProductLine
from app.db import db, utcnow
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.lineage.models import LineageEdge, Transformation
from app.lineage.trace import TraceEdge

QUANTUM = Decimal("0.001")  # the Quantity column keeps three places
# A yield beyond this is a slip of units (grams in, tonnes out), not a process; the column holds
# Numeric(18, 3) and would overflow long before anything this absurd.
MAX_YIELD_PCT = Decimal(100_000)


def q3(value: Decimal) -> str:
    """A quantity as the API and the chains write it: a string with three places."""
    return str(Decimal(value).quantize(QUANTUM))


# ---------------------------------------------------------------------------------------------
# Mass balance
# ---------------------------------------------------------------------------------------------


def taken_from(batch_id: int) -> Decimal:
    """What has left the batch so far: the sum of its outgoing lineage edges, in its unit."""
    total = db.session.scalar(
        select(func.coalesce(func.sum(LineageEdge.quantity), 0)).where(LineageEdge.input_batch_id == batch_id)
    )
    return Decimal(total or 0)


def remaining(batch: Batch) -> Decimal:
    """What the batch still holds: its quantity less everything that went into other batches."""
    return Decimal(batch.quantity) - taken_from(batch.id)


@dataclass(frozen=True)
class Take:
    """``quantity`` of ``batch`` (in the batch's unit) goes into the operation."""

    batch: int
    quantity: Decimal


@dataclass(frozen=True)
class Output:
    product: str
    quantity: Decimal
    unit: str
    lot_code: str | None = None


@dataclass
class TakenInput:
    batch: Batch
    quantity: Decimal
    remaining: Decimal  # after this operation


@dataclass
class LineageResult:
    transformation: Transformation
    inputs: list[TakenInput]
    outputs: list[Batch]
    edges: list[LineageEdge]
    input_totals: dict[str, Decimal] = field(default_factory=dict)
    output_totals: dict[str, Decimal] = field(default_factory=dict)

    @property
    def trace_edges(self) -> list[TraceEdge]:
        """The edges as the trace gives them: each quantity in its input's unit."""
        units = {t.batch.id: t.batch.unit for t in self.inputs}
        return [
            TraceEdge(
                id=e.id,
                source=e.input_batch_id,
                target=e.output_batch_id,
                quantity=e.quantity,
                unit=units[e.input_batch_id],
                kind=e.kind,
                occurred_at=e.occurred_at,
                transformation=e.transformation_id,
            )
            for e in self.edges
        ]


class _Errors:
    """Field errors gathered over a whole request, so one refusal names every bad index."""

    def __init__(self) -> None:
        self.json: dict[str, Any] = {}

    def add(self, path: Sequence[str | int], reason: str) -> None:
        node = self.json
        for part in path[:-1]:
            node = node.setdefault(str(part), {})
        node.setdefault(str(path[-1]), []).append(reason)

    def __bool__(self) -> bool:
        return bool(self.json)

    def first(self) -> str:
        path: list[str] = []
        node: Any = self.json
        while isinstance(node, dict):
            key = next(iter(node))
            path.append(key)
            node = node[key]
        return f"{'.'.join(path)}: {node[0]}"


def _totals(pairs: Sequence[tuple[Decimal, str]]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {}
    for quantity, unit in pairs:
        totals[unit] = totals.get(unit, Decimal(0)) + Decimal(quantity)
    return totals


def _in_base(pairs: Sequence[tuple[Decimal, str]]) -> tuple[str, Decimal] | None:
    """The sum in the base unit of one kind (app/units.py), or None when the units are of different kinds.

    Counted units (piece, box, brick) are each a kind of their own: a box is not a number of pieces.
    """
    kinds = {units.kind_of(unit) for _, unit in pairs}
    if len(kinds) != 1:
        return None
    return str(kinds.pop()), sum((units.in_base(q, u) for q, u in pairs), Decimal(0))


def yield_pct(inputs: Sequence[tuple[Decimal, str]], outputs: Sequence[tuple[Decimal, str]]) -> Decimal | None:
    """Output over input in percent, when both sides are measured in units of one kind.

    Fruit in kilograms pressed into oil in litres has no percentage yield without a density; the
    totals per unit are recorded instead (see the transformation's ``process.yield``).
    """
    taken, made = _in_base(inputs), _in_base(outputs)
    if taken is None or made is None or taken[0] != made[0] or taken[1] == 0:
        return None
    return (made[1] * 100 / taken[1]).quantize(Decimal("0.01"))


def _apportion(total: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """Split ``total`` over ``weights`` to three places, the rounding remainder on the last share."""
    weight_sum = sum(weights, Decimal(0))
    shares = [(total * w / weight_sum).quantize(QUANTUM, rounding=ROUND_DOWN) for w in weights[:-1]]
    shares.append(total - sum(shares, Decimal(0)))
    return shares


def _check_occurred_at(occurred_at: dt.datetime, now: dt.datetime) -> None:
    clock.refuse_future("occurred_at", occurred_at, now)


@dataclass(frozen=True)
class _Paths:
    """Where an error about an input or an output is reported in the caller's request."""

    input: Callable[[int, str], list[str | int]]
    output: Callable[[int, str], list[str | int]]


_TRANSFORMATION_PATHS = _Paths(
    input=lambda index, name: ["inputs", index, name],
    output=lambda index, name: ["outputs", index, name],
)
# A split's one input is the parent lot (the URL) taken by the sum of the parts.
_SPLIT_PATHS = _Paths(
    input=lambda index, name: ["parts"] if name == "quantity" else ["batch"],
    output=lambda index, name: ["parts", index, name],
)


def _load_inputs(actor: Actor, takes: Sequence[Take], paths: _Paths) -> dict[int, Batch]:
    """Lock every input in id order, then check custody and the balance of each; refuse all or none."""
    errors = _Errors()
    if not takes:
        errors.add(["inputs"], "at least one input is required")
    seen: dict[int, int] = {}
    for index, take in enumerate(takes):
        if take.batch in seen:
            errors.add(paths.input(index, "batch"), f"batch {take.batch} is already taken at index {seen[take.batch]}")
        seen.setdefault(take.batch, index)
        if take.quantity <= 0:
            errors.add(paths.input(index, "quantity"), "must be greater than zero")
    if errors:
        raise InvalidInput(errors.first(), {"json": errors.json})

    # Ascending id order: every writer takes the same locks in the same order, so no deadlock.
    # A lot the caller may not read is reported exactly as a missing one: its existence, its code
    # and its custodian are not the caller's to learn.
    locked: dict[int, Batch] = {}
    for batch_id in sorted(seen):
        try:
            locked[batch_id] = service.lock_batch(access.get_readable_batch(actor, batch_id).id)
        except NotFound:
            errors.add(paths.input(seen[batch_id], "batch"), f"no batch with id {batch_id}")
    if errors:
        raise InvalidInput(errors.first(), {"json": errors.json})

    forbidden = _Errors()
    for index, take in enumerate(takes):
        batch = locked[take.batch]
        if not access.can_write_batch(actor, batch):
            forbidden.add(
                paths.input(index, "batch"),
                f"batch {batch.lot_code} is held by {batch.custodian.code}; only its custodian may take from it",
            )
    if forbidden:
        raise Forbidden(
            f"Only the custodian of every input may do this ({forbidden.first()}).", {"json": forbidden.json}
        )

    pending = _Errors()
    for index, take in enumerate(takes):
        transfer = service.pending_transfer(take.batch)
        if transfer is not None:
            pending.add(
                paths.input(index, "batch"),
                f"batch {locked[take.batch].lot_code} has transfer {transfer.id} pending; accept or reject it first",
            )
    if pending:
        raise Conflict(f"An input is being transferred ({pending.first()}).", {"json": pending.json})

    for take in takes:
        # A held lot is a conflict with its state (409), like a pending transfer, not a bad field.
        service.refuse_if_held(locked[take.batch], "be split, merged or transformed")
    for index, take in enumerate(takes):
        batch = locked[take.batch]
        if batch.status != BatchStatus.active:
            errors.add(
                paths.input(index, "batch"), f"batch {batch.lot_code} is {batch.status}; only active lots are taken"
            )
            continue
        available = remaining(batch)
        if take.quantity > available:
            errors.add(
                paths.input(index, "quantity"),
                f"batch {batch.lot_code} has only {q3(available)} {batch.unit} available; "
                f"{q3(take.quantity)} {batch.unit} asked",
            )
    if errors:
        raise InvalidInput(errors.first(), {"json": errors.json})
    return locked


def _check_outputs(outputs: Sequence[Output], paths: _Paths) -> None:
    errors = _Errors()
    conflicts = _Errors()
    if not outputs:
        errors.add(["outputs"], "at least one output is required")
    lot_codes: dict[str, int] = {}
    for index, out in enumerate(outputs):
        if db.session.get(ProductLine, out.product) is None:
            errors.add(paths.output(index, "product"), f"unknown product {out.product!r}")
        if out.unit not in units.BATCH_UNITS:
            errors.add(paths.output(index, "unit"), f"must be one of {', '.join(units.BATCH_UNITS)}")
        if out.quantity <= 0:
            errors.add(paths.output(index, "quantity"), "must be greater than zero")
        if out.lot_code is not None:
            code = out.lot_code.strip()
            try:
                LOT_CODE(out.lot_code)  # the rule of batch creation: printable on a label, never blank
            except ValidationError as exc:
                errors.add(paths.output(index, "lot_code"), str(exc.messages[0]))
                continue
            if code in lot_codes:
                errors.add(paths.output(index, "lot_code"), f"{code!r} is already given at index {lot_codes[code]}")
            elif db.session.scalar(select(Batch.id).where(Batch.lot_code == code)) is not None:
                conflicts.add(paths.output(index, "lot_code"), f"{code!r} is taken by another batch")
            lot_codes.setdefault(code, index)
    if errors:
        raise InvalidInput(errors.first(), {"json": errors.json})
    if conflicts:
        raise Conflict(conflicts.first(), {"json": conflicts.json})


def _kind_of(inputs: Sequence[Batch], outputs: Sequence[Output]) -> str:
    """``merge`` when several lots of one product become that product again; else ``transformation``.

    Pressing tea leaf into bricks keeps the product line but changes the goods, so one input of
    the same product is a transformation, not a split (splits have their own endpoint).
    """
    products = {b.product_key for b in inputs} | {o.product for o in outputs}
    return "merge" if len(products) == 1 and len(inputs) > 1 else "transformation"


def _run(
    actor: Actor,
    *,
    takes: Sequence[Take],
    outputs: Sequence[Output],
    occurred_at: dt.datetime,
    process: dict[str, Any],
    now: dt.datetime,
    chain_kind: str,
    kind: str | None = None,
    paths: _Paths = _TRANSFORMATION_PATHS,
) -> LineageResult:
    """The one path for splits, merges and transformations."""
    _check_occurred_at(occurred_at, now)
    locked = _load_inputs(actor, takes, paths)
    _check_outputs(outputs, paths)
    inputs = [locked[t.batch] for t in takes]
    kind = kind or _kind_of(inputs, outputs)

    in_pairs = [(t.quantity, locked[t.batch].unit) for t in takes]
    out_pairs = [(o.quantity, o.unit) for o in outputs]
    taken, given = _in_base(in_pairs), _in_base(out_pairs)
    if taken is not None and given is not None and taken[0] == given[0]:
        if kind in ("merge", "split") and given[1] > taken[1]:
            # Same product in, same product out: nothing can be made from nothing.
            raise InvalidInput.field(
                "outputs",
                f"the outputs ({_describe(out_pairs)}) exceed what the inputs give ({_describe(in_pairs)})",
            )
        if given[1] * 100 > MAX_YIELD_PCT * taken[1]:
            # Compared before the percentage is computed: an absurd one need not even fit a Decimal.
            raise InvalidInput.field(
                "outputs",
                f"the outputs ({_describe(out_pairs)}) would be a yield of more than {MAX_YIELD_PCT} % of the "
                f"inputs ({_describe(in_pairs)}); check the units",
            )
    pct = yield_pct(in_pairs, out_pairs)
    input_totals, output_totals = _totals(in_pairs), _totals(out_pairs)
    recorded_process = dict(process)
    recorded_process["yield"] = {
        "inputs": {u: q3(v) for u, v in input_totals.items()},
        "outputs": {u: q3(v) for u, v in output_totals.items()},
        "pct": None if pct is None else str(pct),
    }
    transformation = Transformation(
        kind=kind,
        occurred_at=occurred_at,
        recorded_at=now,
        actor_user_id=actor.user.id,
        actor_org_id=actor.org.id,
        process=recorded_process,
        yield_pct=pct,
    )
    db.session.add(transformation)
    db.session.flush()

    split_parent = inputs[0] if chain_kind == "split" else None
    made: list[Batch] = []
    for out in outputs:
        batch = service.create_batch(
            actor,
            product=out.product,
            quantity=out.quantity,
            unit=out.unit,
            lot_code=out.lot_code,
            produced_at=occurred_at,
            now=now,
            check_role=False,  # the rule here is custody of the inputs, checked above
            open_chain=False,  # its first record is this operation's, below, with the same facts
        )
        if split_parent is not None:
            # A part of a lot is still the same farm's produce from the same plot.
            batch.producer = split_parent.producer
            batch.site = split_parent.site
            batch.gtin = split_parent.gtin
            batch.produced_at = split_parent.produced_at or occurred_at
        made.append(batch)

    # Each input's taking is shared over the outputs in proportion to their quantities (in units
    # of one kind), or equally when the outputs are measured in different kinds of unit.
    base = _in_base(out_pairs)
    weights = [units.in_base(o.quantity, o.unit) for o in outputs] if base else [Decimal(1) for _ in outputs]
    edges: list[LineageEdge] = []
    shares_by_input: dict[int, list[Decimal]] = {}
    for take in takes:
        shares = _apportion(Decimal(take.quantity), weights)
        shares_by_input[take.batch] = shares
        for batch, share in zip(made, shares, strict=True):
            edge = LineageEdge(
                input_batch_id=take.batch,
                output_batch_id=batch.id,
                quantity=share,
                kind=kind,
                occurred_at=occurred_at,
                transformation_id=transformation.id,
            )
            db.session.add(edge)
            edges.append(edge)
    db.session.flush()

    taken_inputs: list[TakenInput] = []
    for take in takes:
        batch = locked[take.batch]
        left = remaining(batch)
        if left == 0:
            batch.status = BatchStatus.consumed
        taken_inputs.append(TakenInput(batch=batch, quantity=Decimal(take.quantity), remaining=left))
        service.append_system_event(
            batch,
            actor,
            chain_kind,
            {
                "transformation": transformation.id,
                "kind": kind,
                "taken": {"quantity": q3(take.quantity), "unit": batch.unit},
                "remaining": {"quantity": q3(left), "unit": batch.unit},
                "outputs": [
                    {"lot_code": out.lot_code, "quantity": q3(share), "unit": batch.unit}
                    for out, share in zip(made, shares_by_input[take.batch], strict=True)
                ],
            },
            occurred_at=occurred_at,
            now=now,
        )

    # The outputs' first events are written after the inputs' records, so they commit to heads
    # that already include the taking itself.
    for position, made_batch in enumerate(made):
        service.append_system_event(
            made_batch,
            actor,
            chain_kind,
            {
                "transformation": transformation.id,
                "kind": kind,
                "inputs": [
                    {
                        "lot_code": locked[take.batch].lot_code,
                        "head_seq": locked[take.batch].head_seq,
                        "head_hash": locked[take.batch].head_hash,
                        "quantity": q3(shares_by_input[take.batch][position]),
                        "unit": locked[take.batch].unit,
                    }
                    for take in takes
                ],
                "made": {"quantity": q3(made_batch.quantity), "unit": made_batch.unit},
                "process": process,
                "batch": service.facts_of(made_batch),
            },
            occurred_at=occurred_at,
            now=now,
        )
    db.session.flush()
    return LineageResult(
        transformation=transformation,
        inputs=taken_inputs,
        outputs=made,
        edges=edges,
        input_totals=input_totals,
        output_totals=output_totals,
    )


def _describe(pairs: Sequence[tuple[Decimal, str]]) -> str:
    return " + ".join(f"{q3(q)} {u}" for q, u in pairs)


def split_batch(
    actor: Actor,
    batch_id: int,
    *,
    parts: Sequence[Decimal],
    lot_codes: Sequence[str | None] | None = None,
    occurred_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> LineageResult:
    """Divide a lot into parts: child lots of the same product and unit, each with its own chain.

    The parts together may not exceed what the lot still holds; when they take all of it, the
    parent is consumed.
    """
    now = now or utcnow()
    occurred_at = occurred_at or now
    errors = _Errors()
    if not parts:
        errors.add(["parts"], "at least one part is required")
    for index, quantity in enumerate(parts):
        if quantity <= 0:
            errors.add(["parts", index, "quantity"], "must be greater than zero")
    if errors:
        raise InvalidInput(errors.first(), {"json": errors.json})
    parent = access.get_readable_batch(actor, batch_id)  # 404 for a lot the caller may not read
    total = sum((Decimal(p) for p in parts), Decimal(0))
    codes = list(lot_codes or [None] * len(parts))
    outputs = [
        Output(product=parent.product_key, quantity=Decimal(p), unit=parent.unit, lot_code=code)
        for p, code in zip(parts, codes, strict=True)
    ]
    return _run(
        actor,
        takes=[Take(batch=batch_id, quantity=total)],
        outputs=outputs,
        occurred_at=occurred_at,
        process={},
        now=now,
        chain_kind="split",
        kind="split",
        paths=_SPLIT_PATHS,
    )


def get_transformation(actor: Actor, transformation_id: int) -> LineageResult:
    """One transformation as it was made, for whoever may read one of its inputs or outputs."""
    return load_transformation(access.get_readable_transformation(actor, transformation_id))


def load_transformation(transformation: Transformation) -> LineageResult:
    """A recorded transformation as it was made: what each input gave, and the outputs.

    ``remaining`` is what each input holds now, which later takings may have lowered.
    """
    edges = list(
        db.session.scalars(
            select(LineageEdge).where(LineageEdge.transformation_id == transformation.id).order_by(LineageEdge.id)
        )
    )
    ids = {e.input_batch_id for e in edges} | {e.output_batch_id for e in edges}
    batches = {b.id: b for b in db.session.scalars(select(Batch).where(Batch.id.in_(ids)))}
    given: dict[int, Decimal] = {}
    for edge in edges:
        given[edge.input_batch_id] = given.get(edge.input_batch_id, Decimal(0)) + Decimal(edge.quantity)
    inputs = [TakenInput(batch=batches[i], quantity=q, remaining=remaining(batches[i])) for i, q in given.items()]
    outputs = [batches[i] for i in dict.fromkeys(e.output_batch_id for e in edges)]
    return LineageResult(
        transformation=transformation,
        inputs=inputs,
        outputs=outputs,
        edges=edges,
        input_totals=_totals([(t.quantity, t.batch.unit) for t in inputs]),
        output_totals=_totals([(Decimal(b.quantity), b.unit) for b in outputs]),
    )


def transform(
    actor: Actor,
    *,
    inputs: Sequence[Take],
    outputs: Sequence[Output],
    occurred_at: dt.datetime,
    process: dict[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> LineageResult:
    """Turn input lots (each in whole or in part) into new output lots, recording the yield.

    One operation for a cooperative merging its members' lots (kind ``merge``: one product in and
    out), tea leaf pressed into bricks, camellia fruit pressed into oil, or flour and oil fried
    into mahua (kind ``transformation``).
    """
    now = now or utcnow()
    return _run(
        actor,
        takes=inputs,
        outputs=outputs,
        occurred_at=occurred_at,
        process=process or {},
        now=now,
        chain_kind="transformation",
    )
