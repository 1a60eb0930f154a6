"""Configuration read once from the environment in ``create_app``."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import argon2

from app.security import MAX_CONTENT_LENGTH

DEFAULT_SECRET_KEY = "dev-only-not-secret"  # noqa: S105 - refused in production, see validate()


class ConfigError(RuntimeError):
    """The environment does not describe a runnable service."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_key: str
    public_base_url: str
    redis_url: str | None
    env: str
    public_page_cache_seconds: float
    public_page_cache_entries: int
    # argon2's cost for password hashes: argon2-cffi's defaults unless the environment says.
    password_hash_time_cost: int
    password_hash_memory_cost: int  # KiB
    password_hash_parallelism: int

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, instance_path: str = "instance") -> Settings:
        env = os.environ if environ is None else environ
        default_db = "sqlite:///" + str(Path(instance_path).resolve() / "youpin.db")
        return cls(
            database_url=normalize_database_url(env.get("DATABASE_URL") or default_db),
            secret_key=env.get("SECRET_KEY") or DEFAULT_SECRET_KEY,
            public_base_url=(env.get("PUBLIC_BASE_URL") or "http://127.0.0.1:5000").rstrip("/"),
            redis_url=env.get("REDIS_URL") or None,
            env=(env.get("APP_ENV") or env.get("FLASK_ENV") or "development").lower(),
            public_page_cache_seconds=_number(env, "PUBLIC_PAGE_CACHE_SECONDS", 60.0),
            public_page_cache_entries=int(_number(env, "PUBLIC_PAGE_CACHE_ENTRIES", 1000)),
            password_hash_time_cost=int(_number(env, "PASSWORD_HASH_TIME_COST", argon2.DEFAULT_TIME_COST)),
            password_hash_memory_cost=int(_number(env, "PASSWORD_HASH_MEMORY_COST", argon2.DEFAULT_MEMORY_COST)),
            password_hash_parallelism=int(_number(env, "PASSWORD_HASH_PARALLELISM", argon2.DEFAULT_PARALLELISM)),
        )

    def validate(self) -> None:
        if self.env == "production" and self.secret_key == DEFAULT_SECRET_KEY:
            raise ConfigError(
                "SECRET_KEY is unset or the development default; set a long random SECRET_KEY "
                "before starting with APP_ENV=production"
            )
        if not self.public_base_url.startswith(("http://", "https://")):
            raise ConfigError(f"PUBLIC_BASE_URL must start with http:// or https://, got {self.public_base_url!r}")

    def flask_config(self) -> dict[str, Any]:
        return {
            "SQLALCHEMY_DATABASE_URI": self.database_url,
            "SQLALCHEMY_ENGINE_OPTIONS": engine_options(self.database_url),
            "SECRET_KEY": self.secret_key,
            "PUBLIC_BASE_URL": self.public_base_url,
            "REDIS_URL": self.redis_url,
            # Every key this app writes to Redis (sessions, login limits) starts with it.
            "REDIS_KEY_PREFIX": "youpin:",
            "PUBLIC_PAGE_CACHE_SECONDS": self.public_page_cache_seconds,
            "PUBLIC_PAGE_CACHE_ENTRIES": self.public_page_cache_entries,
            "PASSWORD_HASH_TIME_COST": self.password_hash_time_cost,
            "PASSWORD_HASH_MEMORY_COST": self.password_hash_memory_cost,
            "PASSWORD_HASH_PARALLELISM": self.password_hash_parallelism,
            "APP_ENV": self.env,
            "API_TITLE": "Youpin Trace 咸宁优品溯源",
            "API_VERSION": "v1",
            "OPENAPI_VERSION": "3.0.3",
            "OPENAPI_URL_PREFIX": "/api",
            "OPENAPI_JSON_PATH": "v1/openapi.json",
            "OPENAPI_SWAGGER_UI_PATH": "docs",
            "OPENAPI_SWAGGER_UI_URL": "/api/docs/assets/",
            "BABEL_DEFAULT_LOCALE": "zh",
            "BABEL_SUPPORTED_LOCALES": ["zh", "en"],
            "JSON_SORT_KEYS": False,
            # Bodies past this are a 413 before anything reads them (app/security.py).
            "MAX_CONTENT_LENGTH": MAX_CONTENT_LENGTH,
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "SESSION_COOKIE_SECURE": self.public_base_url.startswith("https://"),
        }


def instance_secret_key(instance_path: str) -> str:
    """The key that signs sessions when none is configured outside production: generated once into
    ``instance/secret-key`` (readable by its owner only) and read from there afterwards, so a
    development server never signs with a value published in this repository."""
    path = Path(instance_path) / "secret-key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written whole under a private name, then linked into place: two workers starting at once
        # both end up reading the one key that won, never a half-written file.
        draft = path.with_name(f".secret-key.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(48) + "\n")
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    key = path.read_text().strip()
    if len(key) < 32:
        raise ConfigError(f"{path} holds no usable key; delete it to have a new one generated")
    return key


def _number(env: Any, name: str, default: float) -> float:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if value < 0:
        raise ConfigError(f"{name} cannot be negative, got {raw!r}")
    return value


def normalize_database_url(url: str) -> str:
    """Route plain ``postgresql://`` URLs to psycopg 3, the only driver we ship."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def engine_options(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        # Writers queue on SQLite's lock instead of failing at once.
        return {"connect_args": {"timeout": 30}}
    return {"pool_pre_ping": True}
