"""GET /api/v1/standards/compare: every limit in one unit, the strictest marked, stricter T/ and Q/ ones listed."""

from __future__ import annotations

from decimal import Decimal

from app.catalog.models import Requirement, Standard
from app.db import db


def test_the_strictest_limit_is_marked_in_one_unit(client):
    body = client.get("/api/v1/standards/compare?product=camellia_oil&parameter=acid_value").get_json()
    assert body["unit"] == "mg/g"
    limits = {(r["standard"], r["limit_in_unit"]) for r in body["rows"]}
    assert ("GB 2716-2018", "3") in limits and ("GB 2716-2018", "4") in limits
    strictest = [r for r in body["rows"] if r["strictest"]]
    assert strictest and {(r["standard"], r["limit_in_unit"]) for r in strictest} == {("GB 2716-2018", "3")}


def test_a_stricter_enterprise_standard_is_listed_after_conversion(client, make_org):
    owner = make_org(kind="enterprise")
    standard = Standard(
        code="Q/TEST 0001S-2026", base_code="Q/TEST 0001S", edition="2026", title_zh="麻花企业标准", level="enterprise",
        level_detail="enterprise", mandatory=False, kind="product", replaces=[], applies_to=["mahua"], sources=[],
        extra={}, owner_org_id=owner.id,
    )  # fmt: skip
    db.session.add(standard)
    db.session.flush()
    db.session.add(
        Requirement(
            standard_id=standard.id, position=0, parameter_key="lead", parameter_zh="铅", parameter_raw="铅",
            unit="µg/kg", comparator="<=", limit_value=Decimal("200"), clause="4.2", verified=True,
        )
    )  # fmt: skip
    db.session.flush()
    body = client.get("/api/v1/standards/compare?product=mahua&parameter=lead").get_json()
    assert body["unit"] == "mg/kg"  # µg/kg and mg/kg: the base unit
    rows = {r["standard"]: r for r in body["rows"]}
    assert rows["Q/TEST 0001S-2026"]["limit_in_unit"] == "0.2" and rows["Q/TEST 0001S-2026"]["strictest"]
    assert not rows["GB 2762-2022"]["strictest"]
    assert body["stricter_than_national"] == [
        {"standard": "Q/TEST 0001S-2026", "clause": "4.2", "limit_in_unit": "0.2"}
    ]


def test_an_unknown_product_is_a_422_naming_it(client):
    response = client.get("/api/v1/standards/compare?product=melon&parameter=lead")
    assert response.status_code == 422
    assert "product" in response.get_json()["errors"]["query"]
