"""Opening and closing a recall is set-based: the same statements for 3 descendants as for 24, and
every affected chain still verifies with its record."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from app.batches import service
from app.batches.models import Batch, Event
from app.db import db
from app.lineage import service as lineage
from app.recalls import service as recalls
from app.recalls.models import RecallItem
from tests.conftest import settle
from tests.lineage.factories import T0, actor_of
from tests.statements import counted


def _family(user, make_batch, children: int, grandchildren: int) -> Batch:
    """A lot split into ``children`` lots, each split again into ``grandchildren``."""
    actor = actor_of(user)
    root = make_batch(user, str(children * grandchildren * 10), "kg")
    for child in lineage.split_batch(
        actor, root.id, parts=[Decimal(grandchildren * 10)] * children, occurred_at=T0
    ).outputs:
        lineage.split_batch(actor, child.id, parts=[Decimal(10)] * grandchildren, occurred_at=T0)
    settle()
    return root


def test_a_recall_sends_as_many_statements_for_24_descendants_as_for_3(make_user, make_batch):
    farmer, inspector = make_user("cooperative"), actor_of(make_user("inspector"))
    small, large = _family(farmer, make_batch, 1, 2), _family(farmer, make_batch, 4, 5)
    warm = _family(farmer, make_batch, 1, 1)
    recalls.open_recall(inspector, batch_id=warm.id, reason="warm-up", severity="II")
    counts = {}
    for name, root in (("small", small), ("large", large)):
        root_id = root.id
        assert inspector.user.username and inspector.org.code  # loaded again after the last commit, not counted
        with counted() as opening:
            recall = recalls.open_recall(inspector, batch_id=root_id, reason="铅超标 lead over the limit", severity="I")
        with counted() as closing:
            recalls.close_recall(inspector, recall.id, reason="已全部下架 withdrawn")
        counts[name] = (len(opening), len(closing))
        settle()
    assert counts["large"] == counts["small"], counts

    items = db.session.scalars(select(RecallItem).where(RecallItem.recall_id == recall.id)).all()
    assert len(items) == 1 + 4 + 20
    assert sorted({i.depth for i in items}) == [0, 1, 2]
    assert {i.previous_status for i in items if i.depth == 2} == {"active"}
    for item in items:
        batch = db.session.get(Batch, item.batch_id)
        assert batch is not None and batch.status == "recalled"
        assert service.verify_batch(batch).valid
        tail = db.session.scalars(
            select(Event.stage).where(Event.batch_id == batch.id).order_by(Event.seq.desc()).limit(2)
        ).all()
        assert tail == ["recall_closed", "recall"]
