"""Fixtures for the consumer page tests: a loquat batch with a full journey, settled in the test's transaction."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.compliance.conftest import make_batch, producer  # noqa: F401 - test_public_summary.py uses them
from tests.conftest import settle
from tests.public.builders import Journey, build_journey


@pytest.fixture
def make_journey(app) -> Callable[..., Journey]:
    def make(**kwargs) -> Journey:
        journey = build_journey(**kwargs)
        settle()
        return journey

    return make


@pytest.fixture
def journey(make_journey) -> Journey:
    return make_journey()
