"""Lineage: splits, merges and transformations between lots, the trace and its verification."""
