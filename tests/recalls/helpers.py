"""Helpers for the recall tests."""

from __future__ import annotations


def open_recall(client, headers, batch, severity="I", reason="农药残留超标 pesticide residue over the limit"):
    return client.post(
        "/api/v1/recalls", json={"batch": batch.id, "reason": reason, "severity": severity}, headers=headers
    )
