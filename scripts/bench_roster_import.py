"""Benchmark: import a roster of 1,000 organizations through the API (target: under 10 s).

Builds an XLSX roster the way the office would fill it in (100 cooperatives, 100 enterprises and
800 member households, each household under a cooperative of its county, every credit code
valid), then, on a fresh database migrated from empty with the catalog loaded, POSTs it to
``/api/v1/organizations/import`` as an admin and prints the wall time of the request; then
imports the same file again (nothing may change) and prints that too.

    python scripts/bench_roster_import.py [--database-url postgresql://postgres@127.0.0.1/yt_roster]
                                          [--organizations 1000]

Without ``--database-url`` it runs on a temporary SQLite file. A PostgreSQL database named in
the URL is dropped and created by the script (its schema only: DROP/CREATE SCHEMA public).
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from openpyxl import Workbook
from sqlalchemy import create_engine, func, select, text

from app import create_app
from app.catalog.products import PRODUCTS
from app.db import db
from app.office.roster import COLUMNS, COUNTIES, SHEET
from app.orgs.credit_code import check_character

COUNTY_PRODUCT = {spec.county_zh: spec.name_zh for spec in PRODUCTS.values()}


def credit_code(serial: int) -> str:
    body = f"934212{serial:011d}"
    return body + check_character(body)


def roster(total: int) -> bytes:
    counties = [c for c in COUNTIES if c != "咸宁市"]
    coops, enterprises = total // 10, total // 10
    households = total - coops - enterprises
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = SHEET
    sheet.append([title for _, title in COLUMNS])
    for i in range(coops):
        county = counties[i % len(counties)]
        product = COUNTY_PRODUCT.get(county, "咸宁桂花")
        sheet.append(
            [f"B-COOP-{i:04d}", f"{county}第{i}专业合作社", "合作社", county, credit_code(i), "", "", "", product]
        )
    for i in range(enterprises):
        county = counties[i % len(counties)]
        product = COUNTY_PRODUCT.get(county, "咸宁桂花")
        sheet.append(
            [
                f"B-ENT-{i:04d}",
                f"{county}第{i}食品有限公司",
                "企业",
                county,
                credit_code(10_000 + i),
                "",
                "",
                "",
                product,
            ]
        )
    for i in range(households):
        coop = i % coops
        county = counties[coop % len(counties)]
        product = COUNTY_PRODUCT.get(county, "咸宁桂花")
        sheet.append(
            [
                f"B-HH-{i:05d}",
                f"农户{i}",
                "农户",
                county,
                "",
                f"4212**********{i % 1000:03d}X",
                "",
                f"B-COOP-{coop:04d}",
                product,
            ]
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url")
    parser.add_argument("--organizations", type=int, default=1000)
    args = parser.parse_args()
    tmp = tempfile.TemporaryDirectory(prefix="yt-roster-")
    url = args.database_url or f"sqlite:///{tmp.name}/roster.db"
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
        from app.orgs import service as orgs
        from app.orgs.models import Organization

        upgrade()
        load_catalog_file(default_catalog_path())
        orgs.create_organization(code="OFFICE", name="试点办", kind="regulator", county="咸宁市")
        orgs.create_user(username="bench-admin", org_code="OFFICE", role="admin")
        _, token = orgs.create_token("bench-admin")
        db.session.commit()
        data = roster(args.organizations)
        client = app.test_client()
        headers = {"Authorization": f"Bearer {token}"}
        print(f"database: {url.split('@')[-1]}; roster: {args.organizations} organizations, {len(data) / 1024:.0f} KiB")
        for label in ("first import", "same file again"):
            started = time.perf_counter()
            response = client.post(
                "/api/v1/organizations/import",
                headers=headers,
                data={"file": (io.BytesIO(data), "roster.xlsx")},
                content_type="multipart/form-data",
            )
            elapsed = time.perf_counter() - started
            body = response.get_json()
            print(
                f"{label:16} {elapsed:6.2f} s  HTTP {response.status_code}  "
                f"created {body.get('created')} updated {body.get('updated')} unchanged {body.get('unchanged')}"
            )
            assert response.status_code == 201, body
        stored = db.session.scalar(select(func.count()).select_from(Organization))
        print(f"organizations stored: {stored} (target: the first import under 10 s)")
        db.session.remove()
        db.engine.dispose()
    tmp.cleanup()


if __name__ == "__main__":
    main()
