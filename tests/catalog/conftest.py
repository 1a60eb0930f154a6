"""Fixtures the catalog's tests borrow: batches (their verdicts name a catalog version) and the CLI."""

from __future__ import annotations

from tests.batches.conftest import make_batch, party  # noqa: F401  (fixtures)
from tests.checkpoints.conftest import cli  # noqa: F401  (fixtures)
