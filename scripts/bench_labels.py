"""Benchmark label runs: 10,000 labels to a PDF beside the QR encoding alone, and bulk unit inserts.

    python scripts/bench_labels.py [--labels 10000] [--units 20000] [--database-url URL]

Printed, never asserted (speed is not a test):

* **PDF.** The time to encode 10,000 QR matrices alone (zxing-cpp), the time to render the same
  10,000 labels as an A4 24-up PDF (which includes encoding them again), their ratio (what the
  PDF costs beyond the codes), and the process's peak memory. Targets: ≤ 5 s and ≤ 300 MB.
* **Units.** On a fresh database (a temporary SQLite file, or ``--database-url``, whose tables
  are dropped and recreated by the migrations), units written the way a run writes them
  (serial and PIN drawn, PIN hashed, URI built with biip, multi-row INSERTs of ``runs.CHUNK``),
  against a raw baseline in the same run: the same number of precomputed rows inserted by the
  driver's ``executemany``, one statement a row. Both are units per second.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.labels import digital_link, serials, sheets  # noqa: E402

BASE = "https://trace.example.cn"
GTIN = "6901234567892"
LOT = "CBQZ-BENCH-01"


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def bench_pdf(count: int) -> None:
    uri_of = digital_link.UnitURIs(BASE, GTIN, LOT)
    faces = [sheets.LabelFace(uri_of(s), s, serials.new_pin()) for s in (serials.new_serial() for _ in range(count))]
    start = time.perf_counter()
    for face in faces:
        sheets.qr_modules(face.uri)
    encode = time.perf_counter() - start
    start = time.perf_counter()
    pdf = sheets.render_pdf(sheets.LAYOUTS["a4_24"], "赤壁青砖茶", LOT, faces)
    render = time.perf_counter() - start
    print(f"PDF: {count:,} labels, {len(pdf) / 1e6:.1f} MB, {-(-count // 24)} pages")
    print(f"  QR matrices alone   {encode:6.2f} s")
    print(f"  the whole PDF       {render:6.2f} s   (target <= 5 s)")
    print(f"  ratio PDF / QR      {render / encode:6.2f}")
    print(f"  peak memory         {peak_mb():6.0f} MB (target <= 300 MB)")


def bench_units(count: int, database_url: str | None) -> None:
    from flask_migrate import upgrade
    from sqlalchemy import text

    from app import create_app
    from app.auth import Actor
    from app.batches import service as batches
    from app.db import db
    from app.jobs import service as jobs
    from app.labels import runs
    from app.labels.models import LabelRun, Unit
    from app.orgs import service as orgs

    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite:///{tmp}/bench.db"
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "PUBLIC_BASE_URL": BASE, "SECRET_KEY": "bench-" + "x" * 40,
                          "REDIS_URL": None})  # fmt: skip
        with app.app_context():
            if url.startswith("postgresql"):
                db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
                db.session.commit()
            upgrade()
            from app.catalog.service import default_catalog_path, load_catalog_file

            load_catalog_file(default_catalog_path())
            org = orgs.create_organization(code="BENCH", name="基准赤壁茶厂", kind="processor", county="赤壁市",
                                           credit_code=_credit_code())  # fmt: skip
            user = orgs.create_user(username="bench", org_code=org.code, role="processor")
            actor = Actor(user=user, org=org)
            batch = batches.create_batch(actor, product="brick_tea", quantity=Decimal(1), unit="brick", gtin=GTIN,
                                         lot_code=LOT)  # fmt: skip
            job = jobs.create_job(runs.KIND, {}, total=count, org_id=org.id, user_id=user.id)
            run = LabelRun(batch_id=batch.id, job_id=job.id, count=count, template="zpl")
            db.session.add(run)
            db.session.commit()
            key = serials.pin_key(app.config["SECRET_KEY"])
            uri_of = digital_link.UnitURIs(BASE, GTIN, LOT)

            start = time.perf_counter()
            for first in range(0, count, runs.CHUNK):
                rows = []
                for seq in range(first + 1, min(count, first + runs.CHUNK) + 1):
                    serial, pin = serials.new_serial(), serials.new_pin()
                    uri_of(serial)
                    rows.append({"serial": serial, "run_id": run.id, "batch_id": batch.id, "seq": seq,
                                 "pin_hash": serials.hash_pin(key, serial, pin), "verifications": 0})  # fmt: skip
                runs.insert_units(rows)
                db.session.commit()
            ours = time.perf_counter() - start

            raw_rows = [(serials.new_serial(), run.id, batch.id, count + n + 1, "0" * 64, 0) for n in range(count)]
            connection = db.session.connection().connection.driver_connection
            marker = "?" if url.startswith("sqlite") else "%s"
            sql = (f"INSERT INTO units (serial, run_id, batch_id, seq, pin_hash, verifications) "  # noqa: S608 - placeholders only
                   f"VALUES ({', '.join([marker] * 6)})")  # fmt: skip
            start = time.perf_counter()
            cursor = connection.cursor()
            cursor.executemany(sql, raw_rows)
            db.session.commit()
            raw = time.perf_counter() - start
            stored = db.session.query(Unit).count()
            dialect = db.engine.dialect.name
            db.session.remove()
            db.engine.dispose()
    print(f"Units on {dialect}: {count:,} each way ({stored:,} stored)")
    print(f"  a run's inserts (multi-row, {runs.CHUNK} a statement, with serials, PIN hashes, URIs) "
          f"{count / ours:9,.0f} units/s")  # fmt: skip
    print(f"  raw executemany of precomputed rows                                 {count / raw:9,.0f} units/s")
    print(f"  ratio ours / raw  {raw / ours:5.2f}")


def _credit_code() -> str:
    from app.orgs.credit_code import check_character

    body = "91421281" + "000000001"
    return body + check_character(body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--labels", type=int, default=10_000)
    parser.add_argument("--units", type=int, default=20_000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    bench_pdf(args.labels)
    bench_units(args.units, args.database_url)


if __name__ == "__main__":
    main()
