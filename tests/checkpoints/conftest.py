"""Fixtures for the checkpoint tests: a signing key in the app's configuration, batches with events."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask
from flask.testing import FlaskCliRunner

from app.batches.models import Batch
from tests.batches.conftest import Party, make_batch, party, post_event  # noqa: F401  (fixtures)
from tests.conftest import settle


@pytest.fixture
def signing_key(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[Ed25519PrivateKey]:
    """A fresh Ed25519 key as ``CHECKPOINT_SIGNING_KEY`` (PEM), and no witnesses."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    monkeypatch.setitem(app.config, "CHECKPOINT_SIGNING_KEY", pem.decode())
    monkeypatch.setitem(app.config, "CHECKPOINT_SIGNING_KEY_FILE", None)
    monkeypatch.setitem(app.config, "CHECKPOINT_WITNESSES", [])
    yield key


@pytest.fixture
def cli(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def checkpoint(cli: FlaskCliRunner, signing_key: Ed25519PrivateKey) -> Callable[[], Any]:
    """``checkpoint()`` runs ``flask checkpoints create`` and returns Click's result."""

    def run() -> Any:
        result = cli.invoke(args=["checkpoints", "create"])
        settle()
        return result

    return run


@pytest.fixture
def with_events(client: Any, make_batch: Callable[..., Batch]) -> Callable[..., Batch]:  # noqa: F811 - the fixture
    """``with_events(owner, n)``: a brick tea batch with ``n`` storage records through the API."""

    def make(owner: Party, n: int = 3) -> Batch:
        batch = make_batch(owner)
        for day in range(1, n + 1):
            response = post_event(client, owner, batch.id, "storage", day=f"2026-05-{day:02d}")
            assert response.status_code == 201, response.get_json()
        settle()
        return batch

    return make


def save(tmp_path: Path, name: str, body: Any) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    return path
