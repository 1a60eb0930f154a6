"""The audit's 22 tamperings (issue 12), each done directly in SQL, each found by a check.

An insider with database access and the published algorithm tried, and each is now found by
``/verify``, ``/verify-lineage``, the consumer page or ``checkpoints verify`` against a checkpoint
file saved before the tampering. The suite runs on SQLite and PostgreSQL alike.

 1. data: an event's stage data rewritten                           /verify
 2. swapped: two events' contents exchanged                         /verify
 3. deleted: an event in the middle removed                         /verify
 4. renumbered: the last event's seq moved                          /verify
 5. truncated, head fixed: the last event removed, the head moved   checkpoints verify
 6. fully re-chained: data changed, every hash and the head redone  checkpoints verify
 7. timestamps: an event's occurred_at moved                        /verify
 8. actor: an event's user swapped for another                      /verify
 9. batch quantity                                                  /verify (first record's facts)
10. batch producer                                                  /verify
11. batch lot code                                                  /verify, and the page at once
12. batch product                                                   /verify
13. batch unit                                                      /verify
14. batch creation time                                             /verify
15. inspection values: a result's value lowered                     /verify (the chained report)
16. inspection rows: a report's rows deleted                        /verify
17. catalog limit raised                                            the verdict, catalog verify
18. lineage edge deleted                                            parent's /verify, child's verify-lineage
19. lineage edge redirected to another lot                          parent's, old and new child's checks
20. lineage edge re-weighed                                         parent's /verify, child's verify-lineage
21. recall rows deleted (and the status reset)                      the page still shows the recall
22. a batch removed after the checkpoint                            checkpoints verify
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select, text, update

from app.batches import chain
from app.batches.models import Batch, Event
from app.db import db
from app.orgs.models import Organization, User
from tests.batches.conftest import Party, post_event
from tests.checkpoints.conftest import save
from tests.compliance.factories import post_inspection
from tests.conftest import settle


@dataclass
class World:
    owner: Party
    inspector: Party
    lot: Batch  # three storage records
    parent: Batch  # split into the two children
    children: list[dict[str, Any]]
    tested: Batch  # a test report on record
    report_no: str
    recalled: Batch
    saved: Any  # the checkpoint file saved before any tampering


@pytest.fixture
def world(client, party, make_batch, checkpoint, tmp_path) -> World:
    owner, inspector = party("farmer"), party("inspector")
    lot = make_batch(owner)
    for day in ("2026-05-01", "2026-05-02", "2026-05-03"):
        assert post_event(client, owner, lot.id, "storage", day=day).status_code == 201
    parent = make_batch(owner)
    split = client.post(
        f"/api/v1/batches/{parent.id}/split",
        json={"parts": [{"quantity": "200"}, {"quantity": "300"}]},
        headers=owner.headers,
    )
    assert split.status_code == 201, split.get_json()
    tested = make_batch(owner)
    report = post_inspection(
        client, inspector.headers, tested.id, [{"parameter": "fluoride", "value": "350", "unit": "mg/kg"}]
    )
    assert report.status_code == 201, report.get_json()
    recalled = make_batch(owner)
    opened = client.post(
        "/api/v1/recalls",
        json={"batch": recalled.id, "reason": "抽检发现氟超标", "severity": "II"},
        headers=inspector.headers,
    )
    assert opened.status_code == 201, opened.get_json()
    settle()
    assert checkpoint().exit_code == 0
    saved = save(tmp_path, "saved.json", client.get("/api/v1/checkpoints/latest").get_json())
    world = World(
        owner, inspector, lot, parent, split.get_json()["outputs"], tested, report.get_json()["report_no"],
        recalled, saved,
    )  # fmt: skip
    for batch in (lot, parent, tested, recalled):
        assert verify(client, world, batch.id)["valid"] is True
    for child in world.children:
        assert lineage(client, world, child["id"])["valid"] is True
    return world


def sql(statement: str, **params: Any) -> None:
    db.session.execute(text(statement), params)
    settle()
    db.session.expire_all()


def verify(client, world: World, batch_id: int) -> dict[str, Any]:
    response = client.get(f"/api/v1/batches/{batch_id}/verify", headers=world.inspector.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def lineage(client, world: World, batch_id: int) -> dict[str, Any]:
    response = client.get(f"/api/v1/batches/{batch_id}/verify-lineage", headers=world.inspector.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def found(client, world: World, batch_id: int, seq: int, reason: str) -> None:
    report = verify(client, world, batch_id)
    assert report["valid"] is False, report
    assert report["first_invalid_seq"] == seq, report
    assert re.search(reason, report["reason"]), report


def checkpoint_finds(cli, world: World, message: str) -> None:
    result = cli.invoke(args=["checkpoints", "verify", str(world.saved)])
    settle()
    assert result.exit_code == 1, result.output
    assert message in result.output, result.output


# 1-8: the events themselves --------------------------------------------------------------------


def test_1_data(client, world):
    sql("UPDATE events SET data = :d WHERE batch_id = :b AND seq = 3", d=json.dumps({"temperature_c": "35"}),
        b=world.lot.id)  # fmt: skip
    found(client, world, world.lot.id, 3, "content does not match")


def test_2_swapped(client, world):
    rows = {e.seq: e for e in db.session.scalars(select(Event).where(Event.batch_id == world.lot.id))}
    a, b = rows[2], rows[3]
    contents = [(e.data, e.occurred_at) for e in (a, b)]
    for event, (data, occurred_at) in zip((a, b), reversed(contents), strict=True):
        db.session.execute(update(Event).where(Event.id == event.id).values(data=data, occurred_at=occurred_at))
    settle()
    db.session.expire_all()
    found(client, world, world.lot.id, 2, "content does not match")


def test_3_deleted(client, world):
    sql("DELETE FROM events WHERE batch_id = :b AND seq = 2", b=world.lot.id)
    found(client, world, world.lot.id, 3, "sequence gap")


def test_4_renumbered(client, world):
    sql("UPDATE events SET seq = 9 WHERE batch_id = :b AND seq = 4", b=world.lot.id)
    found(client, world, world.lot.id, 9, "sequence gap")


def test_5_truncated_with_the_head_fixed(client, cli, world):
    sql("DELETE FROM events WHERE batch_id = :b AND seq = 4", b=world.lot.id)
    sql("UPDATE batches SET head_seq = 3, head_hash = (SELECT hash FROM events WHERE batch_id = :b AND seq = 3) "
        "WHERE id = :b", b=world.lot.id)  # fmt: skip
    assert verify(client, world, world.lot.id)["valid"] is True  # the chain alone cannot tell
    checkpoint_finds(cli, world, f"{world.lot.lot_code}: checkpoint 1 saw 4 events, the chain now has 3")


def test_6_fully_rechained(client, cli, world):
    rows = db.session.execute(
        select(Event, Organization.code, User.username)
        .join(Organization, Organization.id == Event.actor_org_id)
        .outerjoin(User, User.id == Event.actor_user_id)
        .where(Event.batch_id == world.lot.id)
        .order_by(Event.seq)
    ).all()
    prev = chain.GENESIS
    for event, org_code, username in rows:
        data = {**event.data, "temperature_c": "35"} if event.stage == "storage" else event.data
        fields = chain.ChainFields(
            lot_code=world.lot.lot_code, seq=event.seq, stage=event.stage, occurred_at=event.occurred_at,
            recorded_at=event.recorded_at, actor_org=org_code, actor_user=username, site_id=event.site_id,
            data=data, amends_seq=event.amends_seq, prev_hash=prev,
        )  # fmt: skip
        prev = fields.digest()
        db.session.execute(update(Event).where(Event.id == event.id).values(data=data, prev_hash=fields.prev_hash,
                                                                             hash=prev))  # fmt: skip
    sql("UPDATE batches SET head_hash = :h WHERE id = :b", h=prev, b=world.lot.id)
    assert verify(client, world, world.lot.id)["valid"] is True  # a perfect forgery as far as the chain goes
    checkpoint_finds(cli, world, f"{world.lot.lot_code}: event 4 is not the one checkpoint 1 anchored")


def test_7_timestamps(client, world):
    sql("UPDATE events SET occurred_at = :t WHERE batch_id = :b AND seq = 2",
        t=dt.datetime(2026, 1, 1, 8, 0, tzinfo=dt.UTC).replace(tzinfo=None), b=world.lot.id)  # fmt: skip
    found(client, world, world.lot.id, 2, "content does not match")


def test_8_actor(client, world):
    sql("UPDATE events SET actor_user_id = :u WHERE batch_id = :b AND seq = 3", u=world.inspector.user.id,
        b=world.lot.id)  # fmt: skip
    found(client, world, world.lot.id, 3, "content does not match")


# 9-14: the batch's own facts, committed in its first record ------------------------------------


@pytest.mark.parametrize(
    ("column", "value", "key"),
    [
        ("quantity", "5000", "quantity"),  # 9
        ("producer_org_id", None, "producer"),  # 10: set to another organization below
        ("product_key", "loquat", "product"),  # 12
        ("unit", "t", "unit"),  # 13
        ("created_at", dt.datetime(2025, 1, 1, 8, 0, tzinfo=dt.UTC).replace(tzinfo=None), "created_at"),  # 14
    ],
)
def test_9_to_14_the_batch_facts(client, world, column, value, key):
    if column == "producer_org_id":
        value = world.inspector.org.id
    sql(f"UPDATE batches SET {column} = :v WHERE id = :b", v=value, b=world.lot.id)
    found(client, world, world.lot.id, 1, f"the batch's {key} is not what record 1 committed to")
    page = client.get(f"/api/v1/public/{world.lot.public_code}").get_json()
    assert page["chain"]["valid"] is False and page["chain"]["first_invalid_seq"] == 1


def test_11_lot_code_is_found_and_never_served_from_the_cache(client, world):
    code = world.lot.public_code
    assert client.get(f"/api/v1/public/{code}").get_json()["chain"]["valid"] is True  # now cached
    sql("UPDATE batches SET lot_code = 'FORGED-01' WHERE id = :b", b=world.lot.id)
    found(client, world, world.lot.id, 1, "content does not match")  # the lot code is in every hash
    assert client.get(f"/api/v1/public/{code}").get_json()["chain"]["valid"] is False  # not the cached page


def test_a_fact_changed_under_a_cached_page_is_shown_at_once(client, world):
    code = world.lot.public_code
    assert client.get(f"/t/{code}").status_code == 200
    sql("UPDATE batches SET quantity = 1 WHERE id = :b", b=world.lot.id)
    assert "记录校验未通过" in client.get(f"/t/{code}").get_data(as_text=True)


# 15-17: test reports and the catalog -----------------------------------------------------------


def test_15_inspection_values(client, world):
    sql("UPDATE inspection_results SET value = 150 WHERE inspection_id IN "
        "(SELECT id FROM inspections WHERE batch_id = :b)", b=world.tested.id)  # fmt: skip
    found(client, world, world.tested.id, 2, f"test report {world.report_no} as stored is not what record 2 says")


def test_16_inspection_rows(client, world):
    ids = "(SELECT id FROM inspections WHERE batch_id = :b)"
    sql(f"DELETE FROM inspection_results WHERE inspection_id IN {ids}", b=world.tested.id)
    sql("DELETE FROM inspections WHERE batch_id = :b", b=world.tested.id)
    found(client, world, world.tested.id, 2, f"test report {world.report_no} as stored is not what record 2 says")


def test_17_catalog_limit(client, cli, world):
    before = client.get(f"/api/v1/batches/{world.tested.id}/compliance", headers=world.inspector.headers)
    assert before.get_json()["verdict"] == "fail"
    sql("UPDATE requirements SET limit_value = 1000 WHERE parameter_key = 'fluoride'")
    after = client.get(f"/api/v1/batches/{world.tested.id}/compliance", headers=world.inspector.headers).get_json()
    # The verdict stays the one judged against the catalog version it named, and says why, first.
    assert after["verdict"] == "fail"
    assert re.search(r"catalog changed outside a catalog load: .*\(fluoride\): <= 1000 mg/kg in the database, "
                     r"<= \S+ mg/kg in catalog version \d+", after["reasons"][0]), after["reasons"]  # fmt: skip
    assert "judged against catalog version" in after["reasons"][-len(before.get_json()["reasons"]) - 1]
    result = cli.invoke(args=["catalog", "verify"])
    assert result.exit_code == 1 and "(fluoride): <= 1000 mg/kg in the database" in result.output, result.output


# 18-20: lineage edges, checked against the chained records on both sides ------------------------


def _edge_to(world: World, index: int) -> str:
    return (
        f"(SELECT id FROM lineage_edges WHERE input_batch_id = {world.parent.id} AND output_batch_id = "
        f"{world.children[index]['id']})"
    )


def _child_inputs_fail(client, world: World, index: int) -> None:
    report = lineage(client, world, world.children[index]["id"])
    assert report["valid"] is False
    mine = next(lot for lot in report["lots"] if lot["lot_code"] == world.children[index]["lot_code"])
    assert mine["chain_valid"] is False and mine["first_invalid_seq"] == 1, mine


def test_18_lineage_edge_deleted(client, world):
    sql(f"DELETE FROM lineage_edges WHERE id = {_edge_to(world, 0)}")
    found(client, world, world.parent.id, 2, f"lineage edge to {world.children[0]['lot_code']} .* no longer holds")
    _child_inputs_fail(client, world, 0)


def test_19_lineage_edge_redirected(client, world):
    sql(f"UPDATE lineage_edges SET output_batch_id = :o WHERE id = {_edge_to(world, 0)}", o=world.lot.id)
    found(client, world, world.parent.id, 2, "lineage edge to")
    _child_inputs_fail(client, world, 0)
    found(client, world, world.lot.id, 1, f"lineage edge from {world.parent.lot_code} .* that no record names")


def test_20_lineage_edge_reweighed(client, world):
    sql(f"UPDATE lineage_edges SET quantity = 20 WHERE id = {_edge_to(world, 1)}")
    found(client, world, world.parent.id, 2, r"lineage edge to .*\(300.000\)")
    _child_inputs_fail(client, world, 1)


def test_a_lineage_edge_added_is_found_on_both_sides(client, world):
    db.session.execute(
        text("INSERT INTO lineage_edges (input_batch_id, output_batch_id, quantity, kind, occurred_at) "
             "VALUES (:i, :o, 5, 'transformation', :t)"),
        {"i": world.lot.id, "o": world.tested.id, "t": dt.datetime(2026, 5, 5, tzinfo=dt.UTC).replace(tzinfo=None)},
    )  # fmt: skip
    settle()
    found(client, world, world.lot.id, 5, f"lineage edge to {world.tested.lot_code} .* that no record names")
    found(client, world, world.tested.id, 1, f"lineage edge from {world.lot.lot_code} .* that no record names")


# 21: recalls ------------------------------------------------------------------------------------


def test_21_recall_rows_deleted(client, world):
    code = world.recalled.public_code
    assert client.get(f"/api/v1/public/{code}").get_json()["recall"]["reason"] == "抽检发现氟超标"
    sql("DELETE FROM recall_items WHERE batch_id = :b", b=world.recalled.id)
    sql("DELETE FROM recalls WHERE batch_id = :b", b=world.recalled.id)
    sql("UPDATE batches SET status = 'active' WHERE id = :b", b=world.recalled.id)
    body = client.get(f"/api/v1/public/{code}").get_json()
    # The notice is read from the chain, and the chain box says the rows were changed.
    assert body["recall"]["reason"] == "抽检发现氟超标" and body["recall"]["severity"] == "II"
    assert body["chain"]["valid"] is False and body["chain"]["first_invalid_seq"] == 2
    html = client.get(f"/t/{code}").get_data(as_text=True)
    assert "召回通知" in html and "记录校验未通过" in html
    found(client, world, world.recalled.id, 2, "recall .* as stored is not what record 2 says")


# 22: a batch gone ---------------------------------------------------------------------------------


def test_22_a_batch_removed_after_the_checkpoint(cli, world):
    lot_code = world.lot.lot_code
    for table in ("events", "batch_standards"):
        sql(f"DELETE FROM {table} WHERE batch_id = :b", b=world.lot.id)
    sql("DELETE FROM batches WHERE id = :b", b=world.lot.id)
    checkpoint_finds(cli, world, f"batch {lot_code} (anchored at seq 4, leaf")


def test_an_emptied_chain_is_not_shown_as_a_new_batch(client, world):
    sql("DELETE FROM events WHERE batch_id = :b", b=world.lot.id)
    sql("UPDATE batches SET head_seq = 0, head_hash = :g WHERE id = :b", g=chain.GENESIS, b=world.lot.id)
    found(client, world, world.lot.id, 1, "the chain is empty")
    assert "记录校验未通过" in client.get(f"/t/{world.lot.public_code}").get_data(as_text=True)
