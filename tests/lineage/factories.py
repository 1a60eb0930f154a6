"""Fixtures shared by the lineage and recall tests: batches made through the real service."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from app.auth import Actor
from app.batches import service
from app.batches.models import Batch
from app.db import db
from app.orgs.models import User
from tests.conftest import settle

# A fixed past instant, so every chain record's occurred_at is valid and the same on each run.
T0 = dt.datetime(2026, 5, 1, 8, 0, tzinfo=dt.UTC)


def actor_of(user: User) -> Actor:
    return Actor(user=user, org=user.organization)


@pytest.fixture
def make_batch() -> Callable[..., Batch]:
    """``make_batch(user, quantity="100", unit="kg", product="loquat", **create_batch kwargs)``."""

    def make(
        user: User, quantity: str | Decimal = "100", unit: str = "kg", product: str = "loquat", **kw: Any
    ) -> Batch:
        batch = service.create_batch(
            actor_of(user), product=product, quantity=Decimal(quantity), unit=unit, check_role=False, **kw
        )
        settle()
        return batch

    return make


def reload(batch: Batch) -> Batch:
    """The batch as stored now (a request in between changed it in its own session state)."""
    db.session.expire_all()
    found = db.session.get(Batch, batch.id)
    assert found is not None
    return found


def json_of(response: Any) -> Any:
    body = response.get_json()
    assert body is not None, response.data[:200]
    return body


def expect(response: Any, status: int) -> Any:
    body = response.get_json()
    assert response.status_code == status, (response.status_code, body)
    return body
