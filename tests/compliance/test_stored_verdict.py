"""The stored verdict: judged by the writes that change it, fingerprinted, read by the pages, and
stored for an old database by `flask compliance refresh`."""

from __future__ import annotations

import copy
import datetime as dt

import yaml
from sqlalchemy import delete, select, update

from app.catalog.models import Standard
from app.catalog.service import default_catalog_path, load_catalog
from app.compliance import presenters, verdicts
from app.compliance.evaluation import evaluate_batch
from app.compliance.models import BatchVerdict, Finding, InspectionResult
from app.db import db
from tests.compliance.factories import add_event, amend_event, post_inspection
from tests.compliance.test_inspections_api import compliance, tea_results
from tests.conftest import settle

CST = dt.timezone(dt.timedelta(hours=8))


def stored(batch_id: int) -> BatchVerdict | None:
    return db.session.scalar(select(BatchVerdict).where(BatchVerdict.batch_id == batch_id).execution_options(
        populate_existing=True))  # fmt: skip


def holds(batch) -> bool:
    """The stored verdict matches the batch's inputs as they are now, and reads exactly as the
    verdict judged afresh from the rows as stored (nothing kept from the writer's objects)."""
    row = stored(batch.id)
    if row is None or row.fingerprint != verdicts.fingerprints([batch])[batch.id]:
        return False
    db.session.expire_all()
    assert row.result == presenters.verdict_result(evaluate_batch(batch))
    return True


def spray_and_harvest(batch, producer, harvest_day: int) -> None:
    spray = {"kind": "pesticide", "name": "多菌灵", "dose": "50", "dose_unit": "mL/亩",
             "applied_at": "2026-04-01T08:00:00+08:00", "phi_days": 21}  # fmt: skip
    add_event(batch, producer, "planting", dt.datetime(2026, 4, 1, 8, tzinfo=CST), {"inputs": [spray]})
    add_event(batch, producer, "harvest", dt.datetime(2026, 4, harvest_day, 8, tzinfo=CST),
              {"quantity": "500", "unit": "kg"})  # fmt: skip


def test_a_new_batch_has_its_verdict_stored(make_batch):
    batch = make_batch()
    # Its created record was appended (and announced) before the batch itself was: the verdict
    # stored then still holds for the batch as created.
    assert [e.stage for e in batch.events] == ["created"]
    row = stored(batch.id)
    assert row is not None and holds(batch)
    assert row.verdict == row.result["verdict"] == "incomplete"
    assert {s["base_code"] for s in row.result["standards"]} >= {"GB 2762", "GB 2763"}


def test_an_inspection_recorded_stores_the_new_verdict(client, inspector_headers, make_batch):
    batch = make_batch()
    before = stored(batch.id)
    assert before is not None
    first = before.fingerprint
    failing = tea_results(fluoride={"parameter": "fluoride", "value": "450", "unit": "mg/kg"})
    assert post_inspection(client, inspector_headers, batch.id, failing).status_code == 201
    row = stored(batch.id)
    assert row is not None and row.verdict == "fail" and row.fingerprint != first and holds(batch)
    [fluoride] = [r for r in row.result["rows"] if r["parameter"] == "fluoride" and r["governing"]]
    assert (fluoride["value"], fluoride["verdict"], fluoride["measured"]) == ("450", "fail", True)
    # The page reads it, and its findings were opened when it was stored, not by the read.
    assert db.session.scalars(select(Finding.subject).where(Finding.batch_id == batch.id)).all() == ["fluoride"]
    body = compliance(client, inspector_headers, batch.id)
    assert body["verdict"] == "fail" and [f["subject"] for f in body["findings"]] == ["fluoride"]


def test_a_harvest_inside_an_interval_stores_a_failed_verdict_and_a_storage_event_leaves_it(
    client, producer, make_batch, inspector_headers
):
    batch = make_batch("loquat")
    spray_and_harvest(batch, producer, harvest_day=10)
    row = stored(batch.id)
    assert row is not None and row.verdict == "fail" and holds(batch)
    [check] = row.result["pre_harvest"]
    assert (check["breached"], check["days_short"]) == (True, 12)
    assert db.session.scalars(select(Finding.kind).where(Finding.batch_id == batch.id)).all() == [
        "pre_harvest_interval"
    ]
    # A storage record does not change the verdict: the stored one is neither rewritten nor stale.
    computed_at, fingerprint = row.computed_at, row.fingerprint
    add_event(batch, producer, "storage", dt.datetime(2026, 4, 11, 8, tzinfo=CST),
              {"temperature_c": "4", "humidity_pct": "88"})  # fmt: skip
    row = stored(batch.id)
    assert row is not None and (row.computed_at, row.fingerprint) == (computed_at, fingerprint) and holds(batch)


def test_a_correction_of_the_planting_stores_the_verdict_again(producer, make_batch):
    batch = make_batch("loquat")
    spray_and_harvest(batch, producer, harvest_day=10)
    assert stored(batch.id).verdict == "fail"
    # The spraying was in March, not April: its interval ended before the harvest.
    corrected = {"inputs": [{"kind": "pesticide", "name": "多菌灵", "dose": "50", "dose_unit": "mL/亩",
                             "applied_at": "2026-03-01T08:00:00+08:00", "phi_days": 21}]}  # fmt: skip
    # The planting is seq 2: seq 1 is the created record that opens the chain.
    amend_event(batch, producer, 2, dt.datetime(2026, 4, 12, 8, tzinfo=CST), "wrong month typed", corrected)
    row = stored(batch.id)
    assert row is not None and row.verdict != "fail" and holds(batch)
    assert [c["breached"] for c in row.result["pre_harvest"]] == [False]


def test_declaring_a_standard_stores_the_verdict_with_it(client, producer_headers, make_batch):
    batch = make_batch()
    first = stored(batch.id)
    assert first is not None and "NY/T 288" not in {s["base_code"] for s in first.result["standards"]}
    fingerprint = first.fingerprint
    ny288 = db.session.scalar(select(Standard.id).where(Standard.code == "NY/T 288"))
    response = client.post(f"/api/v1/batches/{batch.id}/standards", json={"standard": ny288}, headers=producer_headers)
    assert response.status_code == 201, response.get_json()
    row = stored(batch.id)
    assert row is not None and row.fingerprint != fingerprint and holds(batch)
    declared = [s for s in row.result["standards"] if s["base_code"] == "NY/T 288"]
    assert [s["binding"] for s in declared] == ["declared"]


def test_a_catalog_load_with_a_changed_limit_rejudges_the_batches(client, inspector_headers, make_batch):
    batch = make_batch()
    assert post_inspection(client, inspector_headers, batch.id, tea_results()).status_code == 201
    row = stored(batch.id)
    assert row is not None and row.verdict == "pass"
    catalog = copy.deepcopy(yaml.safe_load(default_catalog_path().read_text(encoding="utf-8")))
    [gb19965] = [s for s in catalog["standards"] if s["code"] == "GB 19965-2005"]
    [fluoride] = [r for r in gb19965["requirements"] if "氟" in str(r.get("parameter"))]
    fluoride["limit"] = 150  # the report's 200 mg/kg now exceeds it
    report = load_catalog(catalog)
    assert report.updated >= 1
    settle()
    row = stored(batch.id)
    assert row is not None and row.verdict == "fail" and holds(batch)
    assert compliance(client, inspector_headers, batch.id)["verdict"] == "fail"
    assert db.session.scalars(select(Finding.subject).where(Finding.batch_id == batch.id)).all() == ["fluoride"]


def test_the_fingerprint_follows_the_inputs_and_a_stale_verdict_is_shown_as_computed(
    client, inspector_headers, make_batch
):
    batch, other = make_batch(), make_batch()
    assert post_inspection(client, inspector_headers, batch.id, tea_results()).status_code == 201
    prints = verdicts.fingerprints([batch, other])
    assert prints == verdicts.fingerprints([batch, other])  # the same inputs, the same fingerprint
    assert prints[batch.id] != prints[other.id]
    assert verdicts.fingerprints([other]) == {other.id: prints[other.id]}  # one batch or many: the same
    assert verdicts.current(batch).stored is True

    # A result row changed behind the services' back: the inputs differ, so the stored verdict no
    # longer holds; the page shows the verdict as the rows stand now, and writes nothing.
    db.session.execute(update(InspectionResult).where(InspectionResult.parameter_key == "lead").values(value="4.9"))
    settle()
    assert verdicts.fingerprints([batch])[batch.id] != prints[batch.id]
    shown = verdicts.current(batch)
    assert shown.stored is False
    assert any("differ from its chained record" in r for r in shown.result["reasons"])
    row = stored(batch.id)
    assert row is not None and row.fingerprint == prints[batch.id]  # untouched by the read
    body = compliance(client, inspector_headers, batch.id)
    assert any("differ from its chained record" in r for r in body["reasons"])


def test_a_batch_with_no_stored_verdict_reads_the_same_and_the_cli_stores_it(
    app, client, inspector_headers, make_batch, producer
):
    batch = make_batch("loquat")
    spray_and_harvest(batch, producer, harvest_day=10)
    quiet = make_batch()
    as_stored = compliance(client, inspector_headers, batch.id)
    db.session.execute(delete(BatchVerdict).where(BatchVerdict.batch_id.in_([batch.id, quiet.id])))
    settle()  # as a database older than the table holds them

    assert verdicts.current(batch).stored is False
    assert compliance(client, inspector_headers, batch.id) == as_stored
    assert stored(batch.id) is None  # the read stored nothing

    runner = app.test_cli_runner()
    result = runner.invoke(args=["compliance", "refresh", "--stale"])
    assert result.exit_code == 0, result.output
    assert "verdicts stored" in result.output
    assert holds(batch) and holds(quiet)
    assert compliance(client, inspector_headers, batch.id) == as_stored
    # Again: every stored verdict holds, so --stale stores nothing; without it, every batch again.
    again = runner.invoke(args=["compliance", "refresh", "--stale"])
    assert again.exit_code == 0 and ", 0 verdicts stored" in again.output
    everyone = runner.invoke(args=["compliance", "refresh"])
    assert everyone.exit_code == 0 and ", 0 verdicts stored" not in everyone.output
