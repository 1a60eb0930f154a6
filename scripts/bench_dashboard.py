"""Benchmark: the office dashboard's queries on 10,000 batches (the issue's target: under 200 ms per chart).

Builds, with bulk inserts, 1,000 participating organizations across the six counties and
10,000 batches of the six product lines held by them, then records ``--tested`` test reports
through the compliance service (so each is in its batch's chain and judged as in production),
certifications, 76 standards in the office's register (each stage) and twelve weeks of daily
consumer scans for a thousand batches. Then it times, median of ``--repeat`` runs, the query of
each chart the dashboard draws, the charts' options, the whole ``GET /api/v1/office/summary``
and the acceptance-review PDF, and prints the figures it counted.

    python scripts/bench_dashboard.py [--database-url postgresql://postgres@127.0.0.1/yt_dashboard]
                                      [--batches 10000] [--tested 200] [--repeat 5]

Without ``--database-url`` it runs on a temporary SQLite file; a PostgreSQL database named in the
URL has its public schema dropped and recreated.
"""

from __future__ import annotations

import argparse
import datetime as dt
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, insert, select, text

from app import create_app
from app.auth import Actor
from app.batches.models import Batch
from app.catalog.products import PRODUCTS
from app.compliance import certifications, inspections
from app.db import db
from app.labels.models import ScanDay
from app.office import charts, dashboard, report
from app.office.models import StandardRecord
from app.orgs import service as orgs
from app.orgs.credit_code import check_character
from app.orgs.models import Organization, User

GENESIS = "0" * 64


def credit_code(serial: int) -> str:
    body = f"924212{serial:011d}"
    return body + check_character(body)


def build(batches: int, tested: int) -> None:
    now = dt.datetime.now(dt.UTC)
    products = list(PRODUCTS)
    counties = [PRODUCTS[p].county_zh for p in products]
    db.session.execute(
        insert(Organization),
        [
            {"code": f"D-ORG-{i:04d}", "name": f"主体{i}", "kind": "cooperative" if i % 3 else "enterprise",
             "county": counties[i % len(counties)], "credit_code": credit_code(i), "created_at": now}
            for i in range(1000)
        ],
    )  # fmt: skip
    org_ids = list(db.session.scalars(select(Organization.id).where(Organization.code.like("D-ORG-%"))))
    db.session.execute(
        insert(Batch),
        [
            {"lot_code": f"D-{i:06d}", "product_key": products[i % len(products)], "quantity": Decimal("100"),
             "unit": "kg", "status": "active", "public_code": secrets.token_hex(16),
             "custodian_org_id": org_ids[i % len(org_ids)], "producer_org_id": org_ids[i % len(org_ids)],
             "created_at": now - dt.timedelta(days=i % 90), "head_seq": 0, "head_hash": GENESIS}
            for i in range(batches)
        ],
    )  # fmt: skip
    orgs.create_organization(code="D-LAB", name="检测中心", kind="lab", county="咸宁市", credit_code=credit_code(5000))
    lab = orgs.create_user(username="d-lab", org_code="D-LAB", role="lab")
    inspector = orgs.create_user(username="d-insp", org_code="D-LAB", role="inspector")
    db.session.flush()
    actor = Actor(user=lab, org=lab.organization)
    ids = list(db.session.scalars(select(Batch.id).order_by(Batch.id).limit(tested)))
    for n, batch_id in enumerate(ids):
        inspections.record_inspection(
            actor, batch_id, report_no=f"D-R-{n}", lab="检测中心",
            sampled_at=now - dt.timedelta(days=3), tested_at=now - dt.timedelta(days=2),
            results=[{"parameter": "lead", "value": Decimal("0.05" if n % 5 else "0.9"), "unit": "mg/kg"}],
        )  # fmt: skip
    cert_actor = Actor(user=inspector, org=inspector.organization)
    for n in range(100):
        certifications.create_certification(
            cert_actor, kind="green_food", number=f"D-LB-{n}", issuer="中国绿色食品发展中心",
            holder=f"D-ORG-{n:04d}", product=products[n % len(products)],
            valid_from=dt.date(2026, 1, 1), valid_to=dt.date(2027, 1, 1) if n % 4 else dt.date(2026, 12, 20),
        )  # fmt: skip
    stages = ("proposed", "consultation", "published", "filed")
    db.session.execute(
        insert(StandardRecord),
        [
            {"code": (f"DB4212/T {9000 + n}-2026" if n < 6 else f"T/XNBZ {9000 + n}-2026"), "title_zh": f"标准{n}",
             "level": "local" if n < 6 else "group", "products": [products[n % len(products)]],
             "stage": stages[n % 4], "proposed_on": dt.date(2026, 1, 5),
             **{f"{s}_on": dt.date(2026, 2 + k, 5) for k, s in enumerate(stages[1:(n % 4) + 1])},
             "created_at": now, "updated_at": now}
            for n in range(76)
        ],
    )  # fmt: skip
    today = now.date()
    db.session.execute(
        insert(ScanDay),
        [
            {"batch_id": batch_id, "day": today - dt.timedelta(days=d), "scans": 1 + (batch_id + d) % 9}
            for batch_id in db.session.scalars(select(Batch.id).order_by(Batch.id).limit(1000))
            for d in range(0, 84, 3)
        ],
    )
    db.session.commit()


def timed(fn: Callable[[], Any], repeat: int) -> float:
    spans = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        spans.append((time.perf_counter() - started) * 1000)
        db.session.rollback()
    return statistics.median(spans)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url")
    parser.add_argument("--batches", type=int, default=10_000)
    parser.add_argument("--tested", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    tmp = tempfile.TemporaryDirectory(prefix="yt-dashboard-")
    url = args.database_url or f"sqlite:///{tmp.name}/dashboard.db"
    if url.startswith("postgresql"):
        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    with app.app_context():
        from flask_migrate import upgrade

        from app.catalog.service import default_catalog_path, load_catalog_file

        upgrade()
        load_catalog_file(default_catalog_path())
        db.session.commit()
        started = time.perf_counter()
        build(args.batches, args.tested)
        print(f"database: {url.split('@')[-1]}; built {args.batches} batches, {args.tested} tested, "
              f"in {time.perf_counter() - started:.1f} s")  # fmt: skip
        now = dt.datetime.now(dt.UTC)
        figures = dashboard.summary()
        timings: dict[str, Callable[[], Any]] = {
            "adoption (orgs, product lines, active 30 d)": lambda: (
                dashboard.participants(), dashboard.product_lines_of(),
                dashboard.active_since(now - dt.timedelta(days=30)),
            ),
            "standards (register + catalog, by stage)": dashboard.standards_by_group,
            "compliance (tested batches, stored verdicts)": dashboard.tested_batches,
            "findings (opened, closed, median)": dashboard.finding_times,
            "certifications (held, expiring)": lambda: dashboard.certifications_on(now.date()),
            "consumer scans (product x week, 12 weeks)": lambda: dashboard.scan_weeks(now.date()),
            "charts' options (from the figures)": lambda: charts.charts(figures),
            "whole summary": dashboard.summary,
            "acceptance-review PDF (summary + render)": lambda: report.render(),
        }  # fmt: skip
        for label, fn in timings.items():
            print(f"{label:46} {timed(fn, args.repeat):8.1f} ms  (median of {args.repeat}; target 200 ms per chart)")
        a, s, c = figures["adoption"], figures["standards"], figures["compliance"]
        print(
            f"figures: enrolled {a['enrolled']}/{a['target']}, active 30 d {a['active_30d']}; "
            f"local standards {s['local']['count']}/{s['local']['target']}, group/enterprise "
            f"{s['group_enterprise']['count']}/{s['group_enterprise']['target']}; tested {c['tested']} "
            f"({c['by_verdict']}); findings {c['findings']}; certifications held {figures['certifications']['held']}, "
            f"expiring {figures['certifications']['expiring_60d']}; scans {figures['scans']['total']} in 12 weeks"
        )
        assert db.session.scalar(select(User.id).where(User.username == "d-lab")) is not None
        db.session.remove()
        db.engine.dispose()
    tmp.cleanup()


if __name__ == "__main__":
    main()
