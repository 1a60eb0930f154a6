"""Benchmark: do password checks starve the other requests? The scan page's p99 with four clients
hammering /login, against a baseline with no login load, in the same run, on gunicorn.

    python scripts/bench_login.py [--seconds 8] [--hammers 4] [--workers 2]

It builds a SQLite database in a temporary folder (migrations, the catalog, one batch, one user
whose password is hashed at argon2-cffi's production cost), then for each server setup serves
the app with gunicorn on a free loopback port and measures ``GET /t/{code}`` (the consumer page a
QR scan opens) from one client:

* ``sync, unbounded``: what the issue measured: sync workers, every password check at once;
* ``gthread + bound``: gunicorn.conf.py's threaded workers, one password check per process at a
  time (app/account/limits.py), the others waiting up to a second, then told to retry.

each without login load (the baseline) and with ``--hammers`` clients posting wrong passwords to
/login as fast as they are answered. The login limits are switched off for the run (they would
answer 429 after a few tries and hide the cost being measured). It prints p50/p99 of the scan page
and the ratio of the loaded p99 to its baseline. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import http.client
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

USERNAME = "bench-inspector"
PASSWORD = "bench-password-2026"


def build(url: str) -> str:
    """The database, and the public code of the batch whose page is measured."""
    from flask_migrate import upgrade

    from app import create_app
    from app.auth import Actor
    from app.batches import service as batches
    from app.catalog.service import default_catalog_path, load_catalog_file
    from app.db import db
    from app.orgs import service as orgs

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})  # argon2 at its production cost: as configured
    with app.app_context():
        upgrade()
        load_catalog_file(default_catalog_path())
        org = orgs.create_organization(code="BENCH-REG", name="基准测试监管", kind="regulator")
        orgs.create_user(username=USERNAME, org_code=org.code, role="inspector", password=PASSWORD)
        from app.orgs.credit_code import check_character

        body = "91421200000000001"
        coop = orgs.create_organization(
            code="BENCH-COOP", name="基准测试合作社", kind="cooperative", credit_code=body + check_character(body)
        )
        farmer = orgs.create_user(username="bench-coop", org_code=coop.code, role="cooperative")
        batch = batches.create_batch(Actor(farmer, coop), product="loquat", quantity=Decimal(100), unit="kg")
        code = batch.public_code
        db.session.commit()
    return code


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(url: str, port: int, workers: int, threaded: bool) -> subprocess.Popen[bytes]:
    checks = 1 if threaded else 1000  # the bound, or (as before it) none
    factory = f"app:create_app({{'RATELIMIT_ENABLED': False, 'LOGIN_CONCURRENT_CHECKS': {checks}}})"
    mode = ["--config", "gunicorn.conf.py"] if threaded else ["--worker-class", "sync"]
    command = [sys.executable, "-m", "gunicorn", *mode, "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
               "--log-level", "warning", factory]  # fmt: skip
    env = {"DATABASE_URL": url, "SECRET_KEY": secrets.token_urlsafe(32), "PATH": "/usr/bin:/bin"}
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


def hammer(port: int, stop: threading.Event, counts: list[int]) -> None:
    """Wrong passwords to /login, one after another, on one connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", "/login")
    response = conn.getresponse()
    page = response.read().decode()
    cookie = (response.getheader("Set-Cookie") or "").split(";")[0]
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token, "no form token on /login"
    body = f"username={USERNAME}&password=wrong-{secrets.token_hex(4)}&csrf_token={token.group(1)}"
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
    while not stop.is_set():
        try:
            conn.request("POST", "/login", body=body, headers=headers)
            conn.getresponse().read()
            counts.append(1)
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)


def scan(port: int, code: str, seconds: float) -> list[float]:
    """The consumer page, one request after another, for ``seconds``: each one's time in ms."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    times: list[float] = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        start = time.perf_counter()
        conn.request("GET", f"/t/{code}")
        response = conn.getresponse()
        response.read()
        assert response.status == 200, response.status
        times.append((time.perf_counter() - start) * 1000)
    return times


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def measure(port: int, code: str, seconds: float, hammers: int) -> tuple[float, float, int, int]:
    scan(port, code, 1.0)  # warm-up: every worker has its page cache and connections
    stop = threading.Event()
    counts: list[int] = []
    threads = [threading.Thread(target=hammer, args=(port, stop, counts), daemon=True) for _ in range(hammers)]
    for t in threads:
        t.start()
    if hammers:
        time.sleep(1.0)  # the login load is under way before the first measured scan
    times = scan(port, code, seconds)
    stop.set()
    for t in threads:
        t.join(timeout=70)
    return percentile(times, 50), percentile(times, 99), len(times), len(counts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--hammers", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="yt-bench-login-") as tmp:
        url = "sqlite:///" + str(Path(tmp) / "bench.db")
        code = build(url)
        print(f"scan page /t/{code[:6]}…, {args.hammers} clients on /login, {args.seconds:.0f} s per figure")
        header = ("server", "login load", "p50 ms", "p99 ms", "scans", "logins", "p99 ratio")
        print("{:<18} {:<11} {:>8} {:>9} {:>6} {:>7} {:>10}".format(*header))
        for threaded in (False, True):
            port = free_port()
            server = serve(url, port, args.workers, threaded)
            try:
                base50, base99, base_n, _ = measure(port, code, args.seconds, 0)
                load50, load99, load_n, logins = measure(port, code, args.seconds, args.hammers)
            finally:
                server.terminate()
                server.wait(timeout=30)
            name = "gthread + bound" if threaded else "sync, unbounded"
            print(f"{name:<18} {'none':<11} {base50:8.1f} {base99:9.1f} {base_n:6d} {0:7d} {'1.0':>10}")
            print(f"{name:<18} {args.hammers:<11} {load50:8.1f} {load99:9.1f} {load_n:6d} {logins:7d} "
                  f"{load99 / base99:10.1f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
