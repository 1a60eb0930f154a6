"""The factory, configuration, health check and the error shape."""

from __future__ import annotations

import argon2
import pytest

from app import FEATURE_BLUEPRINTS, create_app
from app.config import ConfigError, Settings


def test_factory_builds_an_app_without_touching_the_database(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/x.db")
    app = create_app({"TESTING": True})
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("/x.db")
    assert not (tmp_path / "x.db").exists()


def test_production_refuses_the_default_secret():
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        Settings.from_env({"APP_ENV": "production"}).validate()
    Settings.from_env({"APP_ENV": "production", "SECRET_KEY": "x" * 40}).validate()


def test_postgres_urls_use_psycopg3():
    s = Settings.from_env({"DATABASE_URL": "postgresql://u@h/db"})
    assert s.database_url == "postgresql+psycopg://u@h/db"


def test_passwords_hash_at_argon2s_own_cost_unless_the_environment_says():
    defaults = Settings.from_env({}).flask_config()
    assert [defaults[f"PASSWORD_HASH_{name}"] for name in ("TIME_COST", "MEMORY_COST", "PARALLELISM")] == [
        argon2.DEFAULT_TIME_COST,
        argon2.DEFAULT_MEMORY_COST,
        argon2.DEFAULT_PARALLELISM,
    ]
    assert Settings.from_env({"PASSWORD_HASH_TIME_COST": "5"}).password_hash_time_cost == 5
    with pytest.raises(ConfigError, match="PASSWORD_HASH_MEMORY_COST"):
        Settings.from_env({"PASSWORD_HASH_MEMORY_COST": "lots"})


def test_public_base_url_must_be_http():
    with pytest.raises(ConfigError, match="PUBLIC_BASE_URL"):
        Settings.from_env({"PUBLIC_BASE_URL": "trace.example.cn"}).validate()


def test_healthz_reports_process_and_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["process"]["ok"] is True
    assert body["database"]["ok"] is True


@pytest.mark.parametrize(
    ("method", "path", "code"),
    [
        ("GET", "/api/v1/nowhere", 404),
        ("GET", "/api/v1/standards/999999", 404),
        ("DELETE", "/api/v1/products", 405),
        ("GET", "/api/v1/organizations", 401),
    ],
)
def test_every_api_error_has_one_shape(client, method, path, code):
    response = client.open(path, method=method)
    assert response.status_code == code
    body = response.get_json()
    assert body["code"] == code
    assert isinstance(body["status"], str) and body["status"]
    assert isinstance(body["message"], str) and body["message"]


def test_malformed_json_is_a_400_in_the_same_shape(client, auth):
    response = client.post(
        "/api/v1/organizations", data="{not json", content_type="application/json", headers=auth("admin")
    )
    assert response.status_code == 400
    assert response.get_json()["code"] == 400


def test_unexpected_errors_become_a_logged_500(caplog):
    app = create_app({"TESTING": True, "SWALLOW_ERRORS_IN_TESTS": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})

    @app.get("/api/v1/_boom_for_test")
    def boom():
        raise RuntimeError("boom")

    response = app.test_client().get("/api/v1/_boom_for_test")
    assert response.status_code == 500
    assert response.get_json() == {
        "code": 500,
        "status": "Internal Server Error",
        "message": "Internal error; it has been logged.",
    }
    assert "unhandled error on GET /api/v1/_boom_for_test" in caplog.text


def test_openapi_document_and_docs_page(client):
    spec = client.get("/api/v1/openapi.json")
    assert spec.status_code == 200
    doc = spec.get_json()
    assert doc["openapi"].startswith("3.")
    assert "/api/v1/products" in doc["paths"]
    page = client.get("/api/docs")
    assert page.status_code == 200
    assert b"swagger-ui" in page.data
    asset = client.get("/api/docs/assets/swagger-ui-bundle.js")
    assert asset.status_code == 200
    asset.close()


def test_feature_modules_listed_in_the_factory_exist():
    import importlib.util

    missing = [m for m in FEATURE_BLUEPRINTS if importlib.util.find_spec(m) is None]
    assert missing == [], f"listed in FEATURE_BLUEPRINTS but not present: {missing}"


def test_unknown_query_parameters_are_refused_by_name(client):
    """A misspelt filter must not silently list everything."""
    response = client.get("/api/v1/standards?prodcut=loquat")
    assert response.status_code == 422
    assert "prodcut" in response.get_json()["errors"]["query"]
    # The consumer page's JSON twin tolerates a shop's tracking parameters on a scanned link.
    assert client.get("/api/v1/public/no-such-code?utm_source=wechat").status_code == 404
