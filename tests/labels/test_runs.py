"""Label runs: the job's states inline and on RQ, a killed worker's job restarted, units in bulk, voiding."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from sqlalchemy import func, select

from app.db import db
from app.jobs import service as jobs
from app.jobs.models import Job
from app.labels import runs, serials
from app.labels.models import Unit
from tests.labels.conftest import GTIN14, work


def start(client, labelled, count=30, template="a4_24", **headers):
    return client.post(f"/api/v1/batches/{labelled.batch.id}/label-runs", json={"count": count, "template": template},
                       headers={**labelled.headers, **headers})  # fmt: skip


def units_csv(client, labelled, run_id):
    response = client.get(f"/api/v1/label-runs/{run_id}/units.csv", headers=labelled.headers)
    assert response.status_code == 200, response.get_json()
    assert response.headers["Cache-Control"] == "private, no-store"
    return list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))


def test_inline_run_answers_202_with_a_finished_job_and_makes_every_unit(client, labelled):
    response = start(client, labelled, count=30)
    assert response.status_code == 202, response.get_json()
    body = response.get_json()
    assert body["count"] == 30 and body["template"] == "a4_24"
    job = client.get(f"/api/v1/jobs/{body['job']['id']}", headers=labelled.headers).get_json()
    assert (job["status"], job["done"], job["total"], job["label_run"]) == ("done", 30, 30, body["id"])
    rows = units_csv(client, labelled, body["id"])
    assert [int(r["seq"]) for r in rows] == list(range(1, 31))
    assert len({r["serial"] for r in rows}) == 30
    for row in rows:
        assert serials.SERIAL_PATTERN.fullmatch(row["serial"]) and len(row["serial"]) == 16
        assert row["pin"].isdigit() and len(row["pin"]) == 8
        assert row["uri"] == f"https://trace.example.cn/01/{GTIN14}/10/{labelled.batch.lot_code}/21/{row['serial']}"
    stored = {u.serial: u.pin_hash for u in db.session.scalars(select(Unit).where(Unit.run_id == body["id"]))}
    assert set(stored) == {r["serial"] for r in rows}
    # Hashed: no PIN appears in what the units table holds.
    assert not any(r["pin"] in stored[r["serial"]] for r in rows)


def test_a_batch_without_gtin_gets_u_serial_uris(client, make_labelled):
    labelled = make_labelled(gtin=None)
    run_id = start(client, labelled, count=3).get_json()["id"]
    assert all(r["uri"] == f"https://trace.example.cn/u/{r['serial']}" for r in units_csv(client, labelled, run_id))


def test_a_chinese_lot_code_gets_u_serial_uris(client, make_labelled):
    labelled = make_labelled(lot_code="赤壁青砖-2026-01")
    run_id = start(client, labelled, count=2).get_json()["id"]
    assert all("/u/" in r["uri"] for r in units_csv(client, labelled, run_id))


@pytest.mark.parametrize(
    ("body", "field"),
    [({"count": 0, "template": "a4_24"}, "count"), ({"count": 100_001, "template": "a4_24"}, "count"),
     ({"count": 5, "template": "a5"}, "template"), ({"count": 5}, "template")],
)  # fmt: skip
def test_bad_input_is_a_422_naming_the_field_and_stores_nothing(client, labelled, body, field):
    before = db.session.scalar(select(func.count()).select_from(Job))
    response = client.post(f"/api/v1/batches/{labelled.batch.id}/label-runs", json=body, headers=labelled.headers)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]["json"]
    assert db.session.scalar(select(func.count()).select_from(Job)) == before


def test_only_the_custodian_or_producer_makes_labels(client, labelled, auth):
    response = client.post(f"/api/v1/batches/{labelled.batch.id}/label-runs", json={"count": 1, "template": "zpl"},
                           headers=auth("inspector"))  # fmt: skip
    assert response.status_code == 403


def test_rq_run_is_queued_until_a_worker_takes_it(client, labelled, rq_queue):
    body = start(client, labelled, count=25, template="zpl").get_json()
    job_url = f"/api/v1/jobs/{body['job']['id']}"
    assert body["job"]["status"] == "queued"
    assert rq_queue.count == 1
    assert client.get(job_url, headers=labelled.headers).get_json()["status"] == "queued"
    assert client.get(f"/api/v1/label-runs/{body['id']}.zpl", headers=labelled.headers).status_code == 409
    work(rq_queue)
    job = client.get(job_url, headers=labelled.headers).get_json()
    assert (job["status"], job["done"], job["total"], job["attempts"]) == ("done", 25, 25, 1)
    assert len(units_csv(client, labelled, body["id"])) == 25


def test_a_killed_workers_job_is_found_and_restarted(client, labelled, rq_queue, monkeypatch, app):
    monkeypatch.setattr(runs, "CHUNK", 10)
    body = start(client, labelled, count=25, template="tspl").get_json()
    job_id, run_id = body["job"]["id"], body["id"]
    real_insert = runs.insert_units
    calls = []

    def dies_after_one_chunk(rows):
        calls.append(len(rows))
        if len(calls) == 2:
            raise SystemExit("worker killed")  # not an Exception: nothing marks the job failed
        real_insert(rows)

    monkeypatch.setattr(runs, "insert_units", dies_after_one_chunk)
    with pytest.raises(SystemExit):
        jobs.perform(job_id)
    db.session.expire_all()
    job = db.session.get(Job, job_id)
    assert (job.status, job.done, job.attempts) == ("running", 10, 1)
    assert jobs.stale_jobs(dt.datetime.now(dt.UTC)) == []  # its heartbeat is still fresh
    monkeypatch.setattr(runs, "insert_units", real_insert)
    rq_queue.empty()
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=jobs.JOB_STALE_SECONDS + 1)
    assert jobs.resume_stale(later) == [job_id]
    db.session.commit()
    work(rq_queue)
    result = client.get(f"/api/v1/jobs/{job_id}", headers=labelled.headers).get_json()
    assert (result["status"], result["done"], result["attempts"]) == ("done", 25, 2)
    rows = units_csv(client, labelled, run_id)
    assert len(rows) == 25
    assert db.session.scalar(select(func.count()).select_from(Unit).where(Unit.run_id == run_id)) == 25


def test_the_resume_command_restarts_a_stale_job_inline_without_redis(app, client, labelled, monkeypatch):
    monkeypatch.setattr(runs, "CHUNK", 10)
    body = start(client, labelled, count=12, template="zpl").get_json()
    job = db.session.get(Job, body["job"]["id"])
    # As a worker that died mid-run leaves it.
    job.status, job.done = "running", 10
    job.heartbeat_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=jobs.JOB_STALE_SECONDS + 5)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["jobs", "resume"])
    assert result.exit_code == 0, result.output
    assert f"restarted 1 job(s): {job.id}" in result.output
    db.session.expire_all()
    assert (job.status, job.done, job.attempts) == ("done", 12, 2)
    assert len(units_csv(client, labelled, body["id"])) == 12


def test_void_one_and_a_range(client, labelled):
    run_id = start(client, labelled, count=10, template="zpl").get_json()["id"]
    rows = units_csv(client, labelled, run_id)
    one = client.post(f"/api/v1/units/{rows[0]['serial']}/void", json={"reason": "印错"}, headers=labelled.headers)
    assert one.status_code == 200 and one.get_json()["voided_at"]
    span = client.post(f"/api/v1/label-runs/{run_id}/void", json={"first": 1, "last": 4, "reason": "卷材损坏"},
                       headers=labelled.headers)  # fmt: skip
    assert span.get_json() == {"voided": 3}  # the first was already void
    voided = db.session.scalars(select(Unit.seq).where(Unit.run_id == run_id, Unit.voided_at.is_not(None)))
    assert sorted(voided) == [1, 2, 3, 4]
    bad = client.post(f"/api/v1/label-runs/{run_id}/void", json={"first": 5, "last": 11, "reason": "x"},
                      headers=labelled.headers)  # fmt: skip
    assert bad.status_code == 422 and "last" in bad.get_json()["errors"]["json"]


def test_another_organization_cannot_download_pins_or_void(client, labelled, auth):
    run_id = start(client, labelled, count=2, template="zpl").get_json()["id"]
    serial = units_csv(client, labelled, run_id)[0]["serial"]
    stranger = auth("processor")
    assert client.get(f"/api/v1/label-runs/{run_id}/units.csv", headers=stranger).status_code == 404
    assert client.get(f"/api/v1/label-runs/{run_id}/units.csv", headers=auth("inspector")).status_code == 403
    assert client.post(f"/api/v1/units/{serial}/void", json={"reason": "x"}, headers=stranger).status_code == 404


def test_unit_uris_of_a_lot_are_the_ones_biip_builds():
    from app.labels import digital_link

    lot = ("https://trace.example.cn", "6901234567892", "CBQZ-2026.01")
    uri_of = digital_link.UnitURIs(*lot)
    for serial in (serials.new_serial() for _ in range(20)):
        assert uri_of(serial) == digital_link.unit_uri(*lot, serial)
        assert digital_link.parse(uri_of(serial)).serial == serial
    assert digital_link.UnitURIs("https://t.cn", None, "X")("ABC") == "https://t.cn/u/ABC"
