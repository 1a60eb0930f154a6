"""The catalog's shape for the verdict rules: forms, status, basis, grading, 临时限量, and the checks at load.

Refusals are judged by their message (it must name the standard, the requirement and the
reason) and by what they leave behind (nothing: the catalog is parsed whole before it is written).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select

from app.catalog.models import Requirement, Standard
from app.catalog.service import load_catalog
from app.db import db
from app.errors import InvalidInput


def _standard(code: str, requirements: list[dict[str, Any]], **overrides: Any) -> dict[str, Any]:
    values = {
        "code": code,
        "title_zh": "测试标准",
        "level": "national",
        "mandatory": code.startswith("GB ") and not code.startswith("GB/T"),
        "status": "in_force",
        "applies_to": ["camellia_oil"],
        "requirements": requirements,
    }
    values.update(overrides)
    return values


def _row(**overrides: Any) -> dict[str, Any]:
    values = {"parameter": "酸价 acid value (KOH)", "unit": "mg/g", "comparator": "<=", "limit": 3, "verified": True}
    values.update(overrides)
    return values


def _refused(catalog: dict[str, Any]) -> str:
    before = db.session.scalar(select(func.count()).select_from(Standard))
    with pytest.raises(InvalidInput) as refused:
        load_catalog(catalog)
    assert db.session.scalar(select(func.count()).select_from(Standard)) == before, "a refused load wrote rows"
    return refused.value.message


def test_a_requirement_without_scope_in_a_standard_for_several_foods_is_refused():
    catalog = {
        "standards": [
            _standard(
                "GB 99901-2026", [_row(product="camellia_oil"), _row(limit=5)], applies_to=["camellia_oil", "mahua"]
            )
        ]
    }
    message = _refused(catalog)
    assert message.startswith("GB 99901-2026: requirement 2 (酸价 acid value (KOH))")
    assert "no product or forms given" in message and "camellia_oil, mahua" in message
    # "all" covers several foods too.
    message = _refused({"standards": [_standard("GB 99902-2026", [_row()], applies_to=["all"])]})
    assert "GB 99902-2026: requirement 1" in message and "several foods" in message


def test_a_standard_for_one_food_needs_no_scope_and_forms_alone_are_a_scope():
    report = load_catalog(
        {
            "standards": [
                _standard("GB 99903-2026", [_row()]),
                _standard("GB 99904-2026", [_row(forms=["frying_oil"])], applies_to=["camellia_oil", "mahua"]),
            ]
        }
    )
    assert report.created == 2
    frying = db.session.scalar(select(Requirement).join(Standard).where(Standard.code == "GB 99904-2026"))
    # Frying oil in use is none of the six lines: the row binds no batch, rather than every one.
    assert frying.forms == ["frying_oil"] and frying.scoped_product == "none"


@pytest.mark.parametrize(
    ("row", "standard", "reason"),
    [
        (_row(forms=["fresh_leaf"]), {}, "form 'fresh_leaf' is not one of the forms of camellia_oil"),
        (_row(forms=["gold_leaf"]), {}, "form 'gold_leaf' is not a known form tag"),
        (_row(forms="edible_oil"), {}, "forms must be a list of form tags"),
        (_row(forms=["pressed", "pressed"]), {}, "a form is listed twice"),
        (_row(product="durian"), {}, "product 'durian' is not a product line"),
        (_row(basis="wet"), {}, "basis 'wet' is not one of as_is, dry_matter, fat"),
        (_row(grading="yes"), {}, "grading must be true or false"),
        (_row(temporary_mrl=1), {}, "temporary_mrl must be true or false"),
        (_row(not_detected_below="ten"), {}, "not_detected_below must be a number"),
        (_row(), {"status": "current"}, "status 'current' is not one of in_force, withdrawn, uncertain"),
        (_row(), {"status": None}, "status None is not one of"),
    ],
)
def test_malformed_shape_is_refused_naming_the_standard_and_the_reason(row, standard, reason):
    message = _refused({"standards": [_standard("GB 99905-2026", [row], **standard)]})
    assert message.startswith("GB 99905-2026: "), message
    assert reason in message, message
    if "status" not in standard:
        assert "requirement 1 (酸价 acid value (KOH))" in message


def test_the_new_fields_load_and_round_trip():
    row = _row(
        product="camellia_oil", forms=["pressed"], comparator="not_detected", limit=None, not_detected_below=10,
        basis="fat", grading=True, temporary_mrl=True, verified=False,
    )  # fmt: skip
    load_catalog({"standards": [_standard("GB 99906-2026", [row], status="uncertain", status_note="源说已废止")]})
    std = db.session.scalar(select(Standard).where(Standard.code == "GB 99906-2026"))
    assert (std.status, std.status_note, std.binds) == ("uncertain", "源说已废止", False)
    [req] = std.requirements
    assert (req.forms, req.basis, req.grading, req.temporary_mrl) == (["pressed"], "fat", True, True)
    assert req.not_detected_below == Decimal(10) and req.provisional  # 临时限量 and unverified are two facts
    again = load_catalog(
        {"standards": [_standard("GB 99906-2026", [row], status="uncertain", status_note="源说已废止")]}
    )
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)


def test_a_voluntary_limit_looser_than_a_mandatory_one_is_reported_and_still_loads():
    lead = {
        "parameter": "铅 lead (Pb)",
        "product": "camellia_oil",
        "unit": "mg/kg",
        "comparator": "<=",
        "verified": True,
    }
    catalog = {
        "standards": [
            _standard("GB 99907-2026", [{**lead, "limit": 0.1, "clause": "4.1"}], applies_to=["all"]),
            # Looser, in another unit that converts: 200 ug/kg = 0.2 mg/kg.
            _standard("GB/T 99908-2026", [{**lead, "limit": 200, "unit": "ug/kg", "clause": "5.2"}]),
            # Stricter: nothing to say.
            _standard("NY/T 99909-2026", [{**lead, "limit": 0.05}]),
            # Looser for one form: the mandatory row binds every form, so they compete.
            _standard("T/XN 99910-2026", [{**lead, "limit": 0.3, "forms": ["crude_oil"]}]),
            # Looser on another basis: not the same limit, not compared.
            _standard("DB42/T 99911-2026", [{**lead, "limit": 0.3, "basis": "dry_matter"}]),
            # Withdrawn: binds nothing, so it loosens nothing.
            _standard("GB/T 99912-2026", [{**lead, "limit": 0.9}], status="withdrawn"),
        ]
    }
    report = load_catalog(catalog)
    assert report.created == 6
    assert len(report.warnings) == 2, report.warnings
    first, second = report.warnings
    assert first == (
        "GB/T 99908-2026 clause 5.2: lead <= 200 ug/kg for camellia_oil is looser than the mandatory "
        "GB 99907-2026 clause 4.1 (<= 0.1 mg/kg); the strictest limit still governs"
    )
    assert second.startswith("T/XN 99910-2026 clause -: lead <= 0.3 mg/kg for camellia_oil")


def test_forms_that_do_not_overlap_do_not_compete():
    ph = {"parameter": "酸价 acid value (KOH)", "product": "camellia_oil", "unit": "mg/g", "comparator": "<="}
    report = load_catalog(
        {
            "standards": [
                _standard("GB 99913-2026", [{**ph, "limit": 3, "forms": ["edible_oil"]}]),
                _standard("GB/T 99914-2026", [{**ph, "limit": 4, "forms": ["crude_oil"]}]),
                _standard("GB/T 99915-2026", [{**ph, "limit": 4, "forms": ["edible_oil", "pressed"]}]),
            ]
        }
    )
    assert [w.split(" clause")[0] for w in report.warnings] == ["GB/T 99915-2026"]


def test_the_project_catalog_loads_without_looser_voluntary_limits():
    from app.catalog.service import default_catalog_path, load_catalog_file

    assert load_catalog_file(default_catalog_path()).warnings == []


def test_cli_load_lists_the_warnings(app, tmp_path):
    lead = {"parameter": "铅 lead (Pb)", "product": "loquat", "unit": "mg/kg", "comparator": "<="}
    path = tmp_path / "catalog.yaml"
    catalog = {
        "standards": [
            _standard("GB 99916-2026", [{**lead, "limit": 0.1}], applies_to=["loquat"]),
            _standard("GB/T 99917-2026", [{**lead, "limit": 0.2}], applies_to=["loquat"]),
        ]
    }
    path.write_text(yaml.safe_dump(catalog, allow_unicode=True), encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["catalog", "load", str(path)])
    assert result.exit_code == 0, result.output
    assert "  warning: GB/T 99917-2026 clause -: lead <= 0.2 mg/kg for loquat is looser than" in result.output


def test_cli_load_refuses_a_catalog_naming_the_requirement(app, tmp_path):
    path = tmp_path / "catalog.yaml"
    catalog = {"standards": [_standard("GB 99918-2026", [_row()], applies_to=["all"])]}
    path.write_text(yaml.safe_dump(catalog, allow_unicode=True), encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["catalog", "load", str(path)])
    assert result.exit_code != 0
    assert "GB 99918-2026: requirement 1 (酸价 acid value (KOH))" in result.output


def test_the_product_api_lists_form_tags(client):
    oil = client.get("/api/v1/products/camellia_oil").get_json()
    assert oil["forms"] == ["crude_oil", "edible_oil", "pressed", "solvent_extracted"]
    assert client.get("/api/v1/products/osmanthus").get_json()["forms"] == ["fresh_flower", "scented_tea", "sugared"]
    assert client.get("/api/v1/products/lotus_root").get_json()["forms"] == ["fresh", "processed"]
    assert client.get("/api/v1/products/brick_tea").get_json()["forms"] == ["fresh_leaf", "finished_tea"]
    listed = {p["key"]: p["forms"] for p in client.get("/api/v1/products").get_json()["items"]}
    assert listed["mahua"] == [] and listed["loquat"] == []


def test_the_standards_api_carries_status_and_the_requirement_fields(client):
    uncertain = client.get("/api/v1/standards?status=uncertain").get_json()["items"]
    assert "GB 16565-2003" in {s["code"] for s in uncertain}
    assert all(s["status"] == "uncertain" for s in uncertain)
    assert client.get("/api/v1/standards?status=gone").status_code == 422

    std_id = db.session.scalar(select(Standard.id).where(Standard.code == "GB 2716-2018"))
    body = client.get(f"/api/v1/standards/{std_id}").get_json()
    assert (body["status"], body["status_note"]) == ("in_force", None)
    acid = {tuple(r["forms"]): r for r in body["requirements"] if r["parameter"] == "acid_value"}
    assert Decimal(acid[("crude_oil",)]["limit"]) == 4 and Decimal(acid[("edible_oil",)]["limit"]) == 3
    pressed = next(r for r in body["requirements"] if r["forms"] == ["pressed"])
    assert (pressed["comparator"], Decimal(pressed["not_detected_below"]), pressed["provisional"]) == (
        "not_detected",
        10,
        True,
    )
    assert {r["basis"] for r in body["requirements"]} == {"as_is"}
    assert not any(r["grading"] or r["temporary_mrl"] for r in body["requirements"])

    supplement_id = db.session.scalar(select(Standard.id).where(Standard.code == "GB 2763.1-2022"))
    rows = {r["parameter"]: r for r in client.get(f"/api/v1/standards/{supplement_id}").get_json()["requirements"]}
    bentazone = rows["pesticide.bentazone"]
    assert (bentazone["temporary_mrl"], bentazone["provisional"], bentazone["verified"]) == (True, True, False)
    assert rows["pesticide.zineb"]["temporary_mrl"] is False

    pastry_id = db.session.scalar(select(Standard.id).where(Standard.code == "GB 7099-2015"))
    pastry = client.get(f"/api/v1/standards/{pastry_id}").get_json()["requirements"]
    assert {r["parameter"]: r["basis"] for r in pastry if r["basis"] != "as_is"} == {
        "acid_value": "fat", "peroxide_value": "fat"
    }  # fmt: skip

    fruit_id = db.session.scalar(select(Standard.id).where(Standard.code == "GB/T 13867-1992"))
    fruit = client.get(f"/api/v1/standards/{fruit_id}").get_json()["requirements"]
    assert {r["parameter"] for r in fruit if r["grading"]} == {"stalk_length", "soluble_solids", "fruit_weight"}


def test_an_uncertain_standard_binds_no_batch(client, auth):
    mahua = client.get("/api/v1/products/mahua").get_json()
    assert "GB 16565-2003" not in {s["code"] for s in mahua["mandatory_standards"]}
    headers = auth("processor")
    made = client.post("/api/v1/batches", json={"product": "mahua", "quantity": "10", "unit": "kg"}, headers=headers)
    assert made.status_code == 201, made.get_json()
    codes = {s["code"] for s in made.get_json()["standards"]}
    assert "GB 16565-2003" not in codes and "GB 7099-2015" in codes
