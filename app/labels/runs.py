"""Label runs: N units under a batch, made by a background job, printed with one template; voiding.

The job writes units in multi-row INSERTs of ``CHUNK`` rows, reporting progress after each, then
renders the run's print file and the printing house's CSV (the only place PINs exist in clear),
stored compressed. A job restarted after its worker died starts the run over: the units of the
attempt that died were never printed, and their PINs died with it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zlib
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, select, update

from app import access
from app.auth import Actor
from app.db import db
from app.errors import Conflict, InvalidInput, NotFound
from app.jobs import service as jobs
from app.jobs.models import Job
from app.labels import digital_link, serials, sheets
from app.labels.models import LabelRun, LabelRunFile, Template, Unit

MAX_COUNT = 100_000
CHUNK = 2_000
KIND = "label_run"
CSV_HEADER = ("seq", "serial", "uri", "pin")


def base_url() -> str:
    return str(current_app.config["PUBLIC_BASE_URL"])


def create_run(actor: Actor, batch_id: int, count: int, template: str) -> LabelRun:
    """A run of ``count`` units; its job runs now (no Redis) or on a worker once this commits."""
    batch = access.get_readable_batch(actor, batch_id)
    access.require_labeller(actor, batch)
    if not 1 <= count <= MAX_COUNT:
        raise InvalidInput.field("count", _("须在 1 到 %(max)s 之间", max=f"{MAX_COUNT:,}"))
    if template not in Template.__members__:
        raise InvalidInput.field("template", _("须为 a4_24、a4_40、zpl 或 tspl 之一"))
    job = jobs.create_job(KIND, {}, total=count, org_id=actor.org.id, user_id=actor.user.id if actor.user else None)
    run = LabelRun(batch_id=batch.id, job_id=job.id, count=count, template=template,
                   created_by_id=actor.user.id if actor.user else None)  # fmt: skip
    db.session.add(run)
    db.session.flush()
    job.params = {"run_id": run.id}
    jobs.dispatch(job)
    return run


def unit_uri(run: LabelRun, serial: str) -> str:
    return digital_link.unit_uri(base_url(), run.batch.gtin, run.batch.lot_code, serial)


@jobs.handler(KIND)
def make_units(job: Job, progress: jobs.Progress) -> None:
    run = db.session.scalar(select(LabelRun).where(LabelRun.job_id == job.id))
    if run is None:
        raise NotFound(f"job {job.id} has no label run")
    # What a dead attempt left: never printed, and its PINs are gone.
    db.session.execute(delete(LabelRunFile).where(LabelRunFile.run_id == run.id))
    db.session.execute(delete(Unit).where(Unit.run_id == run.id))
    key = serials.pin_key(current_app.config["SECRET_KEY"])
    uri_of = digital_link.UnitURIs(base_url(), run.batch.gtin, run.batch.lot_code)
    faces: list[sheets.LabelFace] = []
    for start in range(0, run.count, CHUNK):
        rows: list[dict[str, Any]] = []
        for seq in range(start + 1, min(run.count, start + CHUNK) + 1):
            serial, pin = serials.new_serial(), serials.new_pin()
            rows.append({"serial": serial, "run_id": run.id, "batch_id": run.batch_id, "seq": seq,
                         "pin_hash": serials.hash_pin(key, serial, pin), "verifications": 0})  # fmt: skip
            faces.append(sheets.LabelFace(uri_of(serial), serial, pin))
        insert_units(rows)
        progress(start + len(rows))
    product = run.batch.product
    printed = sheets.render(run.template, product.name_zh, product.name_en, run.batch.lot_code, faces)
    db.session.add(LabelRunFile(run_id=run.id, kind=sheets.FILE_KIND[run.template], content=zlib.compress(printed)))
    db.session.add(LabelRunFile(run_id=run.id, kind="csv", content=zlib.compress(units_csv(faces))))
    db.session.flush()


_UNIT_COLUMNS = ("serial", "run_id", "batch_id", "seq", "pin_hash", "verifications")


def insert_units(rows: list[dict[str, Any]]) -> None:
    """One multi-row INSERT (``VALUES (...), (...)``) for the chunk, not one statement a unit.

    Written as the driver's SQL: SQLAlchemy compiling a 2,000-row VALUES clause took longer than
    the database inserting it. Bound parameters all the same (``?`` for SQLite, ``%s`` for
    psycopg); 2,000 rows of six are within both databases' limits on parameters.
    """
    marker = "?" if db.session.get_bind().dialect.paramstyle == "qmark" else "%s"
    row = "(" + ", ".join([marker] * len(_UNIT_COLUMNS)) + ")"
    # Only constants and placeholders go into the text; every value is a bound parameter.
    sql = f"INSERT INTO units ({', '.join(_UNIT_COLUMNS)}) VALUES " + ", ".join([row] * len(rows))  # noqa: S608
    params = tuple(r[c] for r in rows for c in _UNIT_COLUMNS)
    db.session.connection().exec_driver_sql(sql, params)


def units_csv(faces: list[sheets.LabelFace]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for seq, face in enumerate(faces, start=1):
        writer.writerow((seq, face.serial, face.uri, face.pin))
    # With a BOM, so Excel opens it as UTF-8.
    return ("\ufeff" + out.getvalue()).encode()


def _stored(run: LabelRun, kind: str) -> bytes | None:
    found = db.session.scalar(select(LabelRunFile).where(LabelRunFile.run_id == run.id, LabelRunFile.kind == kind))
    return None if found is None else zlib.decompress(found.content)


def run_file(actor: Actor, run_id: int, kind: str) -> tuple[LabelRun, bytes]:
    """A run's CSV, or its labels as pdf, zpl or tspl.

    The run's own template was rendered by its job; another format is rendered now from the CSV
    (a run printed on A4 can go to a thermal printer too; a PDF of a run made for a thermal
    printer uses the 24-label sheet).
    """
    run = access.get_own_label_run(actor, run_id)
    content = _stored(run, kind)
    if content is not None:
        return run, content
    table = _stored(run, "csv")
    if table is None:
        raise Conflict(f"label run {run.id} is not ready yet (job {run.job_id}: {run.job.status})")
    faces = [sheets.LabelFace(row["uri"], row["serial"], row["pin"])
             for row in csv.DictReader(io.StringIO(table.decode("utf-8-sig")))]  # fmt: skip
    template = run.template if sheets.FILE_KIND[run.template] == kind else {"pdf": "a4_24"}.get(kind, kind)
    product = run.batch.product
    return run, sheets.render(template, product.name_zh, product.name_en, run.batch.lot_code, faces)


def get_unit(serial: str) -> Unit:
    found = db.session.scalar(select(Unit).where(Unit.serial == serials.normalize_serial(serial)))
    if found is None:
        raise NotFound("no unit has this serial")
    return found


def void_unit(actor: Actor, serial: str, reason: str, now: dt.datetime) -> Unit:
    unit = get_unit(serial)
    access.require_unit_owner(actor, unit)
    if unit.voided_at is None:
        unit.voided_at, unit.void_reason = now, reason
        db.session.flush()
    return unit


def void_range(actor: Actor, run_id: int, first: int, last: int, reason: str, now: dt.datetime) -> int:
    """Void units ``first`` to ``last`` (their print order, inclusive) of a run; how many were voided now."""
    run = access.get_own_label_run(actor, run_id)
    if not 1 <= first <= last <= run.count:
        raise InvalidInput.field("last", _("须满足 1 ≤ first ≤ last ≤ %(count)s", count=run.count))
    result = db.session.execute(
        update(Unit)
        .where(Unit.run_id == run.id, Unit.seq.between(first, last), Unit.voided_at.is_(None))
        .values(voided_at=now, void_reason=reason)
        .execution_options(synchronize_session=False)
    )
    db.session.expire_all()
    return int(getattr(result, "rowcount", 0) or 0)
