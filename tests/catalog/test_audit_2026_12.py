"""Each correction of the December 2026 catalog audit (shared standards/AUDIT-2026-12.md), spot-checked
in the catalog as loaded (or, for the sections the loader does not read, in the YAML itself).

The section numbers are the audit's; app/catalog/data/README.md lists what each item changed.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import yaml
from sqlalchemy import select

from app.catalog.models import ProductLine, Requirement, Standard
from app.catalog.service import applicable_mandatory, default_catalog_path
from app.compliance.timing import requirement_applies
from app.db import db

SOURCE = yaml.safe_load(default_catalog_path().read_text(encoding="utf-8"))


def standard(code: str) -> Standard:
    found = db.session.scalar(select(Standard).where(Standard.code == code))
    assert found is not None, f"{code} is not in the catalog"
    return found


def rows(code: str, parameter: str, product: str | None = None) -> list[Requirement]:
    found = [r for r in standard(code).requirements if r.parameter_key == parameter]
    return [r for r in found if product is None or r.product_key == product]


def binds(req: Requirement, product: str) -> bool:
    """What the verdict engine asks today (product scope; forms are the engine's next step)."""
    return requirement_applies(req.scoped_product, req.standard.applies_to, product)


# --- Section 1: rows that bound the wrong product form ------------------------------------------


def test_gb2716_acid_value_rows_bind_their_form_only():
    acid = {tuple(r.forms): r for r in rows("GB 2716-2018", "acid_value")}
    assert set(acid) == {("crude_oil",), ("edible_oil",), ("frying_oil",)}
    assert acid[("crude_oil",)].limit_value == 4 and acid[("crude_oil",)].provisional
    assert acid[("edible_oil",)].limit_value == 3 and not acid[("edible_oil",)].provisional
    assert acid[("crude_oil",)].product_key == acid[("edible_oil",)].product_key == "camellia_oil"


def test_gb2716_frying_oil_rows_bind_no_product_line():
    frying = [r for r in standard("GB 2716-2018").requirements if r.forms == ["frying_oil"]]
    assert {(r.parameter_key, r.limit_value) for r in frying} == {("acid_value", 5), ("polar_components", 27)}
    for row in frying:
        assert not binds(row, "camellia_oil") and not binds(row, "mahua")


def test_gb2716_solvent_residue_by_extraction_method():
    solvent = {tuple(r.forms): r for r in rows("GB 2716-2018", "solvent_residue")}
    assert solvent[("solvent_extracted",)].limit_value == 20
    pressed = solvent[("pressed",)]
    assert (pressed.comparator, pressed.limit_value, pressed.not_detected_below) == ("not_detected", None, 10)
    assert pressed.unit == "mg/kg" and pressed.provisional  # unverified: loaded as provisional
    assert "不得检出" in pressed.scope and "10 mg/kg" in pressed.scope


def test_gb2761_peanut_and_corn_oil_aflatoxin_binds_none_of_the_six_lines():
    aflatoxin = {r.limit_value: r for r in rows("GB 2761-2017", "aflatoxin_b1")}
    assert aflatoxin[Decimal(20)].forms == ["peanut_oil", "corn_oil"]
    assert not any(binds(aflatoxin[Decimal(20)], p) for p in ("camellia_oil", "mahua"))
    assert binds(aflatoxin[Decimal(10)], "camellia_oil") and not binds(aflatoxin[Decimal(10)], "mahua")


def test_a_camellia_oil_batch_is_not_held_to_frying_oil_or_peanut_oil_limits(client, auth):
    headers = auth("processor")
    made = client.post(
        "/api/v1/batches", json={"product": "camellia_oil", "quantity": "100", "unit": "kg"}, headers=headers
    )
    assert made.status_code == 201, made.get_json()
    body = client.get(f"/api/v1/batches/{made.get_json()['id']}/compliance", headers=headers).get_json()
    bound = {(r["parameter"], r["limit"]) for r in body["rows"]}
    assert not [p for p, _ in bound if p == "polar_components"]
    assert [limit for p, limit in bound if p == "aflatoxin_b1"] == ["10"]
    assert ("acid_value", "5") not in bound


def test_gbt20977_binds_only_when_declared():
    mahua = db.session.get(ProductLine, "mahua")
    assert not {s.base_code for s in mahua.default_standards} & {"GB/T 20977"}
    assert "执行标准" in standard("GB/T 20977-2007").notes
    assert standard("GB/T 20977-2007").superseded_by == "GB/T 20977-2024"
    assert standard("GB/T 20977-2024").effective == dt.date(2026, 5, 1)


def test_gbt13867_stalk_length_is_a_grading_item():
    [stalk] = rows("GB/T 13867-1992", "stalk_length")
    assert stalk.grading and stalk.limit_text == "15 ± 2"
    assert "3.2" in stalk.clause


def test_gb16565_is_uncertain_and_binds_nothing():
    fried = standard("GB 16565-2003")
    assert (fried.status, fried.binds, fried.mandatory) == ("uncertain", False, True)
    assert "UNCERTAIN" in fried.status_note
    assert "GB 16565-2003" not in {s.code for s in applicable_mandatory("mahua")}


def test_every_requirement_of_a_standard_for_several_foods_has_a_scope():
    for std in db.session.scalars(select(Standard)):
        if "all" in std.applies_to or len(std.applies_to) > 1:
            for req in std.requirements:
                assert req.product_key or req.forms, f"{std.code} {req.parameter_raw}"


# --- Section 2: verification flags that were overstated -------------------------------------------


def test_the_six_gb2763_2026_tea_mrls_are_unverified():
    six = ("imidacloprid", "acetamiprid", "bifenthrin", "carbendazim", "cypermethrin", "fenvalerate")
    for name in six:
        [row] = rows("GB 2763-2026", f"pesticide.{name}", "brick_tea")
        assert row.verified is False and row.provisional, name
        assert "158119.com" in row.source or "same caveat" in row.source
    # The two new in 2026 were read in a source and stay verified.
    assert all(rows("GB 2763-2026", f"pesticide.{n}", "brick_tea")[0].verified for n in ("flonicamid", "fenpyroximate"))


# --- Section 3: mandatory items that were missing ---------------------------------------------------

MORE_2016 = {
    "hch": "0.2", "ddt": "0.2", "methamidophos": "0.05", "carbofuran": "0.05", "glufosinate": "0.5",
    "indoxacarb": "5", "pymetrozine": "2", "chlorfenapyr": "20", "deltamethrin": "10", "difenoconazole": "10",
    "thiamethoxam": "10", "cyhalothrin": "15",
}  # fmt: skip
SIX_2016 = {"imidacloprid": "0.5", "acetamiprid": "10", "bifenthrin": "5", "carbendazim": "5", "cypermethrin": "20",
            "fenvalerate": "0.1"}  # fmt: skip


def test_gb31608_tea_is_mandatory_for_brick_tea_and_osmanthus_tea():
    tea = standard("GB 31608-2023")
    assert (tea.mandatory, tea.status, tea.effective) == (True, "in_force", dt.date(2024, 9, 6))
    assert set(tea.applies_to) == {"brick_tea", "osmanthus"}
    assert "GB 31608-2023" in {s.code for s in applicable_mandatory("brick_tea")}
    assert "GB 31608-2023" in {s.code for s in applicable_mandatory("osmanthus")}
    additives = {r.product_key: r for r in rows("GB 31608-2023", "food_additives")}
    assert additives["brick_tea"].forms == ["finished_tea"] and additives["osmanthus"].forms == ["scented_tea"]
    assert all(r.limit_text == "不应使用" and r.clause is None for r in additives.values())  # clauses not seen


def test_gb2763_2021_carries_the_tea_mrls_provisionally():
    for name, limit in {**SIX_2016, **MORE_2016}.items():
        [row] = rows("GB 2763-2021", f"pesticide.{name}", "brick_tea")
        assert row.limit_value == Decimal(limit) and row.provisional, name
    [glyphosate] = rows("GB 2763-2021", "pesticide.glyphosate", "brick_tea")
    assert glyphosate.verified  # the 2021 value was read in a source


def test_gb2763_2026_has_tea_glyphosate_and_the_2016_list_provisionally():
    [glyphosate] = rows("GB 2763-2026", "pesticide.glyphosate", "brick_tea")
    assert glyphosate.limit_value == 1 and glyphosate.provisional
    assert "2763.foodvip.net/pesticides/limit/68.html" in glyphosate.source and "163.com" in glyphosate.source
    for name, limit in MORE_2016.items():
        [row] = rows("GB 2763-2026", f"pesticide.{name}", "brick_tea")
        assert row.limit_value == Decimal(limit) and row.provisional, name


def test_gb2763_1_tea_mrls_with_the_temporary_one_flagged():
    supplement = {r.parameter_key: r for r in standard("GB 2763.1-2022").requirements}
    assert supplement["pesticide.zineb"].limit_value == 50
    assert supplement["pesticide.malathion"].limit_value == Decimal("0.5")
    bentazone = supplement["pesticide.bentazone"]
    assert (bentazone.limit_value, bentazone.temporary_mrl, bentazone.verified) == (Decimal("0.1"), True, False)
    fenobucarb = supplement["pesticide.fenobucarb"]
    assert fenobucarb.limit_value is None and not fenobucarb.has_limit  # value not seen: left empty
    assert all(r.provisional for r in supplement.values())
    assert sum(r.temporary_mrl for r in supplement.values()) == 1


def test_gb2762_fresh_lotus_root_metals():
    for parameter, limit in (("total_mercury", "0.01"), ("total_arsenic", "0.5"), ("chromium", "0.5")):
        [row] = rows("GB 2762-2022", parameter, "lotus_root")
        assert row.limit_value == Decimal(limit) and row.verified, parameter
        assert row.forms == ["fresh"] and "2762.foodvip.net" in row.source
    [cadmium] = rows("GB 2762-2022", "cadmium", "lotus_root")
    assert cadmium.provisional and "unresolved" in cadmium.source


def test_gbt30375_tea_storage():
    storage = standard("GB/T 30375-2013")
    assert (storage.issued, storage.effective, storage.mandatory) == (
        dt.date(2013, 12, 31),
        dt.date(2014, 6, 22),
        False,
    )
    [humidity] = storage.requirements
    assert (humidity.parameter_key, humidity.limit_value, humidity.provisional) == ("relative_humidity", 60, True)


def test_gb29921_pathogens_for_mahua_without_invented_figures():
    pathogens = standard("GB 29921")
    assert pathogens.mandatory and pathogens.applies_to == ["mahua"] and pathogens.edition is None
    assert {r.parameter_key for r in pathogens.requirements} == {"salmonella", "staphylococcus_aureus"}
    assert all(not r.has_limit and r.provisional for r in pathogens.requirements)


def test_loquat_pome_fruit_mrls_beyond_glyphosate_are_left_out_and_said_so():
    for code in ("GB 2763-2021", "GB 2763-2026"):
        loquat = [r.parameter_key for r in standard(code).requirements if r.product_key == "loquat"]
        assert loquat == ["pesticide.glyphosate"], code
    assert "left out rather than invented" in standard("GB 2763-2026").notes


def test_the_compliance_certificate_regulation_is_in_the_catalog():
    by_kind = {c["kind"]: c for c in SOURCE["certifications"]}
    certificate = by_kind["compliance_commitment_certificate"]
    assert "农业农村部令2025年第4号" in certificate["legal_basis"]
    assert (certificate["issued"], certificate["effective"]) == (dt.date(2025, 12, 2), dt.date(2026, 2, 1))
    assert set(certificate["applies_to"]) == {"loquat", "lotus_root", "brick_tea"}
    assert certificate["forms"]["brick_tea"] == ["fresh_leaf"] and certificate["verified"] is True


# --- Section 4: metadata --------------------------------------------------------------------------------


def test_dates_corrected():
    assert standard("GB 2716-2018").effective == dt.date(2018, 12, 21)
    additives = standard("GB 2760-2024")
    assert (additives.issued, additives.effective) == (dt.date(2024, 2, 8), dt.date(2025, 2, 8))
    assert "believed" in additives.notes  # one garbled page: said so
    supplement = standard("GB 2763.1-2022")
    assert supplement.effective == dt.date(2023, 5, 11) and supplement.effective_note is None


def test_geographical_indications_have_separate_kinds():
    kinds = {c["kind"] for c in SOURCE["certifications"]}
    assert {"agricultural_gi", "gi_certification_mark", "protected_gi_product"} <= kinds
    [chibi] = [f for f in SOURCE["gi_and_local_status"]["brick_tea"] if "赤壁青砖茶 CHIBIQINGZHUANCHA" in f["fact"]]
    assert chibi["kind"] == "gi_certification_mark"


# --- Section 5 (bases) and section 6 (临时限量 as its own flag) -----------------------------------


def test_limits_carry_their_basis():
    [aluminium] = rows("GB 2760-2024", "aluminium_residue")
    assert (aluminium.basis, aluminium.product_key) == ("dry_matter", "mahua")
    assert {r.parameter_key: r.basis for r in standard("GB 7099-2015").requirements if r.basis != "as_is"} == {
        "acid_value": "fat", "peroxide_value": "fat"
    }  # fmt: skip


def test_temporary_mrl_is_apart_from_verification():
    temporary = [r for r in db.session.scalars(select(Requirement)) if r.temporary_mrl]
    assert [(r.standard.code, r.parameter_key) for r in temporary] == [("GB 2763.1-2022", "pesticide.bentazone")]
    unverified = db.session.scalars(select(Requirement).where(Requirement.verified.is_(False))).all()
    assert len(unverified) > len(temporary)  # unverified is not temporary
