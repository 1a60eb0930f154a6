"""How an error in the demo's data files is named, for the person editing them.

Marshmallow and the services name a field by its path, ``batches.2.events.4.occurred_at``; the
reader of a YAML file wants the entry, ``batch 3 (BT-2026-DEMO-01), event 5 (packing)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from app.errors import DomainError

# How an entry of each list is called, and the fields that name it, the first it has.
ENTRY = {"organizations": "organization", "users": "user", "sites": "site", "batches": "batch", "events": "event",
         "inputs": "input", "steps": "step", "inspections": "inspection", "results": "result",
         "certifications": "certification"}  # fmt: skip
NAMED_BY = ("code", "username", "report_no", "lot_code", "number", "parameter", "stage", "name")


def label(kind: str, position: int, entry: Any) -> str:
    """'batch 3 (BT-2026-DEMO-01)': an entry of a list by its place and, when it has one, its name."""
    name = next((entry[k] for k in NAMED_BY if isinstance(entry, dict) and isinstance(entry.get(k), str)), None)
    return f"{ENTRY.get(kind, kind)} {position}" + (f" ({name})" if name else "")


def describe(within: str, messages: Any, raw: Any) -> str:
    """The first error in ``messages`` (marshmallow's shape) placed in ``raw``, the data it is about.

    List positions become the entries they point at, "batch 3 (BT-2026-DEMO-01), event 5
    (packing)", so the reader of the file finds the entry without counting.
    """
    path = [within]
    # Down the first error's path, to the entry or field it is in; there, every error it has.
    while isinstance(messages, dict) and not all(isinstance(m, list) for m in messages.values()):
        key, messages = next((k, m) for k, m in messages.items() if isinstance(m, dict))
        if isinstance(raw, list) and str(key).isdigit():
            raw = raw[int(key)] if int(key) < len(raw) else None
            path[-1] = label(path[-1], int(key) + 1, raw)
        else:
            raw = raw.get(key) if isinstance(raw, dict) else None
            path.append(str(key))
    if isinstance(messages, dict):
        messages = [f"{key}: {' '.join(map(str, reasons))}" for key, reasons in messages.items()]
    return f"{', '.join(path)}: {'; '.join(map(str, messages)) if isinstance(messages, list) else messages}"


def each(within: str, kind: str, entries: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """The entries of a list (``kind``: "batches"), each with the words that name it in an error."""
    return [(f"{within}, {label(kind, n, entry)}", entry) for n, entry in enumerate(entries, 1)]


@contextmanager
def naming(where: str, entry: dict[str, Any]) -> Iterator[None]:
    """Name the data-file entry in whatever a service refuses about it."""
    try:
        yield
    except DomainError as exc:
        located = (exc.errors or {}).get("json")
        raise type(exc)(describe(where, located, entry) if located else f"{where}: {exc.message}") from exc
