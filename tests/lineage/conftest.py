"""Lineage test fixtures."""

from tests.lineage.factories import make_batch  # noqa: F401  (a fixture)
