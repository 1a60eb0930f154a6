"""A verdict rests on the results the hash chain holds, not on a table anyone could UPDATE."""

from __future__ import annotations

from sqlalchemy import text

from app.db import db
from tests.compliance.factories import post_inspection
from tests.compliance.test_inspections_api import tea_results
from tests.conftest import settle


def test_editing_the_results_table_cannot_turn_a_fail_into_a_pass(client, auth, make_batch):
    inspector = auth("inspector")
    batch = make_batch()
    results = [r if r["parameter"] != "lead" else {**r, "value": "99"} for r in tea_results()]
    assert post_inspection(client, inspector, batch.id, results).status_code == 201
    url = f"/api/v1/batches/{batch.id}/compliance"
    assert client.get(url, headers=inspector).get_json()["verdict"] == "fail"

    db.session.execute(text("UPDATE inspection_results SET value = 0.01 WHERE parameter_key = 'lead'"))
    settle()
    after = client.get(url, headers=inspector).get_json()
    assert after["verdict"] == "fail"
    assert "differ from its chained record" in after["reasons"][0]
    lead = next(r for r in after["rows"] if r["parameter"] == "lead" and r["governing"])
    assert lead["verdict"] == "fail"
    public = client.get(f"/api/v1/public/{batch.public_code}").get_json()["compliance"]
    assert public["verdict"] == "fail" and public["compliant"] is False
