"""Benchmark: does the trace cost follow the size of the answer, not of the database?

Builds two PostgreSQL databases of synthetic genealogy with bulk inserts (no HTTP), the big one
ten times the small one, each made of identical "families" of brick-tea lots:

    10 household lots  --merge-->  1 cooperative lot  --split-->  2 processing lots
    --press-->  2 pressed lots  --split-->  10 distribution lots  --split-->  50 wholesale lots
    --split-->  935 retail packs (each with a recorded sale)

A household lot has exactly 1,000 descendants, six steps deep. 100 families make the big
database (1,000 household lots, 101,000 batches), 10 the small one (10,100 batches). The big one
also holds a shared input lot that went into the cooperative lots of its first ten families: it
has 10,000 descendants.

In the same run it times, on both databases, the API's trace (``tracing.trace``: one recursive
query plus building the answer) downstream from a household lot and upstream from a retail pack,
checks the answers have the same shape, prints the medians and the big/small ratio (target:
under 1.5), shows whether PostgreSQL walks ``lineage_edges`` through its indexes, and times
opening a recall on a household lot (1,000 descendants) and on the shared input lot (10,000
descendants) on the big database. On the small one it times the inspector's desk list (a page
of 50 out of 10,100 batches, each with its standards bound and its verdict stored, as every batch
the service creates has), through the app with a signed-in inspector, and counts its queries.

    python scripts/bench_lineage.py [--admin-url postgresql://postgres@127.0.0.1/postgres]
                                    [--repeat 25] [--keep]

The databases yt_lineage_big and yt_lineage_small are created and dropped by the script.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.engine import make_url

from app import create_app
from app.auth import Actor
from app.batches import chain
from app.batches.models import Batch, Event
from app.catalog.service import default_catalog_path, load_catalog_file
from app.db import db
from app.lineage import trace as tracing
from app.lineage.models import LineageEdge
from app.orgs import service as orgs
from app.orgs.models import Organization, User
from app.recalls import service as recalls

BIG, SMALL = "yt_lineage_big", "yt_lineage_small"
HOUSEHOLDS_PER_FAMILY = 10
PACKS_PER_WHOLESALE = [19] * 35 + [18] * 15  # 935 retail packs over 50 wholesale lots
T0 = dt.datetime(2026, 4, 1, 8, 0, tzinfo=dt.UTC)


# ---------------------------------------------------------------------------------------------
# Databases
# ---------------------------------------------------------------------------------------------


def _admin(admin_url: str, sql: str) -> None:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(sql))
    engine.dispose()


def _db_url(admin_url: str, name: str) -> str:
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def make_app(url: str) -> Flask:
    return create_app({"SQLALCHEMY_DATABASE_URI": url})


@contextmanager
def fresh_database(admin_url: str, name: str, keep: bool) -> Iterator[str]:
    _admin(admin_url, f"DROP DATABASE IF EXISTS {name}")
    _admin(admin_url, f"CREATE DATABASE {name}")
    try:
        yield _db_url(admin_url, name)
    finally:
        if not keep:
            _admin(admin_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


# ---------------------------------------------------------------------------------------------
# The synthetic genealogy, inserted in bulk
# ---------------------------------------------------------------------------------------------


class Genealogy:
    """Rows for organizations, batches, edges and sale events, with ids assigned here."""

    def __init__(self, families: int, shared_root_families: int = 0) -> None:
        self.families = families
        self.shared_root_families = shared_root_families
        self.shared_root: int | None = None
        self.orgs: list[dict[str, Any]] = []
        self.batches: list[dict[str, Any]] = []
        self.edges: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.org_codes: dict[int, str] = {}
        self.household_lots: list[int] = []
        self.retail_packs: list[int] = []
        self.batch_ids: list[int] = []
        self._build()

    def drop_rows(self) -> None:
        """Let go of the rows once they are inserted, keeping the ids the timings need.

        A hundred thousand dicts kept alive would make every garbage collection during a timed
        call walk them (a recall of 10,000 lots measured 3x slower with them held): a server's
        worker holds no such thing.
        """
        self.batch_ids = [b["id"] for b in self.batches]
        self.orgs, self.batches, self.edges, self.events = [], [], [], []
        gc.collect()

    def _org(self, code: str, kind: str, county: str = "赤壁市") -> int:
        org_id = len(self.orgs) + 1
        # Bulk rows skip the service, so no credit code is needed: these orgs never meet a user.
        self.orgs.append({"id": org_id, "code": code, "name": code, "kind": kind, "county": county})
        self.org_codes[org_id] = code
        return org_id

    def _batch(self, family: int, level: str, quantity: str, unit: str, producer: int, custodian: int) -> int:
        batch_id = len(self.batches) + 1
        self.batches.append(
            {
                "id": batch_id,
                "lot_code": f"BT-BENCH-{family:03d}-{level}-{batch_id:06d}",
                "product_key": "brick_tea",
                "quantity": Decimal(quantity),
                "unit": unit,
                "status": "active",
                "public_code": f"bench{batch_id:011d}",
                "custodian_org_id": custodian,
                "producer_org_id": producer,
                "produced_at": T0,
                "created_at": T0,
                "head_seq": 0,
                "head_hash": chain.GENESIS,
            }
        )
        return batch_id

    def _edge(self, source: int, target: int, quantity: str, kind: str) -> None:
        self.edges.append(
            {
                "id": len(self.edges) + 1,
                "input_batch_id": source,
                "output_batch_id": target,
                "quantity": Decimal(quantity),
                "kind": kind,
                "occurred_at": T0,
            }
        )

    def _sale(self, batch: dict[str, Any], retailer: int) -> None:
        """A sale as the pack's first event, hashed like the append path does, so its chain verifies."""
        data = {"channel": "门店 store"}
        digest = chain.ChainFields(
            lot_code=batch["lot_code"], seq=1, stage="sale", occurred_at=T0, recorded_at=T0,
            actor_org=self.org_codes[retailer], actor_user=None, site_id=None, data=data, amends_seq=None,
            prev_hash=chain.GENESIS,
        ).digest()  # fmt: skip
        self.events.append(
            {
                "id": len(self.events) + 1, "batch_id": batch["id"], "seq": 1, "stage": "sale", "occurred_at": T0,
                "recorded_at": T0, "actor_org_id": retailer, "data": data, "prev_hash": chain.GENESIS, "hash": digest,
            }
        )  # fmt: skip
        batch["head_seq"], batch["head_hash"] = 1, digest

    def _build(self) -> None:
        processor = self._org("BENCH-PROC", "processor")
        retailers = [self._org(f"BENCH-RETAIL-{n:02d}", "retailer", "咸安区") for n in range(20)]
        for family in range(self.families):
            coop = self._org(f"BENCH-COOP-{family:03d}", "cooperative")
            households = [
                self._org(f"BENCH-HH-{family:03d}-{n}", "farm_household") for n in range(HOUSEHOLDS_PER_FAMILY)
            ]
            lots = [self._batch(family, "HH", "100", "kg", h, h) for h in households]
            self.household_lots.extend(lots)
            merged = self._batch(family, "COOP", "1000", "kg", coop, coop)
            for lot in lots:
                self._edge(lot, merged, "100", "merge")
            if family < self.shared_root_families:
                if self.shared_root is None:
                    # A lot the first families' cooperatives all took a share of (here: of tea leaf).
                    self.shared_root = self._batch(family, "SHARED", "100", "kg", processor, processor)
                self._edge(self.shared_root, merged, "10", "merge")
            wholesale_index = 0
            for _ in range(2):
                processing = self._batch(family, "PROC", "500", "kg", coop, processor)
                self._edge(merged, processing, "500", "split")
                pressed = self._batch(family, "PRESS", "400", "kg", processor, processor)
                self._edge(processing, pressed, "500", "transformation")
                for _ in range(5):
                    distribution = self._batch(family, "DIST", "80", "kg", processor, processor)
                    self._edge(pressed, distribution, "80", "split")
                    for _ in range(5):
                        wholesale = self._batch(family, "WHSL", "16", "kg", processor, processor)
                        self._edge(distribution, wholesale, "16", "split")
                        retailer = retailers[wholesale % len(retailers)]
                        for _ in range(PACKS_PER_WHOLESALE[wholesale_index]):
                            pack = self._batch(family, "PACK", "0.8", "kg", processor, retailer)
                            self._edge(wholesale, pack, "0.8", "split")
                            self._sale(self.batches[pack - 1], retailer)
                            self.retail_packs.append(pack)
                        wholesale_index += 1

    def insert(self) -> None:
        session = db.session
        chunk = 5000
        for table, rows in (
            (Organization.__table__, self.orgs),
            (Batch.__table__, self.batches),
            (LineageEdge.__table__, self.edges),
            (Event.__table__, self.events),
        ):
            for start in range(0, len(rows), chunk):
                session.execute(insert(table), rows[start : start + chunk])
        # Ids were given explicitly: move each sequence past them, as the app's own inserts need.
        for table in ("organizations", "batches", "lineage_edges", "events"):
            session.execute(
                # The table names are the constants above, never input.
                text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")  # noqa: S608
            )
        session.commit()
        session.execute(text("ANALYZE"))
        session.commit()


# ---------------------------------------------------------------------------------------------
# Measuring
# ---------------------------------------------------------------------------------------------


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Median wall time in milliseconds over ``repeat`` runs after two warm-ups, and the last result."""
    result = None
    for _ in range(2):
        result = fn()
    samples = []
    for _ in range(repeat):
        db.session.expire_all()
        start = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), result


def plan(root_id: int, direction: str) -> tuple[list[str], float]:
    """The lineage_edges indexes PostgreSQL used for the trace statement, and its median execution time (ms)."""
    statement = tracing.trace_statement(root_id, direction, tracing.MAX_TRACE_DEPTH + 1)
    compiled = statement.compile(dialect=db.session.get_bind().dialect)
    lines = [
        row[0]
        for row in db.session.connection().exec_driver_sql(
            "EXPLAIN (ANALYZE, FORMAT TEXT) " + str(compiled), compiled.params
        )
    ]
    indexes = sorted({line.split(" using ")[1].split(" ")[0] for line in lines if " using ix_lineage_edges" in line})
    exec_ms = next(float(line.split(":")[1].split("ms")[0]) for line in lines if "Execution Time" in line)
    return indexes, exec_ms


def measure(url: str, families: int, repeat: int, shared_root_families: int = 0) -> dict[str, Any]:
    app = make_app(url)
    with app.app_context():
        started = time.perf_counter()
        upgrade()
        load_catalog_file(default_catalog_path())
        db.session.commit()
        genealogy = Genealogy(families, shared_root_families)
        genealogy.insert()
        load_s = time.perf_counter() - started
        counts = {
            "batches": len(genealogy.batches), "households": len(genealogy.household_lots),
            "edges": len(genealogy.edges), "events": len(genealogy.events),
        }  # fmt: skip
        genealogy.drop_rows()
        # A household lot and a retail pack from the middle family: same shape in both databases.
        middle = families // 2
        household = genealogy.household_lots[middle * HOUSEHOLDS_PER_FAMILY]
        pack = genealogy.retail_packs[middle * sum(PACKS_PER_WHOLESALE) + 7]
        down_ms, down = timed(lambda: tracing.trace(household, "downstream", tracing.MAX_TRACE_DEPTH), repeat)
        up_ms, up = timed(lambda: tracing.trace(pack, "upstream", tracing.MAX_TRACE_DEPTH), repeat)
        down_plan, down_sql = plan(household, "downstream")
        up_plan, up_sql = plan(pack, "upstream")
        figures = {
            **counts,
            "load_s": load_s,
            "down_ms": down_ms,
            "down_sql_ms": down_sql,
            "down_shape": (len(down.nodes), len(down.edges), max(n.depth for n in down.nodes)),
            "down_indexes": down_plan,
            "up_ms": up_ms,
            "up_sql_ms": up_sql,
            "up_shape": (len(up.nodes), len(up.edges), max(n.depth for n in up.nodes)),
            "up_indexes": up_plan,
            "genealogy": genealogy,
        }
        db.session.remove()
        db.engine.dispose()
    return figures


def time_recalls(url: str, genealogy: Genealogy) -> list[tuple[float, int, int]]:
    """Open a recall as the API does (commit included), on a household lot (1,000 descendants)
    and on the shared input lot (10,000): (seconds, lots recalled, sales listed) for each."""
    app = make_app(url)
    timings = []
    with app.app_context():
        regulator = orgs.create_organization(code="BENCH-SAMR", name="咸宁市市场监督管理局", kind="regulator")
        user = orgs.create_user(username="bench-inspector", org_code=regulator.code, role="inspector")
        db.session.commit()
        user_id, regulator_id = user.id, regulator.id
        # A household of a family the shared lot did not reach: the two recalls share no lot.
        household = genealogy.household_lots[genealogy.shared_root_families * HOUSEHOLDS_PER_FAMILY + 1]
        for root in (household, genealogy.shared_root):
            assert root is not None
            actor = Actor(user=db.session.get(User, user_id), org=db.session.get(Organization, regulator_id))
            start = time.perf_counter()
            recall = recalls.open_recall(actor, batch_id=root, reason="benchmark", severity="I")
            report = recalls.recall_report(recall)
            body = recalls.report_body(report)
            db.session.commit()
            elapsed = time.perf_counter() - start
            timings.append((elapsed, body["summary"]["batches"], body["summary"]["sales"]))
            db.session.expunge_all()
        db.session.remove()
        db.engine.dispose()
    return timings


def _store_verdicts(genealogy: Genealogy) -> None:
    """Bind each batch's standards and store its verdict, as the service does for every batch it creates.

    In bulk: every synthetic lot is brick tea with the same dates and no test report, so each is
    judged alike; a sample is judged one by one to check that, and each batch's fingerprint is its own.
    """
    from app.batches.models import BatchStandard
    from app.catalog.models import ProductLine
    from app.catalog.service import applicable_mandatory
    from app.compliance import presenters, verdicts
    from app.compliance.evaluation import evaluate_batch
    from app.compliance.models import BatchVerdict

    line = db.session.get(ProductLine, "brick_tea")
    assert line is not None
    bound = [("mandatory", s.id) for s in applicable_mandatory("brick_tea")]
    bound += [("default", s.id) for s in line.default_standards if s.id not in {i for _, i in bound}]
    ids = genealogy.batch_ids
    rows = [{"batch_id": i, "standard_id": sid, "source": src, "bound_at": T0} for i in ids for src, sid in bound]
    for start in range(0, len(rows), 5000):
        db.session.execute(insert(BatchStandard.__table__), rows[start : start + 5000])
    db.session.commit()
    sample = [db.session.get(Batch, i) for i in ids[:: max(1, len(ids) // 10)]]
    results = [presenters.verdict_result(evaluate_batch(b)) for b in sample if b is not None]
    assert all(r == results[0] for r in results), "the synthetic lots are not all judged alike"
    now = dt.datetime.now(dt.UTC)
    for start in range(0, len(ids), 500):
        chunk = list(db.session.scalars(select(Batch).where(Batch.id.in_(ids[start : start + 500]))))
        prints = verdicts.fingerprints(chunk)
        db.session.execute(
            insert(BatchVerdict.__table__),
            [{"batch_id": b.id, "verdict": results[0]["verdict"], "result": results[0], "fingerprint": prints[b.id],
              "computed_at": now} for b in chunk],
        )  # fmt: skip
        db.session.expunge_all()
    db.session.commit()


def time_desk(url: str, genealogy: Genealogy, repeat: int) -> dict[int, tuple[float, int, int]]:
    """The desk's batch list as a signed-in inspector gets it: per page asked, (median ms, queries, rows)."""
    import re

    from sqlalchemy import event

    app = make_app(url)
    out: dict[int, tuple[float, int, int]] = {}
    with app.app_context():
        _store_verdicts(genealogy)
        regulator = orgs.create_organization(code="BENCH-DESK", name="咸宁市市场监督管理局", kind="regulator")
        password = "xianning-regulator-2026"
        orgs.create_user(username="bench-desk", org_code=regulator.code, role="inspector", password=password)
        db.session.commit()
        client = app.test_client()
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True))
        assert token is not None
        signed = client.post("/login", data={"username": "bench-desk", "password": password, "csrf_token": token[1]})
        assert signed.status_code == 302, signed.status_code
        statements: list[str] = []
        event.listen(db.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
        last = -(-len(genealogy.batch_ids) // 50)
        for page in (1, last // 2, last):

            def get(page: int = page) -> str:
                response = client.get(f"/desk/batches?page={page}")
                assert response.status_code == 200, response.status_code
                return response.get_data(as_text=True)

            ms, html = timed(get, repeat)
            statements.clear()
            get()
            out[page] = (ms, len(statements), html.count('data-lot="'))
        db.session.remove()
        db.engine.dispose()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--admin-url",
        default=os.environ.get("BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="a PostgreSQL URL whose user may create and drop databases",
    )
    parser.add_argument("--repeat", type=int, default=25, help="timed runs per trace (median is printed)")
    parser.add_argument("--keep", action="store_true", help="keep the two databases afterwards")
    args = parser.parse_args()

    results: dict[str, dict[str, Any]] = {}
    with fresh_database(args.admin_url, SMALL, args.keep) as small_url:
        results["small"] = measure(small_url, 10, args.repeat)
        desk = time_desk(small_url, results["small"]["genealogy"], args.repeat)
    with fresh_database(args.admin_url, BIG, args.keep) as big_url:
        results["big"] = measure(big_url, 100, args.repeat, shared_root_families=10)
        recall_timings = time_recalls(big_url, results["big"]["genealogy"])

    small, big = results["small"], results["big"]
    print("Lineage trace on PostgreSQL: cost against database size")
    for name, r in (("small", small), ("big", big)):
        print(
            f"  {name:5}  {r['batches']:>7,} batches  {r['households']:>5,} household lots  {r['edges']:>7,} edges  "
            f"{r['events']:>6,} sale events  (built and loaded in {r['load_s']:.1f} s)"
        )
    print()
    print(f"  {'trace':44} {'small':>9} {'big':>9} {'big/small':>10}   answer (nodes, edges, depth)")
    ok = True
    for key, label in (
        ("down", "downstream of a household lot (API call)"),
        ("up", "upstream of a retail pack (API call)"),
    ):
        ratio = big[f"{key}_ms"] / small[f"{key}_ms"]
        sql_ratio = big[f"{key}_sql_ms"] / small[f"{key}_sql_ms"]
        same = small[f"{key}_shape"] == big[f"{key}_shape"]
        ok = ok and same and ratio < 1.5
        shape = f"{big[key + '_shape']}" + ("" if same else f"  (small: {small[key + '_shape']})")
        print(f"  {label:44} {small[key + '_ms']:>7.2f}ms {big[key + '_ms']:>7.2f}ms {ratio:>10.2f}   {shape}")
        print(
            f"  {'  of which the query (EXPLAIN ANALYZE)':44} {small[key + '_sql_ms']:>7.2f}ms "
            f"{big[key + '_sql_ms']:>7.2f}ms {sql_ratio:>10.2f}   indexes: {', '.join(big[key + '_indexes']) or 'none'}"
        )
    print()
    print(f"  target: big/small under 1.5 -> {'met' if ok else 'NOT met'}")
    for recall_s, affected, sales in recall_timings:
        print(
            f"  open a recall on a lot with {affected - 1:,} descendants (big database): {recall_s:.2f} s "
            f"({affected:,} lots recalled, each with a chain record; {sales:,} sales listed; commit included)"
        )
    print(f"  desk batch list, a page of 50 out of {small['batches']:,} batches (small database, signed-in inspector):")
    for page, (ms, queries, rows) in desk.items():
        print(f"    page {page:>3}: {ms:6.2f} ms median, {queries} queries, {rows} rows")
    print()
    # The lines the project's checks read (issue 13), one per figure.
    for recall_s, affected, _sales in recall_timings:
        print(f"recall {affected - 1} descendants: {recall_s:.2f} s")
    print(f"downstream trace of {big['down_shape'][0] - 1} nodes: {big['down_ms']:.2f} ms")
    worst = max(desk.values())
    print(f"desk batch list page: {worst[0]:.1f} ms, {max(q for _, q, _ in desk.values())} queries")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
