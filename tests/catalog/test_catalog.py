"""The standards catalog: load counts, idempotence, provenance, export round-trip, and the API."""

from __future__ import annotations

import yaml
from sqlalchemy import func, select

from app.catalog.export import export_catalog
from app.catalog.models import ProductLine, Requirement, Standard
from app.catalog.service import default_catalog_path, load_catalog, load_catalog_file
from app.db import db

SOURCE = yaml.safe_load(default_catalog_path().read_text(encoding="utf-8"))


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_counts_match_the_yaml():
    assert _count(Standard) == len(SOURCE["standards"])
    assert _count(Requirement) == sum(len(s["requirements"] or []) for s in SOURCE["standards"])
    assert _count(ProductLine) == 6


def test_a_second_load_changes_nothing():
    before = [(s.code, s.title_zh, s.effective, len(s.requirements)) for s in db.session.scalars(select(Standard))]
    report = load_catalog_file(default_catalog_path())
    assert (report.created, report.updated) == (0, 0)
    assert report.unchanged == len(SOURCE["standards"])
    assert not db.session.dirty and not db.session.new
    after = [(s.code, s.title_zh, s.effective, len(s.requirements)) for s in db.session.scalars(select(Standard))]
    assert before == after


def test_provenance_survives_the_load():
    fluoride = db.session.scalar(select(Standard).where(Standard.code == "GB 19965-2005"))
    assert fluoride.mandatory is True
    assert fluoride.sources == ["https://www.chinesestandards.org/standards/GB%2019965-2005"]
    req = fluoride.requirements[0]
    assert req.parameter_key == "fluoride"
    assert req.limit_value == 300
    assert req.verified is False and req.provisional is True  # never found in a source
    assert "researcher knowledge" in req.source
    assert req.method == "GB/T 21728-2008"


def test_missing_limits_stay_empty_and_text_limits_stay_text():
    moisture = db.session.scalar(
        select(Requirement)
        .join(Standard)
        .where(Standard.code == "GH/T 1117-2015", Requirement.parameter_key == "moisture")
    )
    assert moisture.limit_value is None and moisture.limit_text is None
    assert not moisture.has_limit
    apc = db.session.scalar(
        select(Requirement)
        .join(Standard)
        .where(Standard.code == "GB 7099-2015", Requirement.parameter_key == "aerobic_plate_count")
    )
    assert apc.limit_value is None and apc.limit_text == "n=5,c=2,m=10^4,M=10^5"


def test_canonical_parameter_keys():
    keys = set(db.session.scalars(select(Requirement.parameter_key)))
    for expected in ("fluoride", "lead", "cadmium", "moisture", "acid_value", "peroxide_value", "aflatoxin_b1",
                     "pesticide.glyphosate", "pesticide.imidacloprid"):  # fmt: skip
        assert expected in keys
    assert all(k == k.lower() and " " not in k for k in keys)


def test_editions_and_supersession():
    old = db.session.scalar(select(Standard).where(Standard.code == "GB 2763-2021"))
    new = db.session.scalar(select(Standard).where(Standard.code == "GB 2763-2026"))
    assert old.base_code == new.base_code == "GB 2763"
    assert (old.edition, new.edition) == ("2021", "2026")
    assert old.superseded_by == "GB 2763-2026"
    assert str(new.effective) == "2026-03-01"
    supplement = db.session.scalar(select(Standard).where(Standard.code == "GB 2763.1-2022"))
    # A date, not a note, since the 2026-12 audit.
    assert str(supplement.effective) == "2023-05-11" and supplement.effective_note is None
    assert supplement.superseded_by == "GB 2763-2026"


def test_split_parameter_names_are_rejoined_not_lost():
    glyphosate = db.session.scalar(
        select(Requirement).join(Standard).where(Standard.code == "GB 2763-2021", Requirement.product_key == "loquat")
    )
    assert glyphosate.parameter_raw.endswith("GB/T 23750, NY/T 1096, SN/T 1923)")
    assert glyphosate.parameter_key == "pesticide.glyphosate"


def test_export_then_load_round_trips():
    exported = export_catalog()
    text = yaml.safe_dump(exported, allow_unicode=True, sort_keys=False)
    reread = yaml.safe_load(text)
    assert len(reread["standards"]) == len(SOURCE["standards"])
    report = load_catalog(reread)
    assert (report.created, report.updated) == (0, 0), "loading our own export must change nothing"
    # And into an empty catalog: the same rows come back.
    snapshot = {
        s.code: (s.title_zh, s.level_detail, s.mandatory, s.kind, s.issued, s.effective, s.effective_note, s.sources,
                 [(r.parameter_raw, r.limit_value, r.limit_text, r.verified, r.source) for r in s.requirements])
        for s in db.session.scalars(select(Standard))
    }  # fmt: skip
    for line in db.session.scalars(select(ProductLine)):
        line.default_standards = []
    for s in db.session.scalars(select(Standard)):
        db.session.delete(s)
    db.session.flush()
    assert _count(Standard) == 0
    load_catalog(reread)
    again = {
        s.code: (s.title_zh, s.level_detail, s.mandatory, s.kind, s.issued, s.effective, s.effective_note, s.sources,
                 [(r.parameter_raw, r.limit_value, r.limit_text, r.verified, r.source) for r in s.requirements])
        for s in db.session.scalars(select(Standard))
    }  # fmt: skip
    assert again == snapshot


def test_cli_load_and_export(app, tmp_path):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["catalog", "load"])
    assert result.exit_code == 0, result.output
    assert "0 created, 0 updated" in result.output
    out = tmp_path / "catalog.yaml"
    result = runner.invoke(args=["catalog", "export", str(out)])
    assert result.exit_code == 0, result.output
    assert len(yaml.safe_load(out.read_text(encoding="utf-8"))["standards"]) == len(SOURCE["standards"])


def test_products_api_lists_six_lines_with_stages_and_standards(client):
    response = client.get("/api/v1/products")
    assert response.status_code == 200
    items = {p["key"]: p for p in response.get_json()["items"]}
    assert set(items) == {"osmanthus", "lotus_root", "brick_tea", "camellia_oil", "mahua", "loquat"}
    tea = items["brick_tea"]
    assert tea["name_zh"] == "赤壁青砖茶" and tea["county_zh"] == "赤壁市"
    assert [s["key"] for s in tea["stages"]][:4] == ["seedling", "planting", "harvest", "processing"]
    harvest = next(s for s in tea["stages"] if s["key"] == "harvest")
    assert {"quantity", "unit", "grade", "note"} <= {f["name"] for f in harvest["fields"]}
    assert "GB/T 9833.9-2013" in [s["code"] for s in tea["default_standards"]]
    assert "GB 19965-2005" in [s["code"] for s in tea["mandatory_standards"]]
    assert items["mahua"]["stages"][0]["key"] == "processing"


def test_one_product_and_an_unknown_one(client):
    assert client.get("/api/v1/products/loquat").get_json()["name_en"] == "Tongshan loquat"
    missing = client.get("/api/v1/products/durian")
    assert missing.status_code == 404
    assert "durian" in missing.get_json()["message"]


def test_standards_filters(client):
    all_items = client.get("/api/v1/standards").get_json()
    assert all_items["meta"]["total"] == len(SOURCE["standards"])
    mandatory = client.get("/api/v1/standards?mandatory=true&product=brick_tea").get_json()["items"]
    codes = {s["code"] for s in mandatory}
    assert {"GB 19965-2005", "GB 2762-2022", "GB 2763-2026"} <= codes
    assert all(s["mandatory"] for s in mandatory)
    assert "GB 2716-2018" not in codes  # vegetable oil does not bind tea
    tracing = client.get("/api/v1/standards?kind=traceability&level=industry").get_json()["items"]
    assert tracing and all(s["kind"] == "traceability" and s["level"] == "industry" for s in tracing)
    by_text = client.get("/api/v1/standards?q=青砖茶").get_json()["items"]
    assert {s["code"] for s in by_text} >= {"GB/T 9833.9-2013", "T/CTMA 006-2019"}
    assert client.get("/api/v1/standards?q=9833.9").get_json()["meta"]["total"] == 1
    bad = client.get("/api/v1/standards?level=galactic")
    assert bad.status_code == 422
    assert "level" in bad.get_json()["errors"]["query"]


def test_one_standard_with_requirements_and_provenance(client):
    std_id = db.session.scalar(select(Standard.id).where(Standard.code == "GB 2716-2018"))
    body = client.get(f"/api/v1/standards/{std_id}").get_json()
    assert body["code"] == "GB 2716-2018"
    assert body["provenance"]["confidence"] == "high"
    assert len(body["provenance"]["sources"]) == 4
    acid = [r for r in body["requirements"] if r["parameter"] == "acid_value"]
    assert {r["provisional"] for r in acid} == {True, False}
    verified = next(r for r in acid if not r["provisional"])
    assert verified["limit"] == "3.000000" or float(verified["limit"]) == 3.0


def test_frying_oil_standard_does_not_judge_the_finished_mahua(client):
    """GB 2716 lists mahua for its frying oil (the catalog's note); the snack is held to GB 7099."""
    mahua = client.get("/api/v1/products/mahua").get_json()
    mandatory = {s["code"] for s in mahua["mandatory_standards"]}
    assert "GB 7099-2015" in mandatory
    assert "GB 2716-2018" not in mandatory
    oil = client.get("/api/v1/products/camellia_oil").get_json()
    assert "GB 2716-2018" in {s["code"] for s in oil["mandatory_standards"]}
