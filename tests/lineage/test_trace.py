"""The trace on a hand-built graph with a diamond: exact nodes and edges, both directions, depth bound."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import event

from app.db import db
from app.lineage import trace as tracing
from app.lineage.models import LineageEdge
from tests.conftest import settle
from tests.lineage.factories import T0, expect

#   H1 ─┐                 ┌─> P1 ─┐
#       ├─> C (merge) ────┤       ├─> M (diamond) ─┬─> R1
#   H2 ─┘        │        └─> P2 ─┘                └─> R2
#                └─────────────────────────────────────> R2   (a shortcut: R2 is 2 steps from H1 and 4)
#   U1 ──> U2  (unrelated)
EDGES = [
    ("H1", "C"), ("H2", "C"), ("C", "P1"), ("C", "P2"), ("P1", "M"), ("P2", "M"),
    ("M", "R1"), ("M", "R2"), ("C", "R2"), ("U1", "U2"),
]  # fmt: skip


@pytest.fixture
def graph(make_user, make_batch):
    """The lots by name, their ids, and the holder; edges inserted as rows, as the write path stores them."""
    user = make_user("processor")
    lots = {name: make_batch(user, "100", "kg", lot_code=f"LQ-TRACE-{name}") for name in sorted({*sum(EDGES, ())})}
    for source, target in EDGES:
        db.session.add(
            LineageEdge(
                input_batch_id=lots[source].id,
                output_batch_id=lots[target].id,
                quantity=Decimal("10"),
                kind="merge" if target in ("C", "M") else "split",
                occurred_at=T0,
            )
        )
    settle()
    return {"lots": lots, "ids": {name: lot.id for name, lot in lots.items()}, "user": user}


def names(graph, ids):
    by_id = {v: k for k, v in graph["ids"].items()}
    return {by_id[i] for i in ids}


def shape(graph, trace):
    """({name: (relation, depth)}, {(from, to)}) of a trace, from the service or the JSON."""
    by_id = {v: k for k, v in graph["ids"].items()}
    if isinstance(trace, dict):
        nodes = {by_id[n["id"]]: (n["relation"], n["depth"]) for n in trace["nodes"]}
        edges = [(by_id[e["from"]], by_id[e["to"]]) for e in trace["edges"]]
        node_count = len(trace["nodes"])
    else:
        nodes = {by_id[n.id]: (n.relation, n.depth) for n in trace.nodes}
        edges = [(by_id[e.source], by_id[e.target]) for e in trace.edges]
        node_count = len(trace.nodes)
    assert node_count == len(nodes), "each lot once"
    assert len(edges) == len(set(edges)), "each edge once"
    return nodes, set(edges)


def test_downstream_of_a_household_lot_through_the_diamond(client, auth, graph):
    body = expect(
        client.get(
            f"/api/v1/batches/{graph['ids']['H1']}/trace?direction=downstream", headers=auth(user=graph["user"])
        ),
        200,
    )
    nodes, edges = shape(graph, body)
    assert nodes == {
        "H1": ("root", 0),
        "C": ("descendant", 1),
        "P1": ("descendant", 2),
        "P2": ("descendant", 2),
        "R2": ("descendant", 2),  # the shortest way, through the shortcut
        "M": ("descendant", 3),
        "R1": ("descendant", 4),
    }
    assert edges == {
        ("H1", "C"),
        ("C", "P1"),
        ("C", "P2"),
        ("P1", "M"),
        ("P2", "M"),
        ("M", "R1"),
        ("M", "R2"),
        ("C", "R2"),
    }
    assert body["root"] == graph["ids"]["H1"] and body["truncated"] is False
    node = next(n for n in body["nodes"] if n["id"] == graph["ids"]["M"])
    assert node == {
        "id": graph["ids"]["M"],
        "lot_code": "LQ-TRACE-M",
        "product": "loquat",
        "quantity": "100.000",
        "unit": "kg",
        "custodian": graph["user"].organization.code,
        "status": "active",
        "depth": 3,
        "relation": "descendant",
    }
    edge = next(e for e in body["edges"] if (e["from"], e["to"]) == (graph["ids"]["P1"], graph["ids"]["M"]))
    assert edge["quantity"] == "10.000" and edge["unit"] == "kg" and edge["kind"] == "merge"
    assert edge["occurred_at"].startswith("2026-05-01T08:00:00")


def test_upstream_of_a_retail_lot_reaches_every_farm(graph):
    nodes, edges = shape(graph, tracing.trace(graph["ids"]["R2"], "upstream", 50))
    assert nodes == {
        "R2": ("root", 0),
        "M": ("ancestor", 1),
        "C": ("ancestor", 1),
        "P1": ("ancestor", 2),
        "P2": ("ancestor", 2),
        "H1": ("ancestor", 2),
        "H2": ("ancestor", 2),
    }
    assert edges == {
        ("M", "R2"),
        ("C", "R2"),
        ("P1", "M"),
        ("P2", "M"),
        ("C", "P1"),
        ("C", "P2"),
        ("H1", "C"),
        ("H2", "C"),
    }


def test_both_directions_from_the_diamond_joint(graph):
    nodes, edges = shape(graph, tracing.trace(graph["ids"]["M"], "both", 50))
    assert nodes == {
        "H1": ("ancestor", 3),
        "H2": ("ancestor", 3),
        "C": ("ancestor", 2),
        "P1": ("ancestor", 1),
        "P2": ("ancestor", 1),
        "M": ("root", 0),
        "R1": ("descendant", 1),
        "R2": ("descendant", 1),
    }
    # C -> R2 bypasses M: it is neither upstream nor downstream of M.
    assert edges == {
        ("H1", "C"),
        ("H2", "C"),
        ("C", "P1"),
        ("C", "P2"),
        ("P1", "M"),
        ("P2", "M"),
        ("M", "R1"),
        ("M", "R2"),
    }


def test_depth_bounds_the_walk_and_says_when_it_cut(graph):
    two = tracing.trace(graph["ids"]["H1"], "downstream", 2)
    nodes, edges = shape(graph, two)
    assert set(nodes) == {"H1", "C", "P1", "P2", "R2"}
    assert edges == {("H1", "C"), ("C", "P1"), ("C", "P2"), ("C", "R2")}
    assert two.truncated is True

    three = tracing.trace(graph["ids"]["H1"], "downstream", 3)
    nodes, edges = shape(graph, three)
    assert set(nodes) == {"H1", "C", "P1", "P2", "R2", "M"}
    # M -> R2 joins two lots within the bound; M -> R1 leads past it.
    assert edges == {("H1", "C"), ("C", "P1"), ("C", "P2"), ("C", "R2"), ("P1", "M"), ("P2", "M"), ("M", "R2")}
    assert three.truncated is True

    four = tracing.trace(graph["ids"]["H1"], "downstream", 4)
    assert names(graph, [n.id for n in four.nodes]) == {"H1", "C", "P1", "P2", "R2", "M", "R1"}
    assert four.truncated is False

    one = tracing.trace(graph["ids"]["R1"], "upstream", 1)
    assert shape(graph, one) == ({"R1": ("root", 0), "M": ("ancestor", 1)}, {("M", "R1")})


def test_a_lot_without_lineage_is_its_own_trace(graph, make_batch):
    alone = make_batch(graph["user"], "5", "kg")
    trace = tracing.trace(alone.id, "both", 10)
    assert [(n.id, n.relation) for n in trace.nodes] == [(alone.id, "root")]
    assert trace.edges == [] and trace.truncated is False


def test_the_trace_is_one_query(graph):
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    engine = db.session.get_bind().engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        tracing.trace(graph["ids"]["M"], "both", 50)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == 1
    assert "WITH RECURSIVE" in statements[0].upper()


def test_who_may_read_a_trace(client, auth, graph, make_user, make_org):
    path = f"/api/v1/batches/{graph['ids']['C']}/trace"
    expect(client.get(path, headers=auth(user=graph["user"])), 200)
    expect(client.get(path, headers=auth("inspector")), 200)
    expect(client.get(path, headers=auth("admin")), 200)
    # Another organization sees neither the graph nor whether the lot exists.
    outsider = expect(client.get(path, headers=auth("retailer")), 404)
    missing = expect(client.get("/api/v1/batches/999999/trace", headers=auth("retailer")), 404)
    assert outsider["message"] == missing["message"].replace("999999", str(graph["ids"]["C"]))
    expect(client.get(path), 401)


def test_bad_trace_arguments_are_named(client, auth, graph):
    headers = auth(user=graph["user"])
    path = f"/api/v1/batches/{graph['ids']['C']}/trace"
    assert "direction" in expect(client.get(f"{path}?direction=sideways", headers=headers), 422)["errors"]["query"]
    assert "depth" in expect(client.get(f"{path}?depth=0", headers=headers), 422)["errors"]["query"]
    assert "depth" in expect(client.get(f"{path}?depth=101", headers=headers), 422)["errors"]["query"]
    assert "colour" in expect(client.get(f"{path}?colour=red", headers=headers), 422)["errors"]["query"]


def test_ids_no_row_can_have_are_not_found(client, auth):
    headers = auth("inspector")
    huge = 10**20
    for path in (
        f"/api/v1/batches/{huge}/trace",
        f"/api/v1/batches/{huge}/verify-lineage",
        f"/api/v1/transfers/{huge}",
    ):
        expect(client.get(path, headers=headers), 404)
    expect(client.post(f"/api/v1/batches/{huge}/split", json={"parts": [{"quantity": "1"}]}, headers=headers), 404)
    expect(client.post(f"/api/v1/transfers/{huge}/accept", json={}, headers=headers), 404)
    refused = expect(
        client.post(
            "/api/v1/transformations",
            json={
                "inputs": [{"batch": huge, "quantity": "1"}],
                "outputs": [{"product": "loquat", "quantity": "1", "unit": "kg"}],
                "occurred_at": T0.isoformat(),
            },
            headers=headers,
        ),
        422,
    )
    assert "batch" in refused["errors"]["json"]["inputs"]["0"]
