"""Mass balance under concurrent takers, and no deadlock when inputs are named in opposite orders.

These tests commit for real (each thread its own session and transaction) and remove what they
made afterwards.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy import delete, func, or_, select

from app.auth import Actor
from app.batches import service
from app.batches.models import Batch, BatchStandard, Event
from app.db import db
from app.errors import InvalidInput
from app.lineage import service as lineage
from app.lineage.models import LineageEdge, Transformation
from app.orgs import service as orgs
from app.orgs.models import Organization, User
from tests.conftest import valid_credit_code
from tests.lineage.factories import T0

THREADS = 6


def _setup(app: Flask, quantities: list[str]) -> dict[str, object]:
    with app.app_context():
        org = orgs.create_organization(
            code="LINEAGE-RACE", name="并发加工厂", kind="processor", credit_code=valid_credit_code(876543210)
        )
        user = orgs.create_user(username="lineage-racer", org_code=org.code, role="processor")
        who = Actor(user=user, org=org)
        lots = [service.create_batch(who, product="loquat", quantity=Decimal(q), unit="kg").id for q in quantities]
        ids = {"org": org.id, "user": user.id, "lots": lots}
        db.session.commit()
        return ids


def _clean_up(app: Flask, ids: dict[str, object]) -> None:
    with app.app_context():
        db.session.rollback()
        made = select(Batch.id).where(Batch.custodian_org_id == ids["org"])
        batch_ids = list(db.session.scalars(made))
        transformation_ids = list(
            db.session.scalars(select(Transformation.id).where(Transformation.actor_org_id == ids["org"]))
        )
        db.session.execute(delete(Event).where(Event.batch_id.in_(batch_ids)))
        db.session.execute(
            delete(LineageEdge).where(
                or_(LineageEdge.input_batch_id.in_(batch_ids), LineageEdge.output_batch_id.in_(batch_ids))
            )
        )
        db.session.execute(delete(Transformation).where(Transformation.id.in_(transformation_ids)))
        db.session.execute(delete(BatchStandard).where(BatchStandard.batch_id.in_(batch_ids)))
        db.session.execute(delete(Batch).where(Batch.id.in_(batch_ids)))
        db.session.execute(delete(User).where(User.id == ids["user"]))
        db.session.execute(delete(Organization).where(Organization.id == ids["org"]))
        db.session.commit()


def _race(
    app: Flask, ids: dict[str, object], attempt: Callable[[Actor, int, int], None], rounds: int
) -> dict[str, int]:
    """Run ``attempt(actor, thread, round)`` from THREADS threads at once, one transaction each."""
    outcome = {"taken": 0, "refused": 0}
    lock = threading.Lock()
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def worker(n: int) -> None:
        try:
            start.wait()
            for i in range(rounds):
                with app.app_context():
                    user = db.session.get(User, ids["user"])
                    try:
                        attempt(Actor(user=user, org=user.organization), n, i)
                        db.session.commit()
                        key = "taken"
                    except InvalidInput:
                        db.session.rollback()
                        key = "refused"
                    with lock:
                        outcome[key] += 1
        except BaseException as exc:  # reported in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    return outcome


@pytest.mark.committing
def test_concurrent_takers_never_take_more_than_the_lot_holds(app: Flask):
    ids = _setup(app, ["100"])
    (lot,) = ids["lots"]  # type: ignore[misc]

    def take(actor: Actor, n: int, i: int) -> None:
        lineage.transform(
            actor,
            inputs=[lineage.Take(batch=lot, quantity=Decimal(7))],
            outputs=[lineage.Output(product="loquat", quantity=Decimal(7), unit="kg")],
            occurred_at=T0,
        )

    try:
        outcome = _race(app, ids, take, rounds=4)
        # 100 kg in 7 kg takes: exactly fourteen fit, whatever the interleaving.
        assert outcome == {"taken": 14, "refused": THREADS * 4 - 14}
        with app.app_context():
            taken = db.session.scalar(select(func.sum(LineageEdge.quantity)).where(LineageEdge.input_batch_id == lot))
            assert Decimal(taken) == Decimal(98)
            batch = db.session.get(Batch, lot)
            assert batch.status == "active"
            # Every taking is in the lot's chain, in order, and the chain holds.
            assert batch.head_seq == 15 and service.verify_batch(batch).valid  # 1: created
    finally:
        _clean_up(app, ids)


@pytest.mark.committing
def test_inputs_named_in_opposite_orders_do_not_deadlock(app: Flask):
    ids = _setup(app, ["1000", "1000"])
    a, b = ids["lots"]  # type: ignore[misc]

    def merge(actor: Actor, n: int, i: int) -> None:
        order = [a, b] if n % 2 == 0 else [b, a]
        lineage.transform(
            actor,
            inputs=[lineage.Take(batch=x, quantity=Decimal(1)) for x in order],
            outputs=[lineage.Output(product="loquat", quantity=Decimal(2), unit="kg")],
            occurred_at=T0,
        )

    try:
        assert _race(app, ids, merge, rounds=5) == {"taken": THREADS * 5, "refused": 0}
        with app.app_context():
            for lot in (a, b):
                batch = db.session.get(Batch, lot)
                assert batch.head_seq == THREADS * 5 + 1 and service.verify_batch(batch).valid  # 1: created
    finally:
        _clean_up(app, ids)
