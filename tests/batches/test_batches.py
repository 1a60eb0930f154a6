"""Creating batches, reading them back, listing with filters, and who may see which batch."""

from __future__ import annotations

import base64
import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from app.batches import chain
from app.batches.models import Batch, BatchStatus
from app.catalog.service import applicable_mandatory
from app.clock import CHINA_TZ as CST
from app.custody.models import Transfer, TransferStatus
from app.db import db
from app.orgs import service as orgs
from tests.batches.conftest import at
from tests.conftest import PUBLIC_BASE_URL, settle


def _batch_count() -> int:
    return db.session.scalar(select(func.count(Batch.id)))


def test_farmer_creates_a_batch_and_gets_the_next_lot_code(client, party):
    farmer = party("farmer")
    body = {"product": "brick_tea", "quantity": "500", "unit": "kg", "produced_at": at("2026-06-01")}
    first = client.post("/api/v1/batches", json=body, headers=farmer.headers)
    second = client.post("/api/v1/batches", json=body, headers=farmer.headers)
    assert first.status_code == 201, first.get_json()
    assert second.status_code == 201, second.get_json()
    one, two = first.get_json(), second.get_json()
    assert re.fullmatch(r"BT-2026-\d{6}", one["lot_code"])
    assert int(two["lot_code"][-6:]) == int(one["lot_code"][-6:]) + 1
    assert one["product"] == "brick_tea" and one["product_name_zh"] == "赤壁青砖茶"
    assert one["quantity"] == "500.000" and one["unit"] == "kg"
    assert one["status"] == "active"
    assert one["custodian"]["code"] == farmer.org.code
    assert one["custodian"]["name"] == farmer.org.name
    assert one["producer"]["code"] == farmer.org.code
    assert one["events"] == 1 and one["head_hash"] != chain.GENESIS  # its created record
    assert one["produced_at"].startswith("2026-06-01T01:00:00")  # 09:00 China time, in UTC

    fetched = client.get(f"/api/v1/batches/{one['id']}", headers=farmer.headers)
    assert fetched.status_code == 200
    assert fetched.get_json() == one


def test_public_code_is_unguessable_and_public_url_ignores_the_host_header(client, party):
    farmer = party("farmer")
    codes = set()
    for _ in range(3):
        response = client.post(
            "/api/v1/batches",
            json={"product": "loquat", "quantity": "80", "unit": "kg"},
            headers=farmer.headers,
            base_url="http://attacker.example",
        )
        assert response.status_code == 201
        batch = response.get_json()
        code = batch["public_code"]
        assert re.fullmatch(r"[A-Za-z0-9_-]+", code)
        assert len(base64.urlsafe_b64decode(code + "=" * (-len(code) % 4))) * 8 >= 96
        assert batch["lot_code"] not in code
        assert batch["public_url"] == f"{PUBLIC_BASE_URL}/t/{code}"
        assert "attacker" not in batch["public_url"]
        codes.add(code)
    assert len(codes) == 3


def test_a_given_lot_code_is_kept_and_a_taken_one_is_a_conflict(client, party):
    farmer = party("farmer")
    body = {"product": "lotus_root", "quantity": "2.5", "unit": "t", "lot_code": "JY-LR-2026-0815"}
    created = client.post("/api/v1/batches", json=body, headers=farmer.headers)
    assert created.status_code == 201
    assert created.get_json()["lot_code"] == "JY-LR-2026-0815"
    before = _batch_count()
    again = client.post("/api/v1/batches", json=body, headers=party("cooperative").headers)
    assert again.status_code == 409
    assert again.get_json()["errors"]["json"]["lot_code"] == ["already exists"]
    assert _batch_count() == before


@pytest.mark.parametrize("role", ["logistics", "retailer", "inspector", "admin", "lab"])
def test_only_growers_and_makers_create_batches(client, party, role):
    before = _batch_count()
    response = client.post(
        "/api/v1/batches", json={"product": "mahua", "quantity": "10", "unit": "box"}, headers=party(role).headers
    )
    assert response.status_code == 403
    assert role in response.get_json()["message"]
    assert _batch_count() == before


def test_creating_needs_a_token(client):
    response = client.post("/api/v1/batches", json={"product": "mahua", "quantity": "10", "unit": "box"})
    assert response.status_code == 401


@pytest.mark.parametrize("product", ["osmanthus", "lotus_root", "brick_tea", "camellia_oil", "mahua", "loquat"])
def test_a_batch_is_bound_to_the_mandatory_standards_and_the_product_defaults(client, party, product):
    response = client.post(
        "/api/v1/batches",
        json={"product": product, "quantity": "100", "unit": "kg"},
        headers=party("processor").headers,
    )
    assert response.status_code == 201
    standards = response.get_json()["standards"]
    by_code = {s["code"]: s for s in standards}
    mandatory = {s.code for s in applicable_mandatory(product)}
    assert mandatory, f"the catalog binds no mandatory standard to {product}"
    for code in mandatory:
        assert by_code[code]["mandatory"] is True
        assert by_code[code]["source"] == "mandatory"
        assert by_code[code]["level"] == "national"
    defaults = [s for s in standards if s["source"] == "default"]
    assert defaults, "the product's default standards are bound too"
    # Mandatory floor first, as people read it.
    assert [s["mandatory"] for s in standards] == sorted((s["mandatory"] for s in standards), reverse=True)


def test_a_cooperative_creates_a_batch_for_a_member_household(client, party, make_org):
    coop = party("cooperative")
    member = make_org(kind="farm_household", cooperative_code=coop.org.code, masked_id="4212**********0516")
    outsider = make_org(kind="farm_household")
    body = {"product": "loquat", "quantity": "120", "unit": "kg", "producer": member.code}
    created = client.post("/api/v1/batches", json=body, headers=coop.headers)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["producer"]["code"] == member.code
    assert created.get_json()["custodian"]["code"] == coop.org.code

    not_a_member = client.post("/api/v1/batches", json={**body, "producer": outsider.code}, headers=coop.headers)
    assert not_a_member.status_code == 422
    assert "producer" in not_a_member.get_json()["errors"]["json"]
    farmer_for_other = client.post("/api/v1/batches", json=body, headers=party("farmer").headers)
    assert farmer_for_other.status_code == 422
    assert "producer" in farmer_for_other.get_json()["errors"]["json"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"colour": "red"}, "colour"),
        ({"unit": "jin"}, "unit"),
        ({"quantity": "0"}, "quantity"),
        ({"quantity": "1.2345"}, "quantity"),
        ({"quantity": "NaN"}, "quantity"),
        ({"product": "durian"}, "product"),
        ({"produced_at": "2026-06-01T09:00:00"}, "produced_at"),
        ({"gtin": "6901234567891"}, "gtin"),
        ({"lot_code": "lot code with spaces"}, "lot_code"),
        ({"site": 999999}, "site"),
        ({"producer": "HH\x0001"}, "producer"),
    ],
)
def test_bad_input_is_refused_naming_the_field(client, party, change, field):
    farmer = party("farmer")
    before = _batch_count()
    body = {"product": "camellia_oil", "quantity": "300", "unit": "L", **change}
    response = client.post("/api/v1/batches", json=body, headers=farmer.headers)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]["json"]
    assert _batch_count() == before


def test_a_valid_gtin_and_an_own_site_are_kept_and_anothers_site_is_refused(client, party):
    farmer = party("farmer")
    site = orgs.create_site(
        farmer.org, name="大畈镇枇杷园", kind="orchard", county="通山县", latitude=29.6, longitude=114.52
    )
    other = party("farmer")
    other_site = orgs.create_site(other.org, name="别人的园子", kind="orchard")
    settle()
    body = {"product": "loquat", "quantity": "80", "unit": "kg", "gtin": "6901234567892", "site": site.id}
    created = client.post("/api/v1/batches", json=body, headers=farmer.headers)
    assert created.status_code == 201, created.get_json()
    out = created.get_json()
    assert out["gtin"] == "6901234567892"
    assert out["site"]["name"] == "大畈镇枇杷园" and out["site"]["latitude"] == "29.600000"
    refused = client.post("/api/v1/batches", json={**body, "site": other_site.id}, headers=farmer.headers)
    assert refused.status_code == 422
    assert "site" in refused.get_json()["errors"]["json"]


def test_a_batch_others_may_not_read_is_a_404_like_a_missing_one(client, party, make_batch):
    owner = party("farmer")
    batch = make_batch(owner)
    stranger = party("farmer")
    hidden = client.get(f"/api/v1/batches/{batch.id}", headers=stranger.headers)
    missing = client.get("/api/v1/batches/987654321", headers=stranger.headers)
    assert hidden.status_code == missing.status_code == 404
    assert str(batch.id) in hidden.get_json()["message"]  # the same wording as for a missing id
    assert hidden.get_json()["message"].replace(str(batch.id), "N") == missing.get_json()["message"].replace(
        "987654321", "N"
    )
    for path in ("events", "verify"):
        assert client.get(f"/api/v1/batches/{batch.id}/{path}", headers=stranger.headers).status_code == 404
    for role in ("inspector", "admin"):
        assert client.get(f"/api/v1/batches/{batch.id}", headers=party(role).headers).status_code == 200


def test_producer_and_former_custodian_still_read_the_batch(client, party, make_org, make_batch):
    coop = party("cooperative")
    member = make_org(kind="farm_household", cooperative_code=coop.org.code)
    member_farmer = party("farmer", org=member)
    batch = make_batch(coop, product="loquat", producer=member.code)
    assert client.get(f"/api/v1/batches/{batch.id}", headers=member_farmer.headers).status_code == 200

    # Custody moved to a processor through an accepted transfer: the cooperative can still read it.
    processor = party("processor")
    db.session.add(
        Transfer(
            batch_id=batch.id,
            from_org_id=coop.org.id,
            to_org_id=processor.org.id,
            status=TransferStatus.accepted,
            occurred_at=dt.datetime(2026, 5, 20, tzinfo=dt.UTC),
            transport={},
        )
    )
    batch.custodian_org_id = processor.org.id
    settle()
    for reader in (coop, processor, member_farmer):
        response = client.get(f"/api/v1/batches/{batch.id}", headers=reader.headers)
        assert response.status_code == 200
        assert response.get_json()["custodian"]["code"] == processor.org.code


def test_a_cooperative_reads_its_members_own_batches(client, party, make_org, make_batch):
    coop = party("cooperative")
    member = party("farmer", org=make_org(kind="farm_household", cooperative_code=coop.org.code))
    batch = make_batch(member, product="loquat")
    assert client.get(f"/api/v1/batches/{batch.id}", headers=coop.headers).status_code == 200
    other_coop = party("cooperative")
    assert client.get(f"/api/v1/batches/{batch.id}", headers=other_coop.headers).status_code == 404


def _lots(response) -> list[str]:
    assert response.status_code == 200, response.get_json()
    return [b["lot_code"] for b in response.get_json()["items"]]


def test_list_shows_only_readable_batches_newest_first(client, party, make_batch):
    a, b = party("farmer"), party("farmer")
    a1 = make_batch(a, lot_code="A-1", now=dt.datetime(2026, 3, 1, 10, tzinfo=CST))
    a2 = make_batch(a, product="loquat", lot_code="A-2", now=dt.datetime(2026, 4, 15, 10, tzinfo=CST))
    b1 = make_batch(b, lot_code="B-1", now=dt.datetime(2026, 4, 1, 10, tzinfo=CST))
    assert _lots(client.get("/api/v1/batches", headers=a.headers)) == ["A-2", "A-1"]
    assert _lots(client.get("/api/v1/batches", headers=b.headers)) == ["B-1"]
    inspector = _lots(client.get("/api/v1/batches?per_page=200", headers=party("inspector").headers))
    assert {a1.lot_code, a2.lot_code, b1.lot_code} <= set(inspector)
    assert inspector.index("A-2") < inspector.index("B-1") < inspector.index("A-1")


def test_list_filters_by_product_status_custodian_and_date(client, party, make_batch):
    owner, other = party("processor"), party("processor")
    make_batch(owner, product="mahua", unit="box", lot_code="F-MH", now=dt.datetime(2026, 3, 1, 23, 30, tzinfo=CST))
    held = make_batch(owner, product="brick_tea", lot_code="F-BT", now=dt.datetime(2026, 3, 2, 0, 30, tzinfo=CST))
    make_batch(other, product="brick_tea", lot_code="F-OTHER", now=dt.datetime(2026, 3, 2, 12, tzinfo=CST))
    held.status = BatchStatus.on_hold
    settle()
    inspector = party("inspector").headers

    def lots(query: str) -> list[str]:
        found = _lots(client.get(f"/api/v1/batches?per_page=200&{query}", headers=inspector))
        return [lot for lot in found if lot.startswith("F-")]

    assert lots("product=mahua") == ["F-MH"]
    assert lots("product=brick_tea") == ["F-OTHER", "F-BT"]
    assert lots("status=on_hold") == ["F-BT"]
    assert lots(f"custodian={owner.org.code}") == ["F-BT", "F-MH"]
    assert lots(f"custodian={other.org.code}&product=brick_tea") == ["F-OTHER"]
    # Days are China days: 23:30 on 1 March China time is 15:30 UTC, still 1 March.
    assert lots("from=2026-03-01&to=2026-03-01") == ["F-MH"]
    assert lots("from=2026-03-02") == ["F-OTHER", "F-BT"]
    assert lots("to=2026-03-02&from=2026-03-02") == ["F-OTHER", "F-BT"]
    assert lots("custodian=NO-SUCH-ORG") == []


def test_list_paginates(client, party, make_batch):
    owner = party("cooperative")
    for day in range(1, 6):
        make_batch(owner, lot_code=f"P-{day}", now=dt.datetime(2026, 5, day, tzinfo=CST))
    pages = [client.get(f"/api/v1/batches?per_page=2&page={n}", headers=owner.headers) for n in (1, 2, 3, 4)]
    assert [_lots(p) for p in pages] == [["P-5", "P-4"], ["P-3", "P-2"], ["P-1"], []]
    assert pages[0].get_json()["meta"] == {"page": 1, "per_page": 2, "total": 5}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=2026-05-02&to=2026-05-01", "to"),
        ("from=yesterday", "from"),
        ("status=lost", "status"),
        ("product=durian", "product"),
        ("per_page=0", "per_page"),
        ("colour=red", "colour"),
        ("custodian=A%00B", "custodian"),
    ],
)
def test_bad_list_filters_are_refused_naming_the_parameter(client, party, query, field):
    response = client.get(f"/api/v1/batches?{query}", headers=party("inspector").headers)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]["query"]


def test_automatic_lot_numbers_survive_odd_chosen_codes(client, party, make_batch):
    """A chosen code may not take the automatic form, and odd codes never break the numbering."""
    owner = party("processor")
    body = {"product": "brick_tea", "quantity": "10", "unit": "kg"}
    refused = client.post("/api/v1/batches", json={**body, "lot_code": "BT-2026-999999"}, headers=owner.headers)
    assert refused.status_code == 422
    assert "automatically" in refused.get_json()["errors"]["json"]["lot_code"][0]
    for odd in ("BT-2026-zzzzzz", "BT-2026-DEMO-99", "BT-2026-0A0000"):
        made = client.post("/api/v1/batches", json={**body, "lot_code": odd}, headers=owner.headers)
        assert made.status_code == 201, made.get_json()
    first = client.post(
        "/api/v1/batches", json={**body, "produced_at": "2026-05-01T08:00:00+08:00"}, headers=owner.headers
    )
    second = client.post(
        "/api/v1/batches", json={**body, "produced_at": "2026-05-01T08:00:00+08:00"}, headers=owner.headers
    )
    assert first.status_code == second.status_code == 201, (first.get_json(), second.get_json())
    a, b = first.get_json()["lot_code"], second.get_json()["lot_code"]
    assert a.startswith("BT-2026-") and int(b[-6:]) == int(a[-6:]) + 1
