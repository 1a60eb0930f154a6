"""Benchmark: the consumer page against a floor route, and event appends, on PostgreSQL under gunicorn.

    python scripts/bench.py [--seconds 10] [--clients 8] [--workers N] [--keep]

It creates its own database (``yt_bench`` by default; dropped first if it exists and again at the
end unless ``--keep``), runs the migrations, loads the standards catalog, builds a batch with 30
events, serves the app with gunicorn on a free loopback port, and in the same run measures:

* ``GET /t/{code}/ping``: the floor, one indexed SELECT by public code and a tiny template;
* ``GET /t/{code}``: the consumer page of that 30-event batch;
* ``POST /api/v1/batches/{id}/events`` from one client, from eight clients on one batch (they
  queue on its row lock) and from eight clients on eight batches;
* ``POST /api/v1/events/bulk`` from four clients, 200 cold-chain records a request over 20 lots
  each (a cooperative's day of logging), against its baseline from the same run: psycopg's
  ``executemany`` of the same number of event-shaped rows straight into ``events`` (no HTTP, no
  validation, no hashing), 200 rows a transaction;
* the peak RSS (``VmHWM``) of each gunicorn worker after all the runs.

Each figure is a bounded run (``--seconds``) after a short warm-up. The load comes from separate
client processes, one keep-alive ``http.client`` connection each, so the client's own GIL does
not cap the server. Figures are printed, never asserted: speed is not a test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import multiprocessing as mp
import os
import secrets
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/yt_bench"
WARMUP_SECONDS = 2.0
TARGET_RATIO = 0.5


# ---------------------------------------------------------------------------------------- setup


def admin_url(url: str) -> tuple[str, str]:
    """The maintenance database's URL on the same server, and the benchmark database's name."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    return urlunsplit(parts._replace(path="/postgres")), name


def recreate_database(url: str, drop_only: bool = False) -> None:
    import psycopg
    from psycopg import sql

    maintenance, name = admin_url(url)
    with psycopg.connect(maintenance.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        if not drop_only:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


BULK_CLIENTS = 4
BULK_LOTS_PER_REQUEST = 20
BULK_ROWS = 200  # a request's rows: the endpoint's maximum


@dataclass(frozen=True)
class Fixture:
    public_code: str
    lot_code: str
    token: str
    append_batches: list[int]  # fresh batches, one per append run / client
    bulk_batches: list[list[int]]  # per bulk client, the lots its requests log for
    raw_batch: int  # the lot the raw-insert baseline writes to
    actor_ids: tuple[int, int]  # (user, organization) the raw rows name


def build_fixture(url: str, clients: int) -> Fixture:
    """Migrate, load the catalog, and make the 30-event batch and the batches appends go to."""
    from flask_migrate import upgrade

    from app import create_app
    from app.auth import Actor
    from app.batches import service as batches
    from app.catalog.service import default_catalog_path, load_catalog_file
    from app.db import db
    from app.orgs import service as orgs

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        load_catalog_file(default_catalog_path())
        coop = orgs.create_organization(
            code="BENCH-COOP", name="通山县九宫山枇杷专业合作社", kind="cooperative", county="通山县",
            credit_code=_credit_code(),
        )  # fmt: skip
        user = orgs.create_user(username="bench_coop", org_code=coop.code, role="cooperative")
        orchard = orgs.create_site(coop, name="九宫山枇杷园", kind="orchard", county="通山县", township="九宫山镇")
        _, token = orgs.create_token(user.username)
        actor = Actor(user=user, org=coop)
        start = dt.datetime.now(dt.UTC) - dt.timedelta(days=120)
        batch = batches.create_batch(
            actor, product="loquat", quantity=Decimal("2000"), unit="kg", site=orchard.id, produced_at=start
        )
        for stage, day, data in _thirty_events(start):
            batches.append_event(
                batch.id, actor, stage=stage, occurred_at=start + dt.timedelta(days=day), data=data,
                site=orchard.id if stage in ("seedling", "planting", "harvest") else None,
                amends_seq=4 if stage == "amendment" else None,  # the harvest: seq 1 is the created record
            )  # fmt: skip
        assert batch.head_seq == 31, batch.head_seq  # the created record and the 30 events
        targets = [
            batches.create_batch(actor, product="loquat", quantity=Decimal("100"), unit="kg").id
            for _ in range(2 + clients)
        ]
        bulk = [
            [
                batches.create_batch(actor, product="loquat", quantity=Decimal("100"), unit="kg").id
                for _ in range(BULK_LOTS_PER_REQUEST)
            ]
            for _ in range(BULK_CLIENTS)
        ]
        raw = batches.create_batch(actor, product="loquat", quantity=Decimal("100"), unit="kg").id
        fixture = Fixture(batch.public_code, batch.lot_code, token, targets, bulk, raw, (user.id, coop.id))
        db.session.commit()
        db.engine.dispose()
    return fixture


def _credit_code() -> str:
    from app.orgs.credit_code import check_character

    body = "91421224" + "".join(secrets.choice("0123456789") for _ in range(9))
    return body + check_character(body)


def _thirty_events(start: dt.datetime) -> list[tuple[str, int, dict]]:
    """Seedling to sale for a loquat lot, with a month of storage and transport records and one correction."""
    events: list[tuple[str, int, dict]] = [
        ("seedling", 0, {"variety": "白玉", "source": "通山县林业局苗圃", "count": 400}),
        ("planting", 5, {"area_mu": "15", "inputs": [
            {"kind": "fertilizer", "name": "腐熟有机肥", "dose": "200", "dose_unit": "kg/亩",
             "applied_at": (start + dt.timedelta(days=5)).isoformat()},
            {"kind": "pesticide", "name": "吡虫啉", "registration_no": "PD20080001", "dose": "30", "dose_unit": "g/亩",
             "applied_at": (start + dt.timedelta(days=20)).isoformat(), "phi_days": 14},
        ]}),
        ("harvest", 60, {"quantity": "2000", "unit": "kg", "grade": "一级", "variety": "白玉", "brix": "13.2"}),
        ("packing", 61, {"package": "5千克礼盒", "count": 400}),
    ]  # fmt: skip
    for i in range(24):
        day = 61 + i
        if i % 2 == 0:
            events.append(("storage", day, {"temperature_c": "4", "humidity_pct": "90", "warehouse": "九宫山冷库"}))
        else:
            events.append(
                ("transport", day, {"vehicle": "冷藏车", "origin": "通山县九宫山镇", "destination": "咸宁市温泉城区",
                                    "temperature_c": "5"})
            )  # fmt: skip
    events.append(
        ("amendment", 86, {"reason": "过磅复核", "data": {"quantity": "1980", "unit": "kg", "grade": "一级",
                                                         "variety": "白玉", "brix": "13.2"}})
    )  # fmt: skip
    events.append(("sale", 87, {"channel": "咸宁市温泉农贸市场"}))
    return events


# ---------------------------------------------------------------------------------------- serve


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(url: str, port: int, workers: int, app: str = "wsgi:app") -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "APP_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(32),
        "PUBLIC_BASE_URL": "https://trace.example.cn",
    }
    command = [
        sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
        # Threaded workers keep connections alive between requests, as a reverse proxy would.
        "--worker-class", "gthread", "--threads", "1", "--keep-alive", "30", "--log-level", "warning", app,
    ]  # fmt: skip
    server = subprocess.Popen(command, cwd=ROOT, env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise RuntimeError("gunicorn did not answer /healthz within 30 s")


# ----------------------------------------------------------------------------------------- load


@dataclass(frozen=True)
class Job:
    port: int
    method: str
    path: str
    token: str | None
    seconds: float
    warmup: float
    bulk_lots: tuple[int, ...] = ()  # a bulk POST: the lots its rows go to, in turn


def _body(job: Job) -> str:
    """A request's JSON: one storage record, or BULK_ROWS storage/transport records over ``bulk_lots``."""
    now = dt.datetime.now(dt.UTC).isoformat()
    storage = {"stage": "storage", "occurred_at": now, "data": {"temperature_c": "4", "humidity_pct": "88"}}
    if not job.bulk_lots:
        return json.dumps(storage)
    route = {"vehicle": "冷藏车", "origin": "通山县九宫山镇", "destination": "咸宁市温泉城区", "temperature_c": "5"}
    transport = {"stage": "transport", "occurred_at": now, "data": route}
    lots = job.bulk_lots
    rows = [{"batch": lots[i % len(lots)], **(storage if i % 2 else transport)} for i in range(BULK_ROWS)]
    return json.dumps({"events": rows})


def _client(job: Job, ready: mp.Queue, go: Any, results: mp.Queue) -> None:
    """One keep-alive connection issuing requests back to back; latencies of the timed part only."""
    conn = http.client.HTTPConnection("127.0.0.1", job.port, timeout=30)
    headers = {"Accept-Language": "zh-CN"}
    if job.token:
        headers["Authorization"] = f"Bearer {job.token}"
    latencies: list[float] = []
    errors = 0
    ready.put(True)
    go.wait()
    start_at = time.time()
    measure_from = start_at + job.warmup
    stop_at = measure_from + job.seconds
    while True:
        now = time.time()
        if now >= stop_at:
            break
        body = None
        request_headers = headers
        if job.method == "POST":
            body = _body(job)
            request_headers = {**headers, "Content-Type": "application/json", "Idempotency-Key": uuid.uuid4().hex}
        began = time.perf_counter()
        try:
            conn.request(job.method, job.path, body=body, headers=request_headers)
            response = conn.getresponse()
            response.read()
            ok = response.status < 300
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", job.port, timeout=30)
            ok = False
        elapsed = time.perf_counter() - began
        if now >= measure_from:
            latencies.append(elapsed)
            errors += not ok
    conn.close()
    results.put((latencies, errors))


@dataclass
class Figure:
    label: str
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: int = 0

    def add(self, seconds: float, collected: list[tuple[list[float], int]]) -> None:
        self.seconds += seconds
        for latencies, errors in collected:
            self.latencies.extend(latencies)
            self.errors += errors

    rows_per_request: int = 1

    @property
    def requests(self) -> int:
        return len(self.latencies)

    @property
    def rows_rate(self) -> float:
        """Rows stored per second (events for a bulk run); failed requests stored nothing."""
        return (self.requests - self.errors) * self.rows_per_request / self.seconds if self.seconds else float("nan")

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else float("nan")

    def ms(self, pct: float) -> float:
        return percentile(sorted(self.latencies), pct) * 1000 if self.latencies else float("nan")


def run_load(label: str, jobs: list[Job]) -> Figure:
    figure = Figure(label)
    figure.add(jobs[0].seconds, _one_slice(jobs))
    return figure


def interleaved(runs: list[tuple[str, list[Job]]], rounds: int) -> list[Figure]:
    """Alternate runs slice by slice (ABAB...), so a change in the machine's load hits all alike."""
    figures = [Figure(label) for label, _ in runs]
    for _ in range(rounds):
        for figure, (_, jobs) in zip(figures, runs, strict=True):
            figure.add(jobs[0].seconds, _one_slice(jobs))
    return figures


def _one_slice(jobs: list[Job]) -> list[tuple[list[float], int]]:
    ctx = mp.get_context("spawn")
    ready: mp.Queue = ctx.Queue()
    results: mp.Queue = ctx.Queue()
    go = ctx.Event()
    processes = [ctx.Process(target=_client, args=(job, ready, go, results)) for job in jobs]
    for p in processes:
        p.start()
    for _ in processes:  # every client starts together, once all have started up
        ready.get(timeout=120)
    go.set()
    collected = [results.get(timeout=jobs[0].seconds + jobs[0].warmup + 60) for _ in processes]
    for p in processes:
        p.join()
    return collected


def percentile(ordered: list[float], pct: float) -> float:
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


# ------------------------------------------------------------------------------------- baselines


def raw_insert_rate(url: str, fixture: Fixture, rows: int) -> float:
    """Rows/s of psycopg ``executemany`` of event-shaped rows into ``events``, BULK_ROWS a transaction.

    What the database itself can take: the same columns and row sizes the bulk endpoint writes,
    with no HTTP, validation, hashing or ORM. The rows go to a lot of their own and are deleted after.
    """
    import psycopg

    user_id, org_id = fixture.actor_ids
    data = json.dumps({"temperature_c": "4", "humidity_pct": "88"})
    statement = (
        "INSERT INTO events (batch_id, seq, stage, occurred_at, recorded_at, actor_user_id, actor_org_id,"
        " site_id, data, amends_seq, idempotency_key, request_digest, prev_hash, hash)"
        " VALUES (%s, %s, 'storage', %s, %s, %s, %s, NULL, %s, NULL, NULL, %s, %s, %s)"
    )
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo) as conn:
        start_seq = conn.execute("SELECT head_seq FROM batches WHERE id = %s", (fixture.raw_batch,)).fetchone()[0]
        now = dt.datetime.now(dt.UTC)
        began = time.perf_counter()
        for chunk in range(0, rows, BULK_ROWS):
            params = [
                (fixture.raw_batch, start_seq + n + 1, now, now, user_id, org_id, data,
                 secrets.token_hex(32), secrets.token_hex(32), secrets.token_hex(32))
                for n in range(chunk, min(rows, chunk + BULK_ROWS))
            ]  # fmt: skip
            with conn.transaction(), conn.cursor() as cursor:
                cursor.executemany(statement, params)
        elapsed = time.perf_counter() - began
        conn.execute("DELETE FROM events WHERE batch_id = %s AND seq > %s", (fixture.raw_batch, start_seq))
        conn.commit()
    return rows / elapsed


def peak_rss_mb(server: subprocess.Popen) -> list[float]:
    """The peak resident set (VmHWM, MB) of each of gunicorn's workers, read from /proc."""
    listed = subprocess.run(["ps", "-o", "pid=", "--ppid", str(server.pid)], capture_output=True, text=True)
    peaks = []
    for pid in listed.stdout.split():
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peaks.append(int(line.split()[1]) / 1024)
    return sorted(peaks)


# ----------------------------------------------------------------------------------------- main


def check(port: int, path: str, expect: str) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path)
    response = conn.getresponse()
    body = response.read().decode()
    if response.status != 200 or expect not in body:
        raise RuntimeError(f"GET {path} answered {response.status} without {expect!r}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--seconds", type=float, default=10.0, help="timed length of each figure (default 10)")
    parser.add_argument("--rounds", type=int, default=2, help="slices the page runs alternate in (default 2)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients for the page runs (default 4)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="gunicorn workers (default: CPUs)")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database afterwards")
    args = parser.parse_args()

    from app.config import normalize_database_url

    url = normalize_database_url(args.database_url)
    print(f"setting up {admin_url(url)[1]} (migrations, catalog, a 30-event batch) ...", flush=True)
    recreate_database(url)
    load_before = os.getloadavg()[0]
    servers: list[subprocess.Popen] = []
    try:
        fixture = build_fixture(url, clients=8)
        port, cold_port = free_port(), free_port()
        servers.append(start_gunicorn(url, port, args.workers))
        # The same app with the page cache off: what a page costs the first time it is read.
        servers.append(start_gunicorn(url, cold_port, args.workers, "app:create_app({'PUBLIC_PAGE_CACHE_SECONDS': 0})"))
        page, floor = f"/t/{fixture.public_code}", f"/t/{fixture.public_code}/ping"
        for p in (port, cold_port):
            check(p, page, fixture.lot_code)
            check(p, floor, fixture.lot_code)

        slice_seconds = args.seconds / args.rounds

        def reads(path: str, on: int = port) -> list[Job]:
            return [Job(on, "GET", path, None, slice_seconds, WARMUP_SECONDS) for _ in range(args.clients)]

        def appends(batch_ids: list[int]) -> list[Job]:
            return [
                Job(port, "POST", f"/api/v1/batches/{b}/events", fixture.token, args.seconds, WARMUP_SECONDS)
                for b in batch_ids
            ]

        bulk_jobs = [
            Job(port, "POST", "/api/v1/events/bulk", fixture.token, args.seconds, WARMUP_SECONDS, tuple(lots))
            for lots in fixture.bulk_batches
        ]

        print(
            f"measuring: {args.seconds:g} s per figure ({args.rounds} alternating slices for the pages), "
            f"each after {WARMUP_SECONDS:g} s of warm-up ...",
            flush=True,
        )
        floor_fig, page_fig, cold_fig = interleaved(
            [
                ("GET /t/{code}/ping (floor: 1 indexed SELECT)", reads(floor)),
                ("GET /t/{code} (consumer page, 30 events)", reads(page)),
                ("GET /t/{code} with the page cache off", reads(page, cold_port)),
            ],
            args.rounds,
        )
        one = fixture.append_batches
        append_figs = [
            run_load("POST events, 1 client", appends(one[:1])),
            run_load("POST events, 8 clients, one batch", appends([one[1]] * 8)),
            run_load("POST events, 8 clients, 8 batches", appends(one[2:10])),
        ]
        bulk_fig = run_load(f"POST events/bulk, {BULK_CLIENTS} clients, {BULK_ROWS} rows", bulk_jobs)
        bulk_fig.rows_per_request = BULK_ROWS
        # The baseline right after, on the same database: as many rows as the endpoint stored.
        raw_rate = raw_insert_rate(url, fixture, max(100 * BULK_ROWS, round(bulk_fig.rows_rate * args.seconds)))
        worker_peaks = {"page cache on": peak_rss_mb(servers[0]), "page cache off": peak_rss_mb(servers[1])}
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)
        if not args.keep:
            recreate_database(url, drop_only=True)

    print()
    print(
        f"Youpin Trace benchmark · PostgreSQL · gunicorn {args.workers} worker(s) (gthread, keep-alive) · "
        f"{args.clients} page clients · {os.cpu_count()} CPU(s) shared by server, database and clients · "
        f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after"
    )
    header = f"{'run':<48}{'requests':>10}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}"
    print(header)
    print("-" * len(header))
    for fig in (floor_fig, page_fig, cold_fig, *append_figs, bulk_fig):
        print(
            f"{fig.label:<48}{fig.requests:>10}{fig.rate:>10.1f}{fig.ms(50):>10.2f}{fig.ms(99):>10.2f}{fig.errors:>8}"
        )
    print("-" * len(header))
    ratio = page_fig.rate / floor_fig.rate if floor_fig.rate else float("nan")
    verdict = "meets" if ratio >= TARGET_RATIO else "BELOW"
    print(f"consumer page / floor throughput: {ratio:.2f} ({verdict} the target of {TARGET_RATIO:.2f})")
    print(f"page cache off / floor throughput: {cold_fig.rate / floor_fig.rate:.2f} (a page's first reading)")
    print()
    # The lines the project's checks read (issue 13), one per figure.
    print(f"capture: {bulk_fig.rows_rate:.0f} events/s; raw insert {raw_rate:.0f} rows/s; "
          f"ratio {bulk_fig.rows_rate / raw_rate:.3f}")  # fmt: skip
    print(f"single appends, 8 clients on 8 batches: {append_figs[2].rate:.0f}/s")
    print(f"first reading / floor: {cold_fig.rate / floor_fig.rate:.2f}")
    print(f"cached page / floor: {ratio:.2f}")
    for name, peaks in worker_peaks.items():
        shown = ", ".join(f"{mb:.0f}" for mb in peaks) or "unknown"
        print(f"peak RSS per worker ({name}): {shown} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
