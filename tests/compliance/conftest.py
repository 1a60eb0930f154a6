"""Fixtures for the compliance tests: a producing cooperative, an inspector, a batch."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from app.batches.models import Batch
from app.orgs.models import User
from tests.compliance.factories import new_batch


@pytest.fixture
def producer(make_user: Callable[..., User], make_org: Callable[..., Any]) -> User:
    return make_user("cooperative", org=make_org(kind="cooperative", county="赤壁市"))


@pytest.fixture
def producer_headers(auth: Callable[..., dict[str, str]], producer: User) -> dict[str, str]:
    return auth(user=producer)


@pytest.fixture
def inspector_headers(auth: Callable[..., dict[str, str]]) -> dict[str, str]:
    return auth("inspector")


@pytest.fixture
def make_batch(producer: User) -> Callable[..., Batch]:
    def make(product: str = "brick_tea", user: User | None = None, **kw: Any) -> Batch:
        return new_batch(user or producer, product, **kw)

    return make
