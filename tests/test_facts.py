"""One place for each fact: no module in app/ keeps its own copy of a fact that has a home.

Each test names the home and greps the package for a second definition, so a copy added later
fails here rather than drifting from the first one.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app"


def _sources(*, suffixes: tuple[str, ...] = (".py",)) -> dict[str, str]:
    return {
        str(p.relative_to(APP.parent)): p.read_text(encoding="utf-8")
        for p in sorted(APP.rglob("*"))
        if p.suffix in suffixes and "translations" not in p.parts
    }


def _defining(pattern: str, home: str, suffixes: tuple[str, ...] = (".py",)) -> list[str]:
    found = re.compile(pattern)
    return [path for path, text in _sources(suffixes=suffixes).items() if path != home and found.search(text)]


def test_china_time_is_defined_only_in_app_clock():
    assert _defining(r"Asia/Shanghai|timedelta\(\s*hours\s*=\s*8\s*\)|ZoneInfo\(", "app/clock.py") == []


def test_china_dates_are_the_dates_in_xianning():
    from app import clock

    late_evening_utc = dt.datetime(2026, 9, 27, 22, 30, tzinfo=dt.UTC)
    assert clock.china_date(late_evening_utc) == dt.date(2026, 9, 28)
    assert clock.to_china(late_evening_utc).isoformat() == "2026-09-28T06:30:00+08:00"
    assert clock.china_midnight(dt.date(2026, 3, 2)) == dt.datetime(2026, 3, 1, 16, tzinfo=dt.UTC)
    assert clock.china_clock_time("2026-04-02 09:30") == dt.datetime(2026, 4, 2, 1, 30, tzinfo=dt.UTC)
    assert clock.now().tzinfo is dt.UTC


def test_the_id_bound_is_written_only_in_app_schemas():
    assert _defining(r"2147483647|2\s*\*\*\s*31", "app/schemas.py") == []
    # Routes name the converter, never a bounded int of their own.
    assert _defining(r"<int[:(]", "app/schemas.py") == []


def test_every_id_in_a_path_is_bounded_the_same_way(app, client):
    from app.schemas import MAX_ID

    spec = client.get("/api/v1/openapi.json").get_json()
    ids = [
        (path, p["schema"])
        for path, item in spec["paths"].items()
        for p in item.get("parameters", [])
        if p["in"] == "path" and p["name"].endswith("_id")
    ]
    assert len(ids) >= 17
    assert all(schema == {"type": "integer", "minimum": 1, "maximum": MAX_ID} for _, schema in ids), ids
    for rule in app.url_map.iter_rules():
        if any(name.endswith("_id") for name in rule.arguments):
            assert "<id:" in rule.rule, rule.rule
    assert client.get(f"/api/v1/batches/{MAX_ID + 1}").status_code == 404
    assert client.get("/api/v1/batches/0/compliance").status_code == 404


def test_every_kind_of_record_has_one_name_in_each_language(app):
    from app.batches.vocabulary import RECORD_NAMES, STAGES, SYSTEM_KINDS, record_name
    from app.i18n import in_each_language

    assert set(RECORD_NAMES) == set(STAGES) | SYSTEM_KINDS
    with app.app_context():
        for kind, source in RECORD_NAMES.items():
            names = in_each_language(lambda kind=kind: record_name(kind))
            assert names["zh"] == source
            assert names["en"] and names["en"] != source, kind
        assert in_each_language(lambda: record_name("split")) == {"zh": "分批", "en": "Split into batches"}
    # No second table of names keyed by record kind.
    assert _defining(r'"(transfer_rejected|split)"\s*:\s*(\(|N?P?_\(|")', "app/batches/vocabulary.py") == []


def test_an_organization_and_a_standard_reference_have_one_output_schema_each(app):
    import importlib

    from marshmallow import Schema

    from app.catalog.schemas import StandardRef
    from app.orgs.schemas import OrgRef
    from app.schemas import StrictSchema

    for path in APP.rglob("schemas.py"):
        importlib.import_module(".".join(path.relative_to(APP.parent).with_suffix("").parts))

    def outputs(cls: type) -> list[type]:
        found = [c for c in cls.__subclasses__() if not issubclass(c, StrictSchema)]
        return found + [d for c in found for d in outputs(c)]

    for schema in outputs(Schema):
        declared = set(schema._declared_fields)
        if {"code", "name", "kind"} <= declared:
            assert issubclass(schema, OrgRef), f"{schema.__module__}.{schema.__name__} is an organization"
        if {"code", "title_zh"} <= declared or {"code", "level", "mandatory"} <= declared:
            assert issubclass(schema, StandardRef), f"{schema.__module__}.{schema.__name__} is a standard"


def test_no_module_pairs_chinese_with_english_by_hand():
    # ("绿色食品", "Green Food"): a translation kept beside its source instead of in the catalog.
    assert _defining(r'\(\s*"[\u4e00-\u9fff][^"]*",\s*"[A-Za-z][^"]*"\s*\)', "") == []


def test_batch_status_names_are_defined_only_in_the_vocabulary():
    from app.batches.models import BatchStatus
    from app.batches.vocabulary import STATUS_NAMES, status_name
    from app.i18n import in_language

    assert set(STATUS_NAMES) == {s.value for s in BatchStatus}, "every status has a name"
    assert in_language("en", lambda: status_name("on_hold")) != status_name("on_hold")
    # "暂停（待处置）" is the held lot's name; no page or module spells it out again.
    assert _defining(r"暂停（待处置）", "app/batches/vocabulary.py", suffixes=(".py", ".html")) == []
