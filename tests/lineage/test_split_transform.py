"""Splits, merges and transformations over HTTP: mass balance, consumption, yield, all-or-nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.batches import service
from app.batches.models import Batch, Event
from app.custody.models import Transfer
from app.db import db
from app.lineage.models import LineageEdge, Transformation
from tests.lineage.factories import T0, actor_of, expect, reload


def counts() -> tuple[int, int, int, int]:
    """Batches, edges, transformations and events stored: a refused request changes none of them."""
    return tuple(  # type: ignore[return-value]
        db.session.scalar(select(func.count()).select_from(model))
        for model in (Batch, LineageEdge, Transformation, Event)
    )


def chain_of(batch: Batch) -> list[Event]:
    db.session.expire_all()
    return list(db.session.scalars(select(Event).where(Event.batch_id == batch.id).order_by(Event.seq)))


def at(minutes: int) -> str:
    return (T0 + dt.timedelta(minutes=minutes)).isoformat()


# --- split ------------------------------------------------------------------------------------


def test_split_makes_child_lots_of_the_same_product_and_unit(client, auth, make_user, make_org, make_batch):
    coop = make_org(kind="cooperative")
    household = make_org(kind="farm_household", cooperative_code=coop.code)
    user = make_user("cooperative", org=coop)
    parent = make_batch(user, "100", "kg", producer=household.code)

    body = expect(
        client.post(
            f"/api/v1/batches/{parent.id}/split",
            json={"parts": [{"quantity": "30"}, {"quantity": "50.5"}], "occurred_at": at(5)},
            headers=auth(user=user),
        ),
        201,
    )
    assert body["transformation"]["kind"] == "split"
    children = body["outputs"]
    assert [c["quantity"] for c in children] == ["30.000", "50.500"]
    assert {c["product"] for c in children} == {"loquat"} and {c["unit"] for c in children} == {"kg"}
    assert len({c["lot_code"] for c in children} | {parent.lot_code}) == 3
    assert len({c["public_code"] for c in children}) == 2
    assert all(c["public_url"].endswith("/t/" + c["public_code"]) for c in children)
    # A part of the household's lot is still the household's produce, held by the cooperative.
    assert {(c["producer"], c["custodian"]) for c in children} == {(household.code, coop.code)}
    assert body["inputs"] == [
        {
            "batch": parent.id,
            "lot_code": parent.lot_code,
            "taken": "80.500",
            "remaining": "19.500",
            "unit": "kg",
            "status": "active",
        }
    ]
    assert sorted((e["from"], e["quantity"], e["kind"]) for e in body["edges"]) == [
        (parent.id, "30.000", "split"),
        (parent.id, "50.500", "split"),
    ]

    # The parent's chain says what was taken and into which lots; each child's first event commits
    # to the parent's head after that record.
    parent_chain = chain_of(parent)
    record = parent_chain[-1]
    assert record.stage == "split"
    assert record.data["taken"] == {"quantity": "80.500", "unit": "kg"}
    assert [o["lot_code"] for o in record.data["outputs"]] == [c["lot_code"] for c in children]
    for child in children:
        first = chain_of(db.session.get(Batch, child["id"]))[0]
        assert first.seq == 1 and first.stage == "split"
        assert first.data["inputs"] == [
            {
                "lot_code": parent.lot_code,
                "head_seq": record.seq,
                "head_hash": record.hash,
                "quantity": child["quantity"],
                "unit": "kg",
            }
        ]
    assert service.verify_batch(reload(parent)).valid


def test_splitting_everything_consumes_the_parent(client, auth, make_user, make_batch):
    user = make_user("farmer")
    parent = make_batch(user, "10", "box")
    body = expect(
        client.post(
            f"/api/v1/batches/{parent.id}/split",
            json={"parts": [{"quantity": "4"}, {"quantity": "6"}]},
            headers=auth(user=user),
        ),
        201,
    )
    assert body["inputs"][0]["remaining"] == "0.000"
    assert body["inputs"][0]["status"] == "consumed"
    assert reload(parent).status == "consumed"
    # Nothing is left to take.
    again = expect(
        client.post(f"/api/v1/batches/{parent.id}/split", json={"parts": [{"quantity": "1"}]}, headers=auth(user=user)),
        422,
    )
    assert "consumed" in again["errors"]["json"]["batch"][0]


def test_parts_beyond_what_remains_are_refused_and_nothing_is_stored(client, auth, make_user, make_batch):
    user = make_user("farmer")
    headers = auth(user=user)
    parent = make_batch(user, "100", "kg")
    expect(
        client.post(f"/api/v1/batches/{parent.id}/split", json={"parts": [{"quantity": "60"}]}, headers=headers), 201
    )
    before, head = counts(), reload(parent).head_seq

    refused = expect(
        client.post(
            f"/api/v1/batches/{parent.id}/split",
            json={"parts": [{"quantity": "25"}, {"quantity": "25"}]},
            headers=headers,
        ),
        422,
    )
    reason = refused["errors"]["json"]["parts"][0]
    assert "40.000 kg available" in reason and "50.000 kg asked" in reason
    assert counts() == before
    assert reload(parent).head_seq == head and reload(parent).status == "active"

    # Exactly what remains is fine.
    expect(
        client.post(f"/api/v1/batches/{parent.id}/split", json={"parts": [{"quantity": "40"}]}, headers=headers), 201
    )


def test_part_quantities_must_be_positive_with_three_places_at_most(client, auth, make_user, make_batch):
    user = make_user("farmer")
    headers = auth(user=user)
    parent = make_batch(user, "100", "kg")
    before = counts()
    for parts, index in (
        ([{"quantity": "10"}, {"quantity": "0"}], "1"),
        ([{"quantity": "-5"}], "0"),
        ([{"quantity": "1"}, {"quantity": "2"}, {"quantity": "1.0005"}], "2"),
    ):
        refused = expect(client.post(f"/api/v1/batches/{parent.id}/split", json={"parts": parts}, headers=headers), 422)
        assert list(refused["errors"]["json"]["parts"]) == [index]
        assert "quantity" in refused["errors"]["json"]["parts"][index]
    expect(client.post(f"/api/v1/batches/{parent.id}/split", json={"parts": []}, headers=headers), 422)
    assert counts() == before


def test_only_the_custodian_splits(client, auth, make_user, make_org, make_batch):
    coop = make_org(kind="cooperative")
    household = make_org(kind="farm_household", cooperative_code=coop.code)
    owner = make_user("cooperative", org=coop)
    parent = make_batch(owner, "100", "kg", producer=household.code)
    path = f"/api/v1/batches/{parent.id}/split"
    before = counts()
    # A stranger is told nothing: the batch is missing to it, exactly as one that does not exist.
    hidden = expect(client.post(path, json={"parts": [{"quantity": "1"}]}, headers=auth("processor")), 404)
    assert hidden["message"] == f"no batch with id {parent.id}"
    assert parent.lot_code not in str(hidden) and coop.code not in str(hidden)
    # The producing household reads the lot but does not hold it.
    member = make_user("farmer", org=household)
    refused = expect(client.post(path, json={"parts": [{"quantity": "1"}]}, headers=auth(user=member)), 403)
    assert "custodian" in refused["message"]
    assert counts() == before
    expect(
        client.post("/api/v1/batches/999999/split", json={"parts": [{"quantity": "1"}]}, headers=auth("farmer")), 404
    )


# --- merge --------------------------------------------------------------------------------------


def test_cooperative_merges_member_lots_each_share_traceable(client, auth, make_user, make_org, make_batch):
    coop = make_org(kind="cooperative")
    households = [make_org(kind="farm_household", cooperative_code=coop.code) for _ in range(3)]
    user = make_user("cooperative", org=coop)
    lots = [make_batch(user, q, "kg", producer=h.code) for q, h in zip(("30", "40", "50"), households, strict=True)]

    body = expect(
        client.post(
            "/api/v1/transformations",
            json={
                "inputs": [{"batch": lot.id, "quantity": str(lot.quantity)} for lot in lots],
                "outputs": [{"product": "loquat", "quantity": "120", "unit": "kg", "lot_code": "LQ-COOP-MERGE-1"}],
                "occurred_at": at(10),
                "process": {"note": "合并收购 pooled at the cooperative"},
            },
            headers=auth(user=user),
        ),
        201,
    )
    merged = body["outputs"][0]
    assert body["transformation"]["kind"] == "merge"
    assert body["transformation"]["yield_pct"] == "100.00"
    assert body["transformation"]["process"]["note"] == "合并收购 pooled at the cooperative"
    assert merged["lot_code"] == "LQ-COOP-MERGE-1" and merged["custodian"] == coop.code
    assert [i["status"] for i in body["inputs"]] == ["consumed"] * 3
    assert sorted((e["from"], e["to"], e["quantity"]) for e in body["edges"]) == sorted(
        (lot.id, merged["id"], f"{Decimal(lot.quantity):.3f}") for lot in lots
    )
    # Each member's share is readable from the merged lot's first event and from the trace.
    first = chain_of(db.session.get(Batch, merged["id"]))[0]
    assert [(i["lot_code"], i["quantity"]) for i in first.data["inputs"]] == [
        (lot.lot_code, f"{Decimal(lot.quantity):.3f}") for lot in lots
    ]
    for lot in lots:
        assert chain_of(lot)[-1].stage == "transformation"
    trace = expect(client.get(f"/api/v1/batches/{merged['id']}/trace?direction=upstream", headers=auth(user=user)), 200)
    assert {n["lot_code"] for n in trace["nodes"] if n["relation"] == "ancestor"} == {lot.lot_code for lot in lots}


def test_a_merge_cannot_make_more_than_went_in(client, auth, make_user, make_batch):
    user = make_user("cooperative")
    a, b = make_batch(user, "10", "kg"), make_batch(user, "500", "g")
    before = counts()
    refused = expect(
        client.post(
            "/api/v1/transformations",
            json={
                "inputs": [{"batch": a.id, "quantity": "10"}, {"batch": b.id, "quantity": "500"}],
                "outputs": [{"product": "loquat", "quantity": "10.6", "unit": "kg"}],
                "occurred_at": at(10),
            },
            headers=auth(user=user),
        ),
        422,
    )
    assert "exceed" in refused["errors"]["json"]["outputs"][0]
    assert counts() == before


# --- transformations -------------------------------------------------------------------------------


def test_partial_take_then_the_rest_consumes_and_yield_is_recorded(client, auth, make_user, make_batch):
    user = make_user("processor")
    headers = auth(user=user)
    fruit = make_batch(user, "1000", "kg", product="camellia_oil")

    first = expect(
        client.post(
            "/api/v1/transformations",
            json={
                "inputs": [{"batch": fruit.id, "quantity": "400"}],
                "outputs": [{"product": "camellia_oil", "quantity": "96", "unit": "L"}],
                "occurred_at": at(15),
                "process": {"method": "cold pressing 冷榨"},
            },
            headers=headers,
        ),
        201,
    )
    assert first["transformation"]["kind"] == "transformation"
    assert first["inputs"][0]["remaining"] == "600.000" and first["inputs"][0]["status"] == "active"
    # Kilograms of fruit into litres of oil: no percentage without a density, the totals instead.
    assert first["transformation"]["yield_pct"] is None
    assert first["transformation"]["process"]["yield"] == {
        "inputs": {"kg": "400.000"},
        "outputs": {"L": "96.000"},
        "pct": None,
    }
    stored = db.session.get(Transformation, first["transformation"]["id"])
    assert stored.process["method"] == "cold pressing 冷榨"

    second = expect(
        client.post(
            "/api/v1/transformations",
            json={
                "inputs": [{"batch": fruit.id, "quantity": "600"}],
                "outputs": [
                    {"product": "camellia_oil", "quantity": "120", "unit": "kg"},
                    {"product": "camellia_oil", "quantity": "330", "unit": "kg"},
                ],
                "occurred_at": at(20),
            },
            headers=headers,
        ),
        201,
    )
    # Oil and press cake, both weighed: a mass yield, and the input shared in proportion.
    assert second["transformation"]["yield_pct"] == "75.00"
    assert sorted(e["quantity"] for e in second["edges"]) == ["160.000", "440.000"]
    assert second["inputs"][0]["status"] == "consumed"
    assert reload(fruit).status == "consumed"

    shown = expect(client.get(f"/api/v1/transformations/{second['transformation']['id']}", headers=headers), 200)
    assert shown["edges"] == second["edges"]
    assert [o["lot_code"] for o in shown["outputs"]] == [o["lot_code"] for o in second["outputs"]]
    expect(client.get(f"/api/v1/transformations/{second['transformation']['id']}", headers=auth("processor")), 404)


def test_tea_leaf_pressed_into_bricks_records_a_mass_yield(client, auth, make_user, make_batch):
    user = make_user("processor")
    leaf = make_batch(user, "500", "kg", product="brick_tea")
    body = expect(
        client.post(
            "/api/v1/transformations",
            json={
                "inputs": [{"batch": leaf.id, "quantity": "500"}],
                "outputs": [{"product": "brick_tea", "quantity": "0.4", "unit": "t"}],
                "occurred_at": at(30),
                "process": {"steps": ["渥堆", "压制", "干燥"]},
            },
            headers=auth(user=user),
        ),
        201,
    )
    assert body["transformation"]["kind"] == "transformation"
    assert body["transformation"]["yield_pct"] == "80.00"


def test_a_bad_input_refuses_the_whole_transformation_naming_its_index(client, auth, make_user, make_batch):
    user = make_user("processor")
    headers = auth(user=user)
    flour, oil, sugar = (make_batch(user, q, u, product=p) for q, u, p in (
        ("200", "kg", "mahua"), ("50", "L", "camellia_oil"), ("20", "kg", "mahua"),
    ))  # fmt: skip
    heads = [(b.id, b.head_seq) for b in (flour, oil, sugar)]
    before = counts()

    refused = expect(
        client.post(
            "/api/v1/transformations",
            json={
                "inputs": [
                    {"batch": flour.id, "quantity": "150"},
                    {"batch": oil.id, "quantity": "30"},
                    {"batch": sugar.id, "quantity": "25"},
                ],
                "outputs": [{"product": "mahua", "quantity": "800", "unit": "box"}],
                "occurred_at": at(40),
            },
            headers=headers,
        ),
        422,
    )
    errors = refused["errors"]["json"]["inputs"]
    assert list(errors) == ["2"]
    assert "20.000 kg available" in errors["2"]["quantity"][0] and sugar.lot_code in errors["2"]["quantity"][0]
    assert counts() == before
    assert [(b.id, reload(b).head_seq) for b in (flour, oil, sugar)] == heads
    assert {reload(b).status for b in (flour, oil, sugar)} == {"active"}

    # Several bad inputs are all named at once.
    refused = expect(
        client.post(
            "/api/v1/transformations",
            json={
                "inputs": [
                    {"batch": flour.id, "quantity": "250"},
                    {"batch": oil.id, "quantity": "30"},
                    {"batch": 999999, "quantity": "1"},
                ],
                "outputs": [{"product": "mahua", "quantity": "800", "unit": "box"}],
                "occurred_at": at(40),
            },
            headers=headers,
        ),
        422,
    )
    assert refused["errors"]["json"]["inputs"] == {"2": {"batch": ["no batch with id 999999"]}}
    refused = expect(
        client.post(
            "/api/v1/transformations",
            json={
                "inputs": [{"batch": flour.id, "quantity": "250"}, {"batch": sugar.id, "quantity": "21"}],
                "outputs": [{"product": "mahua", "quantity": "800", "unit": "box"}],
                "occurred_at": at(40),
            },
            headers=headers,
        ),
        422,
    )
    assert set(refused["errors"]["json"]["inputs"]) == {"0", "1"}

    # The same fried into mahua within the balance goes through.
    made = expect(
        client.post(
            "/api/v1/transformations",
            json={
                "inputs": [
                    {"batch": flour.id, "quantity": "150"},
                    {"batch": oil.id, "quantity": "30"},
                    {"batch": sugar.id, "quantity": "20"},
                ],
                "outputs": [{"product": "mahua", "quantity": "800", "unit": "box"}],
                "occurred_at": at(40),
                "process": {"steps": ["和面", "搓条", "油炸"]},
            },
            headers=headers,
        ),
        201,
    )
    assert [i["status"] for i in made["inputs"]] == ["active", "active", "consumed"]


def test_inputs_and_outputs_are_checked_field_by_field(client, auth, make_user, make_batch):
    user = make_user("processor")
    headers = auth(user=user)
    lot = make_batch(user, "100", "kg")
    taken = make_batch(user, "1", "kg", lot_code="LQ-TAKEN-CODE")
    before = counts()

    def post(inputs, outputs, status):
        return expect(
            client.post(
                "/api/v1/transformations",
                json={"inputs": inputs, "outputs": outputs, "occurred_at": at(45)},
                headers=headers,
            ),
            status,
        )["errors"]["json"]

    ok_out = [{"product": "loquat", "quantity": "10", "unit": "kg"}]
    assert (
        "batch"
        in post([{"batch": lot.id, "quantity": "5"}, {"batch": lot.id, "quantity": "5"}], ok_out, 422)["inputs"]["1"]
    )
    assert "quantity" in post([{"batch": lot.id, "quantity": "0"}], ok_out, 422)["inputs"]["0"]
    assert (
        "product"
        in post([{"batch": lot.id, "quantity": "5"}], [{"product": "durian", "quantity": "5", "unit": "kg"}], 422)[
            "outputs"
        ]["0"]
    )
    assert (
        "unit"
        in post([{"batch": lot.id, "quantity": "5"}], [{"product": "loquat", "quantity": "5", "unit": "jin"}], 422)[
            "outputs"
        ]["0"]
    )
    conflict = post(
        [{"batch": lot.id, "quantity": "5"}],
        [ok_out[0], {"product": "loquat", "quantity": "5", "unit": "kg", "lot_code": taken.lot_code}],
        409,
    )
    assert "lot_code" in conflict["outputs"]["1"]
    future = expect(
        client.post(
            "/api/v1/transformations",
            json={
                "inputs": [{"batch": lot.id, "quantity": "5"}],
                "outputs": ok_out,
                "occurred_at": "2999-01-01T00:00:00Z",
            },
            headers=headers,
        ),
        422,
    )
    assert "occurred_at" in future["errors"]["json"]
    assert counts() == before


def test_only_the_custodian_of_every_input_transforms(client, auth, make_user, make_batch):
    mine_user, other_user = make_user("processor"), make_user("processor")
    mine, theirs = make_batch(mine_user, "10", "kg"), make_batch(other_user, "10", "kg")
    before = counts()

    def transform(other):
        return client.post(
            "/api/v1/transformations",
            json={
                "inputs": [{"batch": mine.id, "quantity": "5"}, {"batch": other.id, "quantity": "5"}],
                "outputs": [{"product": "loquat", "quantity": "10", "unit": "kg"}],
                "occurred_at": at(50),
            },
            headers=auth(user=mine_user),
        )

    # Another organization's lot the caller cannot read is reported at its index as missing,
    # without its lot code or its custodian.
    hidden = expect(transform(theirs), 422)
    assert hidden["errors"]["json"] == {"inputs": {"1": {"batch": [f"no batch with id {theirs.id}"]}}}
    assert theirs.lot_code not in str(hidden) and other_user.organization.code not in str(hidden)
    # A lot the caller reads (it shipped it on) but no longer holds is refused at its index.
    shipped = make_batch(mine_user, "10", "kg")
    expect(
        client.post(
            f"/api/v1/batches/{shipped.id}/transfers",
            json={"to_org": other_user.organization.code, "occurred_at": at(40)},
            headers=auth(user=mine_user),
        ),
        201,
    )
    [transfer] = db.session.scalars(select(Transfer).where(Transfer.batch_id == shipped.id)).all()
    expect(client.post(f"/api/v1/transfers/{transfer.id}/accept", json={}, headers=auth(user=other_user)), 200)
    before = counts()
    refused = expect(transform(shipped), 403)
    assert list(refused["errors"]["json"]["inputs"]) == ["1"]
    assert "custodian" in refused["message"]
    assert counts() == before


def test_an_input_being_transferred_cannot_be_taken(client, auth, make_user, make_batch):
    user = make_user("cooperative")
    receiver = make_user("processor")
    lot = make_batch(user, "10", "kg")
    expect(
        client.post(
            f"/api/v1/batches/{lot.id}/transfers",
            json={"to_org": receiver.organization.code, "occurred_at": at(50)},
            headers=auth(user=user),
        ),
        201,
    )
    before = counts()
    refused = expect(
        client.post(f"/api/v1/batches/{lot.id}/split", json={"parts": [{"quantity": "1"}]}, headers=auth(user=user)),
        409,
    )
    assert "pending" in refused["errors"]["json"]["batch"][0]
    assert counts() == before


def test_service_refuses_non_positive_takes_for_callers_without_a_schema(make_user, make_batch):
    from app.errors import InvalidInput
    from app.lineage import service as lineage

    user = make_user("processor")
    lot = make_batch(user, "10", "kg")
    with pytest.raises(InvalidInput) as refused:
        lineage.transform(
            actor_of(user),
            inputs=[lineage.Take(batch=lot.id, quantity=Decimal("-1"))],
            outputs=[lineage.Output(product="loquat", quantity=Decimal(1), unit="kg")],
            occurred_at=T0,
        )
    assert refused.value.errors == {"json": {"inputs": {"0": {"quantity": ["must be greater than zero"]}}}}
