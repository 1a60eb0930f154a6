"""Tests of the consumer page, its JSON twin, the index and the translations."""
