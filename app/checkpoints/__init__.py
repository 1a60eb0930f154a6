"""Signed checkpoints: an anchor for the batches' hash chains outside the database (issue 12)."""
