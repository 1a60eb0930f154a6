"""The words a batch's chain is written in: the stages of a journey and the system records.

Pure data, imported by everything that reads or writes events (the append path, the journey,
the catalog's product lines, compliance, the pages) and importing nothing of the app itself, so
none of them has to reach into another's service for it.
"""

from __future__ import annotations

# The shared stage vocabulary, in the order a batch normally lives it.
STAGES: tuple[str, ...] = (
    "seedling",
    "planting",
    "harvest",
    "processing",
    "packing",
    "storage",
    "transport",
    "sale",
    "after_sale",
)

# May be recorded any number of times, at any point after the batch exists (invariant 5).
REPEATABLE_STAGES: frozenset[str] = frozenset({"storage", "transport"})

# A correction of an earlier stage event; it names the seq it amends (invariant 1).
AMENDMENT = "amendment"

# Records that are not stages of the product's journey but enter its chain all the same; each is
# written by its own service (custody, lineage, recalls, compliance), never posted as a stage.
SYSTEM_KINDS: frozenset[str] = frozenset(
    {
        AMENDMENT,
        "created",  # opens a batch's chain with its own facts (chain.CREATED)
        "transfer",
        "receipt",
        "transfer_rejected",
        "split",
        "transformation",
        "recall",
        "recall_closed",
        "inspection",
    }
)
