"""The doors (issue 12): control characters, exports, hostile bodies, authentication before
validation, passwords, the session key, security headers, a database outage and the bounds.

Everything through the HTTP client, as a caller meets it; app/security.py holds the rules.
"""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from app import create_app
from app.auth import Actor
from app.batches import service as batches
from app.config import DEFAULT_SECRET_KEY, ConfigError, instance_secret_key
from app.db import db
from app.security import (
    MAX_CONTENT_LENGTH,
    MAX_PACKING_COUNT,
    MAX_SPLIT_PARTS,
    common_passwords,
    json_nesting_depth,
)
from tests.conftest import settle
from tests.web.conftest import desk, inspector  # noqa: F401  (fixtures)

SHIPPED = "2026-05-02T09:00:00+08:00"


@pytest.fixture
def holder(make_user, auth):
    """A processor with a token and a 500 kg brick tea lot it holds."""
    user = make_user("processor")
    batch = batches.create_batch(
        Actor(user=user, org=user.organization), product="brick_tea", quantity=Decimal("500"), unit="kg"
    )
    settle()
    return {"user": user, "headers": auth(user=user), "batch": batch}


def _event(client: Any, holder: dict[str, Any], stage: str, data: dict[str, Any]) -> Any:
    return client.post(
        f"/api/v1/batches/{holder['batch'].id}/events",
        json={"stage": stage, "occurred_at": SHIPPED, "data": data},
        headers=holder["headers"],
    )


# --- 1. Control characters -------------------------------------------------------------------


@pytest.mark.parametrize("char", ["\x01", "\x08", "\x0b", "\x0c", "\r", "\x1b", "\x1f", "\x7f"])
def test_control_characters_are_refused_naming_the_field(client, auth, holder, char):
    response = client.post(
        "/api/v1/recalls",
        json={"batch": holder["batch"].id, "reason": f"农药{char}残留", "severity": "I"},
        headers=auth("inspector"),
    )
    assert response.status_code == 422, response.get_json()
    [reason] = response.get_json()["errors"]["json"]["reason"]
    assert "control characters" in reason


def test_control_characters_are_refused_in_nested_lists_free_form_data_and_queries(client, holder):
    nested = client.post(
        f"/api/v1/batches/{holder['batch'].id}/split",
        json={"parts": [{"quantity": "1"}, {"quantity": "1", "lot_code": "A\x02B"}]},
        headers=holder["headers"],
    )
    assert nested.status_code == 422
    [reason] = nested.get_json()["errors"]["json"]["parts"]
    assert reason.startswith("1.lot_code: text cannot contain control characters"), reason

    step = {"name": "杀青", "started_at": SHIPPED, "parameters": {"机器\x03": "1"}}
    free_form = _event(client, holder, "processing", {"steps": [step]})
    assert free_form.status_code == 422
    assert "control characters" in str(free_form.get_json()["errors"]["json"]["data"])

    query = client.get("/api/v1/batches", query_string={"product": "brick\x1btea"}, headers=holder["headers"])
    assert query.status_code == 422
    assert "control characters" in query.get_json()["errors"]["query"]["product"][0]


def test_tab_and_newline_are_text(client, holder):
    response = _event(client, holder, "seedling", {"note": "第一行\n\t第二行"})
    assert response.status_code == 201, response.get_json()


# --- 1 and 2. Exports escape what is stored and never write a formula --------------------------


def _stored_recall(client, auth, make_org, make_user, reason: str) -> tuple[int, dict[str, str]]:
    """A recall of a lot held by an organization whose name starts with '='; ``reason`` stored as
    given, past the API's checks, as a row written before them (or by hand) would be."""
    org = make_org(kind="processor", name='=HYPERLINK("http://evil.example","点击")')
    owner = make_user("processor", org=org)
    batch = batches.create_batch(Actor(user=owner, org=org), product="brick_tea", quantity=Decimal("5"), unit="kg")
    settle()
    inspector_headers = auth("inspector")
    created = client.post(
        "/api/v1/recalls", json={"batch": batch.id, "reason": "待定", "severity": "I"}, headers=inspector_headers
    )
    assert created.status_code == 201, created.get_json()
    recall_id = created.get_json()["id"]
    db.session.execute(text("UPDATE recalls SET reason = :r WHERE id = :id"), {"r": reason, "id": recall_id})
    settle()
    return recall_id, inspector_headers


def test_the_xlsx_export_escapes_stored_control_characters_and_writes_no_formula(client, auth, make_org, make_user):
    recall_id, headers = _stored_recall(client, auth, make_org, make_user, "=1+1 农药\x01残留\x1f")
    response = client.get(f"/api/v1/recalls/{recall_id}/export.xlsx", headers=headers)
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    about = {row[0].value: row[1] for row in book["说明 About"].iter_rows()}
    reason = about["原因 Reason"]
    assert reason.value == "=1+1 农药\\x01残留\\x1f"
    assert reason.data_type == "s"  # a string, never a formula
    sheet = book.worksheets[0]
    holders = [c for row in sheet.iter_rows(min_row=2) for c in row if str(c.value).startswith("=HYPERLINK")]
    assert holders, "the holder's name is in the sheet"
    assert all(c.data_type == "s" for c in holders)


def test_the_csv_export_escapes_and_neutralizes_formulas(client, auth, make_org, make_user):
    recall_id, headers = _stored_recall(client, auth, make_org, make_user, "x\x01y")
    response = client.get(f"/api/v1/recalls/{recall_id}/export.csv", headers=headers)
    assert response.status_code == 200
    cells = [c for row in csv.reader(io.StringIO(response.data.decode("utf-8-sig"))) for c in row]
    assert '\'=HYPERLINK("http://evil.example","点击")' in cells
    assert not any(c.startswith(("=", "+", "-", "@", "\t", "\r")) for c in cells)
    assert not any(re.search(r"[\x00-\x08\x0b-\x1f\x7f]", c) for c in cells)


# --- 3. Hostile bodies -------------------------------------------------------------------------


def test_deeply_nested_json_is_a_400_before_parsing(client, holder):
    for body in ("[" * 100_000 + "]" * 100_000, '{"a":' * 50_000 + "1" + "}" * 50_000, "[" * 200_000):
        response = client.post("/api/v1/batches", data=body, content_type="application/json", headers=holder["headers"])
        assert response.status_code == 400
        payload = response.get_json()
        assert payload["code"] == 400 and payload["status"] == "Bad Request"
        assert "nested too deep" in payload["message"]


def test_brackets_inside_strings_do_not_count():
    assert json_nesting_depth(b'{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\"[[["}') == 1
    assert json_nesting_depth(b'[[{"x": [1]}]]') == 4


def test_a_body_past_the_limit_is_a_413_in_the_json_shape(client, holder):
    body = '{"note": "' + "x" * (MAX_CONTENT_LENGTH + 1) + '"}'
    response = client.post(
        f"/api/v1/batches/{holder['batch'].id}/events",
        data=body,
        content_type="application/json",
        headers=holder["headers"],
    )
    assert response.status_code == 413
    assert response.get_json()["code"] == 413


def test_stage_data_nested_too_deep_is_refused_by_field(client, holder):
    deep: dict[str, Any] = {"v": 1}
    for _ in range(6):
        deep = {"k": deep}
    step = {"name": "杀青", "started_at": SHIPPED, "parameters": deep}
    response = _event(client, holder, "processing", {"steps": [step]})
    assert response.status_code == 422
    assert "nested too deep" in response.get_json()["errors"]["json"]["data"][0]


# --- 4. Authentication before validation ------------------------------------------------------


def _openapi_operations(client: Any) -> list[tuple[str, str]]:
    """Every operation of the OpenAPI document, its path parameters filled with 1."""
    doc = client.get("/api/v1/openapi.json").get_json()
    return [
        (method.upper(), re.sub(r"\{[^}]+\}", "1", path))
        for path, item in doc["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    ]


def _needs_login(app, method: str, path: str) -> bool:
    endpoint, _ = app.url_map.bind("localhost").match(path, method=method)
    return bool(getattr(app.view_functions[endpoint], "requires_login", False))


def test_every_operation_needing_a_login_is_a_401_without_one_whatever_the_body(app, client):
    operations = _openapi_operations(client)
    needing = [op for op in operations if _needs_login(app, *op)]
    assert len(needing) >= 30, needing
    garbage = {"no_such_field": "\x00", "quantity": "lots", "batch": -1, "parts": "x" * 50}
    for method, path in needing:
        for headers in ({}, {"Authorization": "Bearer yt_not-a-token"}, {"Authorization": "Basic eDp5"}):
            response = client.open(
                path, method=method, json=garbage, query_string={"page": "x", "bogus": "1"}, headers=headers
            )
            assert response.status_code == 401, (method, path, headers, response.get_json())
            assert response.get_json()["code"] == 401
            assert response.headers["WWW-Authenticate"] == "Bearer"
    # The rest is public: products, standards, the consumer JSON and QR, the checkpoint log, and a
    # consumer's PIN check of a labelled unit.
    public = sorted(set(operations) - set(needing))
    assert all(p.startswith(("/api/v1/products", "/api/v1/standards", "/api/v1/public", "/api/v1/checkpoints"))
               or (p.startswith("/api/v1/units/") and p.endswith("/verify")) for _, p in public), public  # fmt: skip
    for method, path in public:
        assert client.open(path, method=method).status_code != 401, (method, path)


def test_a_role_that_may_not_act_is_a_403_before_validation(client, auth):
    response = client.post("/api/v1/organizations", json={"bogus": 1}, headers=auth("farmer"))
    assert response.status_code == 403


# --- 5. Passwords ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short-pw-1", "at least 12 characters"),
        ("password1234", "too common"),
        ("Xianning-carol99-tea", "must not contain the username"),
    ],
)
def test_a_weak_password_is_refused_naming_the_field_and_the_reason(client, auth, make_org, password, reason):
    org = make_org()
    response = client.post(
        "/api/v1/users",
        json={"username": "Carol99", "org": org.code, "role": "farmer", "password": password},
        headers=auth("admin"),
    )
    assert response.status_code == 422, response.get_json()
    [said] = response.get_json()["errors"]["json"]["password"]
    assert reason in said


def test_a_good_password_is_accepted(client, auth, make_org):
    org = make_org()
    response = client.post(
        "/api/v1/users",
        json={"username": "carol", "org": org.code, "role": "farmer", "password": "桂花-osmanthus-雨季"},
        headers=auth("admin"),
    )
    assert response.status_code == 201, response.get_json()


def test_the_cli_applies_the_same_policy(app, make_org):
    org = make_org()
    result = app.test_cli_runner().invoke(
        args=["users", "create", "dave", "--org", org.code, "--role", "farmer", "--password", "dave-dave-dave-1"]
    )
    assert result.exit_code != 0
    assert "password" in result.output and "must not contain the username" in result.output


def test_the_shipped_list_is_real_and_the_demo_passwords_pass():
    from app.demo.loader import DEMO_PASSWORDS
    from app.security import password_problem

    assert len(common_passwords()) > 19_000 and "iloveyou" in common_passwords()
    for username, password in DEMO_PASSWORDS.items():
        assert password_problem(password, username) is None, username


# --- 6. The session key ------------------------------------------------------------------------


def test_a_key_is_generated_once_into_instance(tmp_path):
    key = instance_secret_key(str(tmp_path))
    assert len(key) >= 32 and key != DEFAULT_SECRET_KEY
    assert instance_secret_key(str(tmp_path)) == key
    assert (tmp_path / "secret-key").stat().st_mode & 0o077 == 0


def test_workers_starting_together_share_one_key(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(lambda _: instance_secret_key(str(tmp_path)), range(16)))
    assert len(keys) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["secret-key"]


def test_outside_production_the_app_never_signs_with_the_published_default(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("APP_ENV", raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/x.db")
    app = create_app({"TESTING": True})
    assert app.config["SECRET_KEY"] not in ("", DEFAULT_SECRET_KEY)
    assert app.config["SECRET_KEY"] == instance_secret_key(app.instance_path)


def test_production_refuses_to_start_without_a_key(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/x.db")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app({"TESTING": True})


# --- 7. Security headers -----------------------------------------------------------------------


def test_pages_carry_a_policy_whose_nonce_matches_their_inline_style(client):
    response = client.get("/login")
    assert response.status_code == 200
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    html = response.get_data(as_text=True)
    styles = re.findall(r"<style([^>]*)>", html)
    assert styles and all(f'nonce="{nonce}"' in s for s in styles)
    assert " style=" not in html and "<script" not in html


def test_error_pages_json_and_stylesheets_get_nosniff(client):
    missing = client.get("/t/nothing-here")
    assert "frame-ancestors 'none'" in missing.headers["Content-Security-Policy"]
    products = client.get("/api/v1/products")
    assert products.headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" not in products.headers
    sheet = client.get("/static/css/base.css")
    assert sheet.status_code == 200 and sheet.mimetype == "text/css"
    assert sheet.headers["X-Content-Type-Options"] == "nosniff"
    sheet.close()


def test_no_template_has_inline_script_or_style_attributes(app):
    from pathlib import Path

    root = Path(app.root_path)
    for template in root.rglob("*.html"):
        source = template.read_text(encoding="utf-8")
        assert not re.search(r"\sstyle=", source), template
        assert not re.search(r"<script(?![^>]*\ssrc=)", source), template
        assert not re.search(r"\son[a-z]+=", source), template
        for tag in re.findall(r"<style[^>]*>", source):
            assert "csp_nonce()" in tag, template


# --- 8. A database outage ----------------------------------------------------------------------


@pytest.mark.committing  # the app's own session, not one bound to the test's connection
def test_an_unreachable_database_is_a_503_with_retry_after(monkeypatch):
    monkeypatch.delenv("APP_ENV", raising=False)
    down = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-" + "x" * 32,
            # Port 1 on the loopback: nothing listens, the connection is refused at once.
            "SQLALCHEMY_DATABASE_URI": "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2",
        }
    )
    with down.test_client() as client:
        response = client.get("/api/v1/standards")
        assert response.status_code == 503
        assert response.headers["Retry-After"].isdigit()
        assert response.get_json()["status"] == "Service Unavailable"
        page = client.get("/t/some-code")
        assert page.status_code == 503 and page.headers["Retry-After"]
    with down.app_context():
        db.engine.dispose()


def test_a_connection_lost_mid_request_is_a_503(client, monkeypatch):
    def gone(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("SELECT 1", {}, ConnectionError("server closed the connection unexpectedly"))

    monkeypatch.setattr(db.session, "scalars", gone)
    monkeypatch.setattr(db.session, "execute", gone)
    response = client.get("/api/v1/standards")
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert response.get_json()["code"] == 503


# --- 9. Bounds ---------------------------------------------------------------------------------


def test_a_packing_count_past_the_bound_is_refused(client, holder):
    for stage, data in (("seedling", {}), ("planting", {}), ("harvest", {"quantity": "5", "unit": "kg"})):
        assert _event(client, holder, stage, data).status_code == 201
    steps = {"steps": [{"name": "压制", "started_at": SHIPPED}]}
    assert _event(client, holder, "processing", steps).status_code == 201
    response = _event(client, holder, "packing", {"package": "箱", "count": MAX_PACKING_COUNT + 1})
    assert response.status_code == 422
    assert "count" in response.get_json()["errors"]["json"]["data"]


def test_a_split_into_too_many_parts_is_refused_before_any_lock(client, holder):
    parts = [{"quantity": "0.001"}] * (MAX_SPLIT_PARTS + 1)
    response = client.post(
        f"/api/v1/batches/{holder['batch'].id}/split", json={"parts": parts}, headers=holder["headers"]
    )
    assert response.status_code == 422
    assert "parts" in response.get_json()["errors"]["json"]


def test_a_too_large_quantity_says_it_is_too_large(client, holder):
    response = client.post(
        "/api/v1/batches",
        json={"product": "brick_tea", "quantity": "10000000000000000", "unit": "kg"},
        headers=holder["headers"],
    )
    assert response.status_code == 422
    [reason] = response.get_json()["errors"]["json"]["quantity"]
    assert "too large" in reason


def test_the_desk_refuses_a_control_character_in_a_note(desk, make_user, auth):  # noqa: F811
    from sqlalchemy import select

    from app.compliance.models import Finding
    from tests.compliance.factories import new_batch, post_inspection
    from tests.web.conftest import csrf_from

    coop = make_user("cooperative")
    batch = new_batch(coop, "brick_tea")
    lead = [{"parameter": "lead", "value": "8", "unit": "mg/kg"}]
    assert post_inspection(desk, auth("inspector"), batch.id, lead).status_code == 201
    finding = db.session.scalar(select(Finding).where(Finding.batch_id == batch.id))
    token = csrf_from(desk.get(f"/desk/batches/{batch.id}").get_data(as_text=True))
    refused = desk.post(f"/desk/findings/{finding.id}/close", data={"note": "下架\x1b[2J", "csrf_token": token})
    assert refused.status_code == 302
    page = desk.get(f"/desk/batches/{batch.id}").get_data(as_text=True)
    assert "说明不能包含控制字符" in page
    db.session.refresh(finding)
    assert not finding.steps or all("\x1b" not in (s.note or "") for s in finding.steps)
