"""Catalog versions: a load that changes a limit makes a new version, verdicts name the version they
were judged against, and a limit changed in the database is found when the version is checked."""

from __future__ import annotations

import copy

import pytest
import yaml
from sqlalchemy import select, text

from app.catalog import versions
from app.catalog.models import CatalogVersion
from app.catalog.service import default_catalog_path, load_catalog
from app.compliance.models import BatchVerdict
from app.db import db
from tests.conftest import settle


@pytest.fixture(scope="module")
def catalog_data():
    with open(default_catalog_path(), encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def _with_fluoride(data, limit):
    changed = copy.deepcopy(data)
    for std in changed["standards"]:
        for req in std.get("requirements") or []:
            if str(req["parameter"]).startswith("氟"):
                req["limit"] = limit
    return changed


def test_the_loaded_catalog_is_a_version_and_a_second_load_adds_none(catalog_data):
    first = versions.latest()
    assert first is not None and first.standards > 40 and first.requirements > 90
    load_catalog(catalog_data)
    assert versions.latest().number == first.number
    assert versions.verify_catalog().valid


def test_a_load_that_changes_a_limit_makes_a_version_and_verdicts_name_it(catalog_data, make_batch, party):
    owner = party("farmer")
    batch = make_batch(owner, product="brick_tea")
    before = versions.latest()
    assert db.session.get(BatchVerdict, batch.id).catalog_version == before.number
    load_catalog(_with_fluoride(catalog_data, 280))
    after = versions.latest()
    assert after.number == before.number + 1 and after.reason.startswith("catalog load")
    assert db.session.get(BatchVerdict, batch.id).catalog_version == after.number
    # The old version still says what the limit was: nothing is lost by the change.
    assert versions.differences(before, versions.current_entries()) != []
    fluoride = [
        e for code, std in before.entries.items() for e in std["requirements"].values() if e["parameter"] == "fluoride"
    ]
    assert fluoride and all(e["limit"] == "<= 300 mg/kg" for e in fluoride)
    assert versions.verify_catalog().valid


def test_catalog_verify_names_a_limit_changed_in_the_database(cli):
    assert cli.invoke(args=["catalog", "verify"]).exit_code == 0
    db.session.execute(text("UPDATE requirements SET limit_value = 1000 WHERE parameter_key = 'fluoride'"))
    settle()
    db.session.expire_all()
    result = cli.invoke(args=["catalog", "verify"])
    assert result.exit_code == 1
    assert "(fluoride): <= 1000 mg/kg in the database, <= 300 mg/kg in catalog version" in result.output


def test_catalog_verify_finds_the_version_log_rewritten(cli):
    version = versions.latest()
    forged = copy.deepcopy(version.entries)
    code = next(iter(forged))
    forged[code]["digest"] = "0" * 64
    db.session.execute(
        CatalogVersion.__table__.update().where(CatalogVersion.number == version.number).values(entries=forged)
    )
    settle()
    db.session.expire_all()
    result = cli.invoke(args=["catalog", "verify"])
    assert result.exit_code == 1
    assert f"catalog version {version.number} as stored does not hash to its recorded digest" in result.output


def test_an_enterprise_standard_registered_is_a_new_version(client, auth, make_user):
    before = versions.latest().number
    user = make_user("processor")
    body = {
        "code": "Q/TEST 0001S-2026",
        "title_zh": "测试企业标准",
        "products": ["brick_tea"],
        "owner_org_id": user.organization_id,
        "requirements": [{"parameter": "lead", "unit": "mg/kg", "comparator": "<=", "limit": "1", "clause": "4.2"}],
    }
    response = client.post("/api/v1/standards", json=body, headers=auth(user=user))
    assert response.status_code == 201, response.get_json()
    latest = versions.latest()
    assert latest.number == before + 1 and "Q/TEST 0001S-2026" in latest.entries
    assert "Q/TEST 0001S-2026 registered" in latest.reason
    assert db.session.scalar(select(CatalogVersion.number).order_by(CatalogVersion.number.desc())) == latest.number
