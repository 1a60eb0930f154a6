"""The permission matrix: every operation in the OpenAPI document, for every role and an outsider.

The table below *is* the access policy as a caller meets it (app/access.py states it in words;
the README's "Who may do what" repeats it). Each operation is sent once per column, with a valid
body, against one small world, each request in a savepoint rolled back afterwards so no request
sees another's effects. An operation in the OpenAPI document but not in the table fails the test,
and so does a row for an operation that no longer exists.

The world (see ``world``): a farm household ``HH`` (the farmer) is a member of a cooperative
(coop). HH produced and holds lot ``B``: a planting with a pesticide, then a harvest inside its
pre-harvest interval, which opened finding ``F`` (HH has recorded a corrective action); HH split
``B`` (transformation ``S``), and shipped ``B`` once to the logistics firm, which rejected it (so
the logistics firm reads ``B``). HH holds lot ``B2``, with transfer ``X`` to the processor
pending (so the processor reads ``B2`` but not ``B``), and lot ``B4``, recalled by the inspector
(recall ``R``). The retailer and the outsider (a farmer of an unrelated household) have nothing
to do with any of it.

Cells: ``ok`` is any 2xx or 3xx; otherwise the status expected. 404 is how a hidden object
answers, exactly like a missing one; 403 means "you may see it, but not do this"; 422 where the
object is named in the body (a lot one may not read is a bad field, not a missing page).
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest
from flask import current_app
from sqlalchemy import select

from app.auth import Actor
from app.batches import service as batches
from app.checkpoints import service as checkpoints
from app.checkpoints.keys import load_signer
from app.commitments import service as commitments
from app.compliance import findings, inspections, standards
from app.custody import service as custody
from app.db import db
from app.holds import service as holds
from app.labels import runs as label_runs
from app.labels.models import Unit
from app.lineage import service as lineage
from app.orgs import service as orgs
from app.orgs.models import User
from app.recalls import service as recalls
from tests.conftest import settle, valid_credit_code
from tests.office.conftest import roster_xlsx

ROLES = ("anon", "farmer", "coop", "proc", "logi", "retail", "insp", "lab", "admin", "outsider")

# operation                                          anon farmer coop proc logi retail insp lab admin outsider
MATRIX = """
GET  /api/v1/products                                 ok   ok   ok   ok   ok   ok   ok   ok   ok   ok
GET  /api/v1/products/{key}                           ok   ok   ok   ok   ok   ok   ok   ok   ok   ok
GET  /api/v1/standards                                ok   ok   ok   ok   ok   ok   ok   ok   ok   ok
GET  /api/v1/standards/{standard_id}                  ok   ok   ok   ok   ok   ok   ok   ok   ok   ok
GET  /api/v1/standards/compare                         ok   ok   ok   ok   ok   ok   ok   ok   ok   ok
GET  /api/v1/standards/coverage                        ok   ok   ok   ok   ok   ok   ok   ok   ok   ok
POST /api/v1/standards                                401  ok   403  403  403  403  403  403  ok   403
GET  /api/v1/public/{public_code}                     ok   ok   ok   ok   ok   ok   ok   ok   ok   ok
GET  /api/v1/public/{public_code}/proof               ok   ok   ok   ok   ok   ok   ok   ok   ok   ok
GET  /api/v1/checkpoints                              ok   ok   ok   ok   ok   ok   ok   ok   ok   ok
GET  /api/v1/checkpoints/latest                       ok   ok   ok   ok   ok   ok   ok   ok   ok   ok
GET  /api/v1/checkpoints/{checkpoint_id}              ok   ok   ok   ok   ok   ok   ok   ok   ok   ok
GET  /api/v1/checkpoints/key                          ok   ok   ok   ok   ok   ok   ok   ok   ok   ok

POST /api/v1/organizations                            401  403  403  403  403  403  403  403  ok   403
PATCH /api/v1/organizations/{org_id}               401  403  403  403  403  403  403  403  ok   403
GET  /api/v1/organizations                            401  403  403  403  403  403  403  403  ok   403
POST /api/v1/users                                    401  403  403  403  403  403  403  403  ok   403
GET  /api/v1/users                                    401  403  403  403  403  403  403  403  ok   403
POST /api/v1/sites                                    401  ok   ok   ok   ok   ok   403  403  ok   ok
GET  /api/v1/sites                                    401  ok   ok   ok   ok   ok   ok   ok   ok   ok
GET  /api/v1/imports/events/template.xlsx             401  ok   ok   ok   ok   ok   ok   ok   ok   ok
POST /api/v1/imports/events                           401  422  422  422  422  422  422  422  422  422
POST /api/v1/organizations/import                     401  403  403  403  403  403  403  403  ok   403
GET  /api/v1/organizations/import/template.xlsx       401  403  403  403  403  403  403  403  ok   403
GET  /api/v1/office/audit                             401  403  403  403  403  403  403  403  ok   403
GET  /api/v1/office/summary                           401  403  403  403  403  403  403  403  ok   403
POST /api/v1/office/standards                         401  403  403  403  403  403  403  403  422  403
GET  /api/v1/office/standards                         401  403  403  403  403  403  403  403  ok   403
PATCH /api/v1/office/standards/{record_id}            401  403  403  403  403  403  403  403  422  403

POST /api/v1/batches                                  401  ok   ok   ok   403  403  403  403  403  ok
GET  /api/v1/batches                                  401  ok   ok   ok   ok   ok   ok   ok   ok   ok
GET  /api/v1/batches/{batch_id}                       401  ok   ok   404  ok   404  ok   ok   ok   404
POST /api/v1/batches/{batch_id}/events                401  ok   403  404  403  404  403  403  403  404
GET  /api/v1/batches/{batch_id}/events                401  ok   ok   404  ok   404  ok   ok   ok   404
POST /api/v1/events/bulk                              401  ok   422  422  422  422  422  422  422  422
POST /api/v1/sync                                     401  ok   ok   ok   ok   ok   403  403  403  ok
GET  /api/v1/batches/{batch_id}/verify                401  ok   ok   404  ok   404  ok   ok   ok   404
GET  /api/v1/batches/{batch_id}/qr.png                401  ok   ok   404  ok   404  ok   ok   ok   404
GET  /api/v1/batches/{batch_id}/qr.svg                401  ok   ok   404  ok   404  ok   ok   ok   404

POST /api/v1/batches/{batch_id}/split                 401  ok   403  404  403  404  403  403  403  404
POST /api/v1/transformations                          401  ok   403  422  403  422  403  403  403  422
GET  /api/v1/transformations/{transformation_id}      401  ok   ok   404  ok   404  ok   ok   ok   404
GET  /api/v1/batches/{batch_id}/trace                 401  ok   ok   404  ok   404  ok   ok   ok   404
GET  /api/v1/batches/{batch_id}/verify-lineage        401  ok   ok   404  ok   404  ok   ok   ok   404

POST /api/v1/batches/{batch_id}/transfers             401  ok   403  404  403  404  403  403  403  404
GET  /api/v1/transfers                                401  ok   ok   ok   ok   ok   ok   ok   ok   ok
GET  /api/v1/transfers/{transfer_id}                  401  ok   ok   ok   404  404  ok   ok   ok   404
POST /api/v1/transfers/{transfer_id}/accept           401  403  403  ok   404  404  403  403  403  404
POST /api/v1/transfers/{transfer_id}/reject           401  403  403  ok   404  404  403  403  403  404

POST /api/v1/batches/{batch_id}/standards             401  ok   403  404  403  404  403  403  403  404
POST /api/v1/batches/{batch_id}/inspections           401  403  403  403  403  403  ok   ok   403  403
POST /api/v1/batches/{batch_id}/reviews               401  403  403  403  403  403  ok   403  403  403
GET  /api/v1/batches/{batch_id}/compliance            401  ok   ok   404  ok   404  ok   ok   ok   404
GET  /api/v1/batches/{batch_id}/compliance.pdf        401  ok   ok   404  ok   404  ok   ok   ok   404
GET  /api/v1/findings                                 401  ok   ok   ok   ok   ok   ok   ok   ok   ok
POST /api/v1/findings/{finding_id}/actions            401  ok   403  404  403  404  403  403  403  404
POST /api/v1/findings/{finding_id}/close              401  403  403  403  403  403  ok   403  ok   403

POST /api/v1/certifications                           401  403  403  403  403  403  ok   403  ok   403
GET  /api/v1/certifications                           401  ok   ok   ok   ok   ok   ok   ok   ok   ok
GET  /api/v1/batches/{batch_id}/certifications        401  ok   ok   404  ok   404  ok   ok   ok   404

POST /api/v1/recalls                                  401  ok   403  422  403  422  ok   403  ok   422
GET  /api/v1/recalls                                  401  ok   ok   ok   ok   ok   ok   ok   ok   ok
GET  /api/v1/recalls/{recall_id}                      401  ok   ok   404  404  404  ok   ok   ok   404
POST /api/v1/recalls/{recall_id}/close                401  403  403  404  404  404  ok   403  ok   404
GET  /api/v1/recalls/{recall_id}/export.csv           401  ok   ok   404  404  404  ok   ok   ok   404
GET  /api/v1/recalls/{recall_id}/export.xlsx          401  ok   ok   404  404  404  ok   ok   ok   404

POST /api/v1/batches/{batch_id}/dispositions          401  403  403  404  403  404  409  403  409  404

POST /api/v1/batches/{batch_id}/commitment-certificates  401  ok   403  404  403  404  403  403  403  404
GET  /api/v1/commitment-certificates/{certificate_id}      401  ok   ok   404  404  404  ok   ok   ok   404
GET  /api/v1/commitment-certificates/{certificate_id}.pdf  401  ok   ok   404  404  404  ok   ok   ok   404
POST /api/v1/commitment-certificates/{certificate_id}/receipts  401  409  403  404  404  404  403  403  403  404
POST /api/v1/batches/{batch_id}/label-runs            401  ok   403  404  403  404  403  403  403  404
GET  /api/v1/jobs/{job_id}                            401  ok   404  404  404  404  ok   ok   ok   404
GET  /api/v1/label-runs/{run_id}.pdf                  401  ok   404  404  404  404  403  403  403  404
GET  /api/v1/label-runs/{run_id}.zpl                  401  ok   404  404  404  404  403  403  403  404
GET  /api/v1/label-runs/{run_id}.tspl                 401  ok   404  404  404  404  403  403  403  404
GET  /api/v1/label-runs/{run_id}/units.csv            401  ok   404  404  404  404  403  403  403  404
POST /api/v1/label-runs/{run_id}/void                 401  ok   404  404  404  404  403  403  403  404
POST /api/v1/units/{serial}/void                      401  ok   404  404  404  404  403  403  403  404
POST /api/v1/units/{serial}/verify                    ok   ok   ok   ok   ok   ok   ok   ok   ok   ok
GET  /api/v1/label-alerts                             401  ok   ok   ok   ok   ok   ok   ok   ok   ok
"""

# Who finds the world's records in the lists (the same rules, as the lists apply them).
LISTED = """
list                                  anon farmer coop proc logi retail insp lab admin outsider
/api/v1/batches                -      no   yes  yes  no   yes  no   yes  yes  yes  no
/api/v1/findings               -      no   yes  yes  no   yes  no   yes  yes  yes  no
/api/v1/recalls                -      no   yes  yes  no   no   no   yes  yes  yes  no
"""


def parse(table: str) -> dict[str, dict[str, str]]:
    rows: dict[str, dict[str, str]] = {}
    for line in table.strip().splitlines():
        if not line.strip():
            continue
        method, path, *cells = line.split()
        assert len(cells) == len(ROLES), f"{method} {path}: {len(cells)} cells for {len(ROLES)} roles"
        rows[f"{method} {path}"] = dict(zip(ROLES, cells, strict=True))
    return rows


T0 = dt.datetime(2026, 4, 1, 8, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def _actor(user: User) -> Actor:
    return Actor(user=user, org=user.organization)


@pytest.fixture
def world(make_org, make_user, app, monkeypatch) -> dict[str, Any]:
    coop_org = make_org(kind="cooperative")
    hh = make_org(kind="farm_household", cooperative_code=coop_org.code)
    users = {
        "farmer": make_user("farmer", org=hh),
        "coop": make_user("cooperative", org=coop_org),
        "proc": make_user("processor"),
        "logi": make_user("logistics"),
        "retail": make_user("retailer"),
        "insp": make_user("inspector"),
        "lab": make_user("lab"),
        "admin": make_user("admin"),
        "outsider": make_user("farmer"),
    }
    farmer = _actor(users["farmer"])

    def lot(quantity: str = "100") -> Any:
        return batches.create_batch(farmer, product="loquat", quantity=Decimal(quantity), unit="kg")

    b = lot()
    batches.append_event(
        b.id, farmer, stage="planting", occurred_at=T0,
        data={"inputs": [{"kind": "pesticide", "name": "多菌灵", "dose": "50", "dose_unit": "mL/亩",
                          "applied_at": T0.isoformat(), "phi_days": 21}]},
    )  # fmt: skip
    batches.append_event(
        b.id, farmer, stage="harvest", occurred_at=T0 + dt.timedelta(days=9), data={"quantity": "100", "unit": "kg"}
    )
    [finding] = findings.findings_of(b)
    findings.record_action(farmer, finding.id, "sprayed lots kept apart")
    # The breach failed the lot and put it on hold; the farmer corrects the mistyped spraying
    # date and the inspector releases the lot, so the world's lot takes splits and transfers.
    batches.append_event(
        b.id, farmer, stage="amendment", occurred_at=T0, amends_seq=2,
        data={"reason": "施药日期录错", "data": {"inputs": [{"kind": "pesticide", "name": "多菌灵", "dose": "50",
              "dose_unit": "mL/亩", "applied_at": (T0 - dt.timedelta(days=20)).isoformat(), "phi_days": 21}]}},
    )  # fmt: skip
    holds.record_disposition(_actor(users["insp"]), b.id, kind="released", note="核对农事记录原件")
    split = lineage.split_batch(farmer, b.id, parts=[Decimal("10")], occurred_at=T0 + dt.timedelta(days=10))
    shipped = custody.create_transfer(
        farmer, b.id, to_org=users["logi"].organization.code, occurred_at=T0 + dt.timedelta(days=11)
    )
    custody.reject_transfer(_actor(users["logi"]), shipped.id, reason="no cold truck free")

    b2 = lot()
    pending = custody.create_transfer(
        farmer, b2.id, to_org=users["proc"].organization.code, occurred_at=T0 + dt.timedelta(days=12)
    )
    # A pesticide found on B that no limit covers: its row awaits an inspector's review.
    inspections.record_inspection(
        _actor(users["insp"]), b.id, report_no="XN-PERM-0", lab="咸宁市农产品质量检测中心",
        sampled_at=T0 + dt.timedelta(days=10), tested_at=T0 + dt.timedelta(days=10),
        results=[{"parameter": "pesticide.chlorpyrifos", "value": Decimal("0.02"), "unit": "mg/kg"}],
    )  # fmt: skip
    b4 = lot()
    recall = recalls.open_recall(_actor(users["insp"]), batch_id=b4.id, reason="label misprint", severity="III")
    own_standard = standards.register_standard(
        farmer, code="Q/HH 0001S-2026", title_zh="家庭农场枇杷企业标准", products=["loquat"], owner_org_id=hh.id,
        requirements=[{"parameter": "lead", "unit": "mg/kg", "comparator": "<=", "limit": Decimal("0.1")}],
    )  # fmt: skip
    # b3's certificate: its issuer (the farmer) holds it, so a receipt is refused by its state.
    b3 = lot()
    certificate = commitments.issue_certificate(farmer, b3.id, contact="0715-8000000", basis="quality_control")
    # A label run of B, made inline (no worker in this test) by its producer and custodian.
    monkeypatch.setitem(app.config, "REDIS_URL", None)
    run = label_runs.create_run(farmer, b.id, 2, "a4_24")
    serial = db.session.scalars(select(Unit.serial).where(Unit.run_id == run.id)).first()
    checkpoint = checkpoints.create_checkpoint(load_signer(current_app.config), dt.datetime.now(dt.UTC)).checkpoint
    assert checkpoint is not None
    settle()
    headers = {"anon": {}}
    for role, user in users.items():
        _, secret = orgs.create_token(user.username)
        headers[role] = {"Authorization": f"Bearer {secret}"}
    settle()
    return {
        "headers": headers,
        "hh": {"id": hh.id, "code": hh.code},
        "params": {
            "batch_id": b.id,
            "org_id": hh.id,
            "transfer_id": pending.id,
            "transformation_id": split.transformation.id,
            "finding_id": finding.id,
            "recall_id": recall.id,
            "standard_id": own_standard.id,
            "key": "loquat",
            # B2's: open to everyone like any lot's. (B holds a result awaiting review, which the
            # consumer page does not render yet: issue 9's page half.)
            "public_code": b2.public_code,
            "checkpoint_id": checkpoint.id,
            "record_id": 1,
            "certificate_id": certificate.id,
            "job_id": run.job_id,
            "run_id": run.id,
            "serial": serial,
        },
        "b": b.id,
        "finding": finding.id,
        "recall": recall.id,
        "retailer_code": users["retail"].organization.code,
        "standard": own_standard.id,
    }


def request_for(op: str, w: dict[str, Any]) -> dict[str, Any]:
    """The query string or body that makes ``op`` valid, so only the policy can refuse it."""
    now = dt.datetime.now(dt.UTC).isoformat()
    hh, b = w["hh"], w["b"]  # plain values: the ORM objects do not outlive the savepoints
    bodies: dict[str, Any] = {
        "POST /api/v1/standards": {
            "code": "Q/HH 0002S-2026", "title_zh": "枇杷企业标准二", "products": ["loquat"], "owner_org_id": hh["id"],
            "requirements": [{"parameter": "lead", "unit": "mg/kg", "comparator": "<=", "limit": "0.1"}],
        },
        "PATCH /api/v1/organizations/{org_id}": {"contact_phone": "0715-0000000"},
        "POST /api/v1/organizations": {
            "code": "NEWCOOP", "name": "新合作社", "kind": "cooperative", "credit_code": valid_credit_code(99_001),
        },
        "POST /api/v1/users": {"username": "new-user", "org": hh["code"], "role": "farmer"},
        "POST /api/v1/sites": {"name": "新地块", "kind": "plot"},
        "POST /api/v1/batches": {"product": "loquat", "quantity": "5", "unit": "kg"},
        "POST /api/v1/batches/{batch_id}/events": {
            "stage": "storage", "occurred_at": now, "data": {"temperature_c": 4, "humidity_pct": 90},
        },
        "POST /api/v1/events/bulk": {"events": [
            {"batch": b, "stage": "storage", "occurred_at": now, "data": {"temperature_c": 4, "humidity_pct": 90}},
        ]},
        # Each item is answered on its own (created or rejected) inside a 200: the role is what is refused.
        "POST /api/v1/sync": {
            "writes": [{"client_id": "perm-1", "kind": "site", "body": {"name": "地块", "kind": "plot"}}],
        },
        "POST /api/v1/batches/{batch_id}/split": {"parts": [{"quantity": "5"}]},
        "POST /api/v1/transformations": {
            "inputs": [{"batch": b, "quantity": "5"}],
            "outputs": [{"product": "loquat", "quantity": "5", "unit": "kg"}],
            "occurred_at": now,
        },
        "POST /api/v1/batches/{batch_id}/transfers": {"to_org": w["retailer_code"], "occurred_at": now},
        "POST /api/v1/transfers/{transfer_id}/accept": {},
        "POST /api/v1/transfers/{transfer_id}/reject": {"reason": "not ordered"},
        "POST /api/v1/batches/{batch_id}/standards": {"standard": w["standard"]},
        "POST /api/v1/batches/{batch_id}/inspections": {
            "report_no": "XN-PERM-1", "lab": "咸宁市农产品质量检测中心",
            "sampled_at": "2026-04-12T09:00:00+08:00", "tested_at": "2026-04-13T09:00:00+08:00",
            "results": [{"parameter": "lead", "value": "0.01", "unit": "mg/kg"}],
        },
        "POST /api/v1/batches/{batch_id}/reviews": {
            "parameter": "pesticide.chlorpyrifos", "decision": "fail", "basis": "GB 2763-2026: no MRL for 枇杷",
        },
        "POST /api/v1/findings/{finding_id}/actions": {"note": "moved to cold store"},
        "POST /api/v1/findings/{finding_id}/close": {"note": "checked on site"},
        "POST /api/v1/certifications": {
            "kind": "green_food", "number": "LB-PERM-1", "issuer": "中国绿色食品发展中心", "holder": hh["code"],
            "product": "loquat", "valid_from": "2026-01-01",
        },
        "POST /api/v1/recalls": {"batch": b, "reason": "residue", "severity": "II"},
        "POST /api/v1/recalls/{recall_id}/close": {"reason": "all withdrawn"},
        # The world's lot was released: an inspector or admin is refused by its state (409), not its role.
        "POST /api/v1/batches/{batch_id}/dispositions": {"kind": "returned", "note": "退回供货方"},
        "POST /api/v1/batches/{batch_id}/commitment-certificates": {
            "contact": "0715-8000001", "basis": "quality_control",
        },
        "POST /api/v1/batches/{batch_id}/label-runs": {"count": 2, "template": "zpl"},
        "POST /api/v1/label-runs/{run_id}/void": {"first": 1, "last": 1, "reason": "misprint"},
        "POST /api/v1/units/{serial}/void": {"reason": "damaged roll"},
        "POST /api/v1/units/{serial}/verify": {"pin": "00000000"},
    }  # fmt: skip
    if op == "POST /api/v1/organizations/import":
        row = ["NEWCOOP2", "新合作社二", "合作社", "通山县", valid_credit_code(99_002), "", "", "", ""]
        roster = roster_xlsx([row])
        return {"data": {"file": (io.BytesIO(roster), "roster.xlsx")}, "content_type": "multipart/form-data"}
    queries = {
        "GET /api/v1/transfers": {"direction": "incoming"},
        "GET /api/v1/standards/compare": {"product": "mahua", "parameter": "lead"},
        "GET /api/v1/standards/coverage": {"product": "loquat"},
        "GET /api/v1/imports/events/template.xlsx": {"product": "loquat", "stage": "harvest"},
    }
    method = op.split()[0]
    if method == "GET":
        return {"query_string": queries.get(op, {})}
    return {"json": bodies.get(op, {})}


def status_class(status: int) -> str:
    return "ok" if 200 <= status < 400 else str(status)


def send(client: Any, op: str, w: dict[str, Any], role: str) -> str:
    """Send ``op`` as ``role`` in a savepoint that is rolled back: nothing it does outlives it."""
    method, template = op.split()
    url = template.format(**w["params"])
    db.session.commit()
    connection = db.session.get_bind()
    savepoint = connection.begin_nested()
    try:
        response = client.open(url, method=method, headers=w["headers"][role], **request_for(op, w))
        return status_class(response.status_code)
    finally:
        savepoint.rollback()
        db.session.remove()


def operations(client: Any) -> set[str]:
    doc = client.get("/api/v1/openapi.json").get_json()
    return {
        f"{method.upper()} {path}"
        for path, item in doc["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    }


def test_the_matrix_covers_every_operation_in_the_openapi_document(client):
    documented, tabled = operations(client), set(parse(MATRIX))
    assert documented - tabled == set(), "operations missing from MATRIX"
    assert tabled - documented == set(), "MATRIX rows for operations the API no longer has"


def test_every_role_gets_what_the_matrix_says(client, world):
    expected = parse(MATRIX)
    wrong = []
    for op, cells in expected.items():
        for role in ROLES:
            got = send(client, op, world, role)
            if got != cells[role]:
                wrong.append(f"{op:55} {role:9} expected {cells[role]:4} got {got}")
    assert not wrong, "\n" + "\n".join(wrong)


def test_lists_show_what_each_role_may_read(client, world):
    wanted = {"/api/v1/batches": ("id", world["b"]), "/api/v1/findings": ("id", world["finding"]),
              "/api/v1/recalls": ("id", world["recall"])}  # fmt: skip
    wrong = []
    for line in LISTED.strip().splitlines()[1:]:
        path, _, *cells = line.split()
        key, value = wanted[path]
        for role, cell in zip(ROLES, cells, strict=True):
            if role == "anon":
                continue
            response = client.get(path, headers=world["headers"][role])
            assert response.status_code == 200, (path, role, response.get_json())
            body = response.get_json()
            listed = any(item[key] == value for item in body["items"])
            if listed != (cell == "yes"):
                wrong.append(f"{path} {role}: expected {cell}")
    assert not wrong, "\n" + "\n".join(wrong)


def test_every_list_answers_items_and_meta_with_a_total(client):
    """One list envelope everywhere: a response with ``items`` also has ``meta.total``."""
    doc = client.get("/api/v1/openapi.json").get_json()
    schemas = doc["components"]["schemas"]
    lists = {name: s for name, s in schemas.items() if "items" in s.get("properties", {})}
    assert lists, "no list schemas found"
    for name, schema in lists.items():
        assert "meta" in schema.get("required", []), f"{name} has items but no meta"
        meta = schema["properties"]["meta"]["$ref"].rsplit("/", 1)[-1]
        assert "total" in schemas[meta]["required"], f"{name}.meta has no total"
