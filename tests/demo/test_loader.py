"""The demo's data files and their loader: a malformed entry is refused by name before anything
is written, and what a load creates is what the files say."""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select

from app.batches import service
from app.batches.models import Batch
from app.commitments.service import certificate_of
from app.compliance.models import Certification, Inspection
from app.db import db
from app.demo import load_demo
from app.demo.loader import DATA
from app.errors import InvalidInput
from app.orgs.credit_code import credit_code_error
from app.orgs.models import Organization, Site, User

CST = dt.timezone(dt.timedelta(hours=8))


def _data(name: str) -> Any:
    # Read as plain YAML, not through the loader's schemas, so the comparison below is not the
    # loader checking itself.
    return yaml.safe_load((DATA / name).read_text(encoding="utf-8"))


def _china_time(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=CST)


def _copy_with(tmp_path: Path, name: str, old: str, new: str) -> Path:
    for data_file in DATA.glob("*.yaml"):
        shutil.copy(data_file, tmp_path)
    text = (tmp_path / name).read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} is not one place in {name}"
    (tmp_path / name).write_text(text.replace(old, new), encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    ("name", "old", "new", "named"),
    [
        # The schemas: a field missing, misspelt, or not what it must be.
        ("batches.yaml", "occurred_at: 2026-08-25 09:00", "ocurred_at: 2026-08-25 09:00",
         "batches.yaml, batch 3 (BT-2026-DEMO-01), event 5 (packing): occurred_at: Missing data for required "
         "field.; ocurred_at: Unknown field."),
        ("batches.yaml", "occurred_at: 2026-08-25 09:00", "occurred_at: 2026-08-25",
         "batches.yaml, batch 3 (BT-2026-DEMO-01), event 5 (packing): occurred_at: should be a China time like "
         "2026-04-02 09:30, got 2026-08-25"),
        ("organizations.yaml", "latitude: 29.7368", "latitude: north",
         "organizations.yaml, organization 4 (XA-JINGUI), site 1 (桂花镇金桂园): latitude: Not a valid number."),
        ("compliance.yaml", 'lod: "0.05"', "lod: none",
         "compliance.yaml, inspection 1 (XNNJ-2026-1016), result 14 (pesticide.cypermethrin): lod: "
         "Not a valid number."),
        ("batches.yaml", "lot_code: LR-2026-DEMO-01", "lot_code: OS-2026-DEMO-01",
         "batches.yaml: batches: lot_code OS-2026-DEMO-01 is given more than once"),
        # Names that point at nothing in the files.
        ("batches.yaml", "recorded_by: tea-maker", "recorded_by: tea-boss",
         "batches.yaml, batch 3 (BT-2026-DEMO-01): recorded_by 'tea-boss' is not in the demo's files"),
        # What a service refuses, named the same way.
        ("organizations.yaml", "credit_code: 11421200MB1R37X6DE", "credit_code: 11421200MB1R37X6DD",
         "organizations.yaml, organization 2 (XN-AMR): credit_code: check character is wrong: expected E, got D"),
        ("batches.yaml", "phi_days: 21", "phi_days: soon",
         "batches.yaml, batch 1 (OS-2026-DEMO-01), event 2 (planting), data, input 2 (1.8%阿维菌素乳油（防治红蜘蛛）): "
         "phi_days: Not a valid integer."),
    ],
)  # fmt: skip
def test_a_malformed_entry_is_refused_by_name(app, tmp_path, name, old, new, named):
    with pytest.raises(InvalidInput) as refused:
        load_demo(_copy_with(tmp_path, name, old, new))
    assert refused.value.message == named
    # The CLI prints the message alone when errors is empty (cli._describe), so it must say it all.
    assert refused.value.errors is None


def test_a_malformed_file_is_refused_before_anything_is_written(app, tmp_path):
    before = db.session.scalar(select(func.count()).select_from(Organization))
    with pytest.raises(InvalidInput, match=r"^compliance\.yaml, certification 2 \(TS-HGZ-2026-0512\): valid_to: "):
        load_demo(_copy_with(tmp_path, "compliance.yaml", "valid_to: 2026-06-30", "valid_to: end of June"))
    assert db.session.scalar(select(func.count()).select_from(Organization)) == before


def test_the_credit_codes_in_the_file_are_well_formed():
    # They are stored whole, check character and all, so each must be one a register would issue.
    codes = {o["code"]: o.get("credit_code") for o in _data("organizations.yaml")["organizations"]}
    assert all(credit_code_error(code) is None for code in codes.values() if code), codes
    assert sum(1 for code in codes.values() if code) == 9  # every organization but the three households


def test_the_loaded_demo_is_what_the_files_say(demo):
    for spec in _data("organizations.yaml")["organizations"]:
        org = db.session.scalar(select(Organization).where(Organization.code == spec["code"]))
        assert (org.name, org.kind, org.credit_code) == (spec["name"], spec["kind"], spec.get("credit_code"))
        for user in spec.get("users", []):
            row = db.session.scalar(select(User).where(User.username == user["username"]))
            assert (row.organization_id, row.role) == (org.id, user["role"])
        sites = db.session.scalars(select(Site.name).where(Site.organization_id == org.id)).all()
        assert sorted(sites) == sorted(s["name"] for s in spec.get("sites", []))
    batches = _data("batches.yaml")["batches"]
    assert len(batches) == 9
    for spec in batches:
        batch = db.session.scalar(select(Batch).where(Batch.lot_code == spec["lot_code"]))
        assert batch is not None, spec["lot_code"]
        assert (batch.product_key, batch.unit) == (spec["product"], spec["unit"])
        assert batch.quantity == Decimal(spec["quantity"])
        custodian = db.session.scalar(select(User).where(User.username == spec["recorded_by"])).organization
        assert batch.custodian.code == custodian.code
        assert batch.producer.code == spec.get("producer", custodian.code)
        assert batch.produced_at == _china_time(spec["produced_at"])
        journey = [e for e in service.events_of(batch) if e.stage not in service.SYSTEM_KINDS]
        assert len(journey) == len(spec["events"]), spec["lot_code"]
        assert [(e.stage, e.occurred_at) for e in journey] == [
            (e["stage"], _china_time(e["occurred_at"])) for e in spec["events"]
        ]
        assert [e.site.name if e.site else None for e in journey] == [e.get("site") for e in spec["events"]]
    compliance = _data("compliance.yaml")
    for spec in compliance["inspections"]:
        batch = db.session.scalar(select(Batch).where(Batch.lot_code == spec["lot_code"]))
        key = (Inspection.batch_id == batch.id, Inspection.report_no == spec["report_no"])
        inspection = db.session.scalar(select(Inspection).where(*key))
        assert [r.parameter_key for r in inspection.results] == [r["parameter"] for r in spec["results"]]
    for spec in compliance["certifications"]:
        cert = db.session.scalar(select(Certification).where(Certification.number == spec["number"]))
        holder = db.session.get(Organization, cert.holder_org_id)
        assert (cert.kind, holder.code, cert.valid_from) == (spec["kind"], spec["holder"], spec["valid_from"])
    for spec in compliance["commitment_certificates"]:
        batch = db.session.scalar(select(Batch).where(Batch.lot_code == spec["lot_code"]))
        certificate = certificate_of(batch.id)
        assert certificate is not None, spec["lot_code"]
        assert (certificate.basis, certificate.contact) == (spec["basis"], spec["contact"])
        assert certificate.issued_at >= _china_time(spec["issued_at"])
    # The third household's harvest carries none: the desk shows it missing.
    h3 = db.session.scalar(select(Batch).where(Batch.lot_code == "LQ-2026-DEMO-H3"))
    assert certificate_of(h3.id) is None
