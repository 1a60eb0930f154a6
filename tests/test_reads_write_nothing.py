"""A read writes nothing: every GET in the OpenAPI document, the desk's pages and the consumer pages
issue no INSERT, UPDATE or DELETE.

The one exception the rule allows is a record whose purpose is to log a read (a scan log, a
session table): the scans of a labelled unit's page, and the anomaly flags those scans raise
(app/labels/scans.py). A table added to ``READ_LOG_TABLES`` must be one that only logs reads
(it is why a GET's request still ends in a commit: of nothing, or of that log).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event, select

from app.auth import Actor
from app.batches.service import create_batch
from app.catalog.models import Standard
from app.checkpoints.models import Checkpoint
from app.commitments.service import issue_certificate
from app.db import db
from app.labels import runs as label_runs
from app.labels.models import Unit
from app.lineage.models import Transformation
from tests.checkpoints.conftest import checkpoint, cli, signing_key  # noqa: F401  (fixtures)
from tests.compliance.factories import post_inspection
from tests.lineage.factories import make_batch  # noqa: F401  (a fixture the recall chain uses)
from tests.recalls.conftest import chain  # noqa: F401  (a fixture)
from tests.recalls.helpers import open_recall
from tests.web.conftest import sign_in

READ_LOG_TABLES: frozenset[str] = frozenset({"scans", "unit_flags"})
_WRITE = re.compile(
    r"^\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM|REPLACE\s+INTO|MERGE\s+INTO)\s+\"?(\w+)", re.I
)
PASSWORD = "desk-password-1"


class Writes:
    """Every write statement (its table and first line) seen while it listens."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, str]] = []

        self.logged = False  # the open transaction wrote a log of reads (so it may commit)

    def on_statement(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        found = _WRITE.match(statement)
        if found and found.group(1).lower() not in READ_LOG_TABLES:
            self.statements.append((found.group(1), statement.split("\n")[0][:120]))
        elif found:
            self.logged = True

    def on_commit(self, conn: Any, *savepoint: Any) -> None:
        # A read ends its transaction without a COMMIT unless it logged the read.
        if not self.logged:
            self.statements.append(("COMMIT", "a COMMIT of a transaction that wrote nothing"))
        self.logged = False

    @contextmanager
    def listening(self) -> Iterator[Writes]:
        event.listen(db.engine, "before_cursor_execute", self.on_statement)
        event.listen(db.engine, "commit", self.on_commit)
        # The tests run each request in a savepoint: its COMMIT is a RELEASE SAVEPOINT.
        event.listen(db.engine, "release_savepoint", self.on_commit)
        try:
            yield self
        finally:
            event.remove(db.engine, "before_cursor_execute", self.on_statement)
            event.remove(db.engine, "commit", self.on_commit)
            event.remove(db.engine, "release_savepoint", self.on_commit)


@pytest.fixture
def world(client, app, auth, make_user, chain, checkpoint, monkeypatch):  # noqa: F811  (chain, checkpoint: fixtures imported above)
    """A supply chain with lineage, transfers, a sale, an inspection with a finding, a
    certification, a recall and a signed checkpoint over it all; and who reads it: an admin's
    token, a signed-in inspector."""
    admin = auth("admin")
    inspector = make_user("inspector", password=PASSWORD)
    inspector_headers = auth(user=inspector)
    kept = chain["kept"]
    # Lead over the fruit limit (GB 2762: 0.1 mg/kg): a failed verdict with a finding.
    over = [{"parameter": "lead", "value": "0.5", "unit": "mg/kg"}]
    assert post_inspection(client, inspector_headers, kept.id, over).status_code == 201
    certification = {
        "kind": "green_food", "number": "LB-18-2601010001", "issuer": "中国绿色食品发展中心",
        "holder": chain["coop"].code, "product": "loquat", "valid_from": "2025-01-01", "valid_to": "2027-12-31",
    }  # fmt: skip
    assert client.post("/api/v1/certifications", json=certification, headers=admin).status_code == 201

    # A grower's new lot with its 承诺达标合格证.
    grower = make_user("cooperative")
    actor = Actor(user=grower, org=grower.organization)
    fresh = create_batch(actor, product="loquat", quantity=Decimal("50"), unit="kg")
    certificate = issue_certificate(actor, fresh.id, contact="0715-8000000", basis="quality_control")

    # The check can fail: a write does show. Opening a recall inserts rows.
    writes = Writes()
    with writes.listening():
        recall = open_recall(client, inspector_headers, chain["merged"])
    assert recall.status_code == 201, recall.get_json()
    assert {"recalls", "events"} <= {table for table, _ in writes.statements}

    # A label run (made inline) of a lot the cooperative holds, and one of its units.
    monkeypatch.setitem(app.config, "REDIS_URL", None)
    coop_actor = Actor(user=chain["coop_user"], org=chain["coop_user"].organization)
    run = label_runs.create_run(coop_actor, chain["unrelated"].id, 2, "a4_24")
    serial = db.session.scalars(select(Unit.serial).where(Unit.run_id == run.id)).first()
    assert checkpoint().exit_code == 0
    assert sign_in(client, inspector.username, PASSWORD).status_code == 302
    transformation = db.session.scalar(select(Transformation.id).order_by(Transformation.id.desc()).limit(1))
    return {
        "headers": admin,
        "params": {
            "key": "loquat",
            "standard_id": db.session.scalar(select(Standard.id).where(Standard.code == "GB 2762-2022")),
            "batch_id": kept.id,
            "transformation_id": transformation,
            "transfer_id": chain["shipped"]["id"],
            "recall_id": recall.get_json()["id"],
            "public_code": chain["merged"].public_code,
            "checkpoint_id": db.session.scalar(select(Checkpoint.id).order_by(Checkpoint.id.desc()).limit(1)),
            "certificate_id": certificate.id,
            "job_id": run.job_id,
            "run_id": run.id,
        },
        # A run's files (they hold PINs) are its organization's alone.
        "run_owner": auth(user=chain["coop_user"]),
        "unit_pages": [
            f"/u/{serial}",
            f"/u/{serial}?linkType=all",
            f"/u/{serial}?linkType=gs1:pip",
            "/.well-known/gs1resolver",
        ],
        "batches": [chain["merged"], kept, chain["sold"]],
    }


def _fill(path: str, params: dict[str, Any]) -> str:
    def value(found: re.Match[str]) -> str:
        name = found.group(1)
        assert name in params, f"no value for the path parameter {name!r} in {path}"
        return str(params[name])

    return re.sub(r"\{(\w+)\}", value, path)


def _read(client: Any, url: str, writes: Writes, **kwargs: Any) -> int:
    before = len(writes.statements)
    status: int = client.get(url, **kwargs).status_code
    assert len(writes.statements) == before, f"GET {url} wrote: {writes.statements[before:]}"
    return status


def test_no_get_writes_or_commits(client, world):
    spec = client.get("/api/v1/openapi.json").get_json()
    api_paths = {path: operations["get"] for path, operations in spec["paths"].items() if "get" in operations}
    assert len(api_paths) >= 25  # the document was read, not an empty one
    batch_ids = [b.id for b in world["batches"]]
    codes = [b.public_code for b in world["batches"]]
    pages = [
        "/", "/healthz", "/api/docs", "/api/v1/openapi.json", "/login", "/desk/", "/desk/batches",
        "/desk/batches?verdict=fail", "/desk/batches?product=loquat",
        *(f"/desk/batches/{i}{tail}" for i in batch_ids for tail in ("", "/compliance.pdf", "/inspections/new")),
        *(f"/t/{code}{tail}" for code in codes for tail in ("", "/ping", "/qr.png")),
        "/t/no-such-code", "/api/v1/public/no-such-code", *world["unit_pages"],
    ]  # fmt: skip
    writes = Writes()
    statuses: dict[str, int] = {}
    with writes.listening():
        for path, operation in api_paths.items():
            urls = [_fill(path, world["params"])]
            for param in operation.get("parameters", []):
                if param["in"] == "query" and param.get("required"):
                    # Each value a required choice may take (/transfers?direction=incoming|outgoing).
                    urls = [f"{url}?{param['name']}={choice}" for url in urls for choice in param["schema"]["enum"]]
            if "{batch_id}" in path:
                urls += [_fill(path, {**world["params"], "batch_id": i}) for i in batch_ids]
            if "{public_code}" in path:
                urls += [_fill(path, {**world["params"], "public_code": c}) for c in codes]
            headers = world["run_owner"] if path.startswith("/api/v1/label-runs/") else world["headers"]
            for url in urls:
                statuses[url] = _read(client, url, writes, headers=headers)
        for url in pages:
            statuses[url] = _read(client, url, writes)
    failed = {url: status for url, status in statuses.items() if status >= 400 and "no-such-code" not in url}
    # Every page was really served (a 404 or 403 would read less than the page does).
    assert failed == {}, failed
    assert writes.statements == []
