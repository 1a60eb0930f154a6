"""A small per-process cache of rendered consumer pages, keyed by what they were built from.

The key holds a fingerprint of everything in the batch's chain as stored right now (see
``stamp.stamp``): a new event, a recall (it changes the batch's status and appends to its
chain), an inspection (it is chained too) or a row changed directly in the database all give a
new key, so such a change shows on the very next request and a tampered chain is never served
as intact. What lives outside the chain (an organization renamed, a standard bound later) shows
once the entry expires: ``PUBLIC_PAGE_CACHE_SECONDS`` (default 60; 0 turns the cache off).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

from flask import current_app

DEFAULT_SECONDS = 60.0
DEFAULT_ENTRIES = 1000


class PageCache:
    """Least-recently-used entries, each expiring ``seconds`` after it was stored; thread-safe."""

    def __init__(self, seconds: float, entries: int) -> None:
        self.seconds = seconds
        self.entries = entries
        self._items: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.seconds > 0 and self.entries > 0

    def get(self, key: Hashable) -> Any | None:
        if not self.enabled:
            return None
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            if item[0] <= time.monotonic():
                del self._items[key]
                return None
            self._items.move_to_end(key)
            return item[1]

    def put(self, key: Hashable, value: Any) -> None:
        if not self.enabled:
            return
        with self._lock:
            self._items[key] = (time.monotonic() + self.seconds, value)
            self._items.move_to_end(key)
            while len(self._items) > self.entries:
                self._items.popitem(last=False)


def page_cache() -> PageCache:
    """This app's cache, made on first use from its configuration."""
    cache = current_app.extensions.get("youpin.page_cache")
    if cache is None:
        cache = PageCache(
            float(current_app.config.get("PUBLIC_PAGE_CACHE_SECONDS", DEFAULT_SECONDS)),
            int(current_app.config.get("PUBLIC_PAGE_CACHE_ENTRIES", DEFAULT_ENTRIES)),
        )
        current_app.extensions["youpin.page_cache"] = cache
    return cache
