"""Fixtures for the tampering suite: the batch, checkpoint and compliance factories it shares."""

from __future__ import annotations

from tests.batches.conftest import make_batch, party  # noqa: F401  (fixtures)
from tests.checkpoints.conftest import checkpoint, cli, signing_key  # noqa: F401  (fixtures)
