"""Benchmark: a spreadsheet import of 5,000 stage records (target: under 10 s on PostgreSQL).

On a fresh database (migrated from empty, the catalog loaded) a cooperative holds ``--lots`` loquat
lots of its member households; the script fills the import template the API hands out with
``--rows`` rows spread over those lots (a harvest for each lot, then cold-store records, in 斤 and
公斤 as farmers type them), POSTs it to ``/api/v1/imports/events`` and prints the wall time of the
request. Beside it, from the same run:

* the baseline: psycopg's ``executemany`` of the same number of event-shaped rows straight into
  ``events`` in one transaction (no HTTP, no file, no validation, no hashing, no compliance);
* the same rows through ``POST /api/v1/events/bulk`` (200 a request, the bulk endpoint's limit);
* the same file again (everything already stored: nothing new).

    python scripts/bench_import.py [--database-url postgresql://postgres@127.0.0.1/yt_import]
                                   [--rows 5000] [--lots 100]

Without ``--database-url`` it runs on a temporary SQLite file. A PostgreSQL database named in the
URL must exist; its schema is dropped and created by the script (DROP/CREATE SCHEMA public).
Figures are printed, never asserted: speed is not a test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import secrets
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from openpyxl import load_workbook
from sqlalchemy import create_engine, func, select, text

from app import create_app
from app.db import db

CHINA = dt.timezone(dt.timedelta(hours=8))
START = dt.datetime(2026, 5, 20, 6, 0, tzinfo=CHINA)


def credit_code(serial: int) -> str:
    from app.orgs.credit_code import check_character

    body = f"934212{serial:011d}"
    return body + check_character(body)


def reset_postgres(url: str) -> None:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def rows_for(lots: list[str], count: int) -> list[tuple[str, str, list[object]]]:
    """(lot, stage, cells) for ``count`` rows: each lot's harvest first, then storage records."""
    out: list[tuple[str, str, list[object]]] = []
    n = 0
    while len(out) < count:
        lot = lots[n % len(lots)]
        round_no = n // len(lots)
        when = START + dt.timedelta(hours=round_no * 6, minutes=n % 60)
        if round_no == 0:
            out.append(
                (lot, "harvest", [lot, when.strftime("%Y-%m-%d %H:%M"), 200 + n % 50, "斤" if n % 2 else "公斤"])
            )
        else:
            out.append((lot, "storage", [lot, when.strftime("%Y-%m-%d %H:%M"), 4, 88, "冷库1"]))
        n += 1
    return out


def workbook(client, headers, stage: str, rows: list[list[object]]) -> bytes:
    response = client.get(
        "/api/v1/imports/events/template.xlsx", query_string={"product": "loquat", "stage": stage}, headers=headers
    )
    assert response.status_code == 200, response.data[:200]
    book = load_workbook(io.BytesIO(response.data))
    sheet = book["记录"]
    for cells in rows:
        sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url")
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--lots", type=int, default=100)
    args = parser.parse_args()
    tmp = tempfile.TemporaryDirectory(prefix="yt-import-")
    url = args.database_url or f"sqlite:///{tmp.name}/import.db"
    if url.startswith("postgresql"):
        reset_postgres(url)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    with app.app_context():
        from flask_migrate import upgrade

        from app.auth import Actor
        from app.batches import service as batches
        from app.batches.models import Event
        from app.catalog.service import default_catalog_path, load_catalog_file
        from app.orgs import service as orgs

        upgrade()
        load_catalog_file(default_catalog_path())
        coop = orgs.create_organization(
            code="B-COOP", name="大畈枇杷合作社", kind="cooperative", county="通山县", credit_code=credit_code(1)
        )
        user = orgs.create_user(username="bench-coop", org_code="B-COOP", role="cooperative")
        _, token = orgs.create_token("bench-coop")
        who = Actor(user=user, org=coop)
        began = time.perf_counter()
        households = [
            orgs.create_organization(code=f"B-HH-{i:03d}", name=f"农户{i}", kind="farm_household", county="通山县",
                                     cooperative_code="B-COOP")
            for i in range(50)
        ]  # fmt: skip
        codes = []
        for i in range(args.lots):
            lot = batches.create_batch(
                who, product="loquat", quantity=Decimal(500), unit="kg", producer=households[i % 50].code,
                lot_code=f"B-LQ-{i:05d}",
            )  # fmt: skip
            codes.append(lot.lot_code)
        raw_lot = batches.create_batch(who, product="loquat", quantity=Decimal(1), unit="kg", lot_code="B-RAW")
        db.session.commit()
        print(f"setup: {args.lots} lots in {time.perf_counter() - began:.1f} s")
        planned = rows_for(codes, args.rows)
        client = app.test_client()
        headers = {"Authorization": f"Bearer {token}"}
        files = {
            stage: workbook(client, headers, stage, [cells for _lot, s, cells in planned if s == stage])
            for stage in ("harvest", "storage")
        }
        print(f"database: {url.split('@')[-1]}; {args.rows} rows over {args.lots} lots "
              f"({', '.join(f'{s}: {len(f) / 1024:.0f} KiB' for s, f in files.items())})")  # fmt: skip

        def upload(stage: str) -> tuple[float, dict[str, object], int]:
            started = time.perf_counter()
            response = client.post(
                "/api/v1/imports/events", headers=headers, data={"file": (io.BytesIO(files[stage]), f"{stage}.xlsx")},
                content_type="multipart/form-data",
            )  # fmt: skip
            return time.perf_counter() - started, response.get_json(), response.status_code

        # One file of all 5,000 rows would be one stage; a harvest file then a storage file is how a
        # cooperative sends a season's sheets. Timed together: the import of all the rows.
        import_s = 0.0
        for stage in files:
            elapsed, body, status = upload(stage)
            assert status == 201, body
            import_s += elapsed
            print(f"  import {stage:8} {elapsed:6.2f} s  HTTP {status}  {body}")
        again_s = 0.0
        for stage in files:
            elapsed, body, status = upload(stage)
            assert status == 200 and body["stored"] == 0, body
            again_s += elapsed
        stored = db.session.scalar(
            select(func.count()).select_from(Event).where(Event.stage.in_(("harvest", "storage")))
        )

        # The bulk endpoint, 200 a request, on lots of their own (a second cooperative's copy of the same rows).
        bulk_rows = [
            {"batch": raw_lot.id, "stage": "storage", "occurred_at": (START + dt.timedelta(minutes=n)).isoformat(),
             "data": {"temperature_c": "4", "humidity_pct": "88"}}
            for n in range(args.rows)
        ]  # fmt: skip
        started = time.perf_counter()
        for i in range(0, len(bulk_rows), 200):
            response = client.post("/api/v1/events/bulk", headers=headers, json={"events": bulk_rows[i : i + 200]})
            assert response.status_code == 201, response.get_json()
        bulk_s = time.perf_counter() - started

        raw_s = raw_insert(db, raw_lot.id, user.id, coop.id, args.rows)
        print(f"import of {args.rows} rows (file to stored events): {import_s:6.2f} s   (target: under 10 s)")
        print(f"baseline, raw executemany of {args.rows} event rows:  {raw_s:6.2f} s   ratio {import_s / raw_s:5.1f}x")
        print(f"reference, /events/bulk 200 a request:         {bulk_s:6.2f} s   ratio {import_s / bulk_s:5.2f}x")
        print(f"the same files again (nothing new):            {again_s:6.2f} s")
        print(f"events stored by the import: {stored}")
        db.session.remove()
        db.engine.dispose()
    tmp.cleanup()


def raw_insert(database, batch_id: int, user_id: int, org_id: int, rows: int) -> float:
    """Seconds for an executemany of ``rows`` event-shaped rows into ``events``, one transaction."""
    data = json.dumps({"temperature_c": "4", "humidity_pct": "88"})
    statement = text(
        "INSERT INTO events (batch_id, seq, stage, occurred_at, recorded_at, actor_user_id, actor_org_id,"
        " site_id, data, amends_seq, idempotency_key, request_digest, prev_hash, hash)"
        " VALUES (:batch, :seq, 'storage', :at, :at, :user, :org, NULL, :data, NULL, NULL, :digest, :prev, :hash)"
    )
    start_seq = 1_000_000
    now = dt.datetime.now(dt.UTC)
    params = [
        {"batch": batch_id, "seq": start_seq + n, "at": now, "user": user_id, "org": org_id, "data": data,
         "digest": secrets.token_hex(32), "prev": secrets.token_hex(32), "hash": secrets.token_hex(32)}
        for n in range(rows)
    ]  # fmt: skip
    began = time.perf_counter()
    database.session.execute(statement, params)
    database.session.commit()
    elapsed = time.perf_counter() - began
    database.session.execute(
        text("DELETE FROM events WHERE batch_id = :b AND seq >= :s"), {"b": batch_id, "s": start_seq}
    )
    database.session.commit()
    return elapsed


if __name__ == "__main__":
    main()
