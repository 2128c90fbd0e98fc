"""Figures kept in memory while what they were computed from stands: each entry is filed under a key that names its
inputs, including the data versions it read (tracker.audit.versions), so an entry is never stale; it is only ever
unused. Per process, bounded, least recently used first out. Values are shared: callers treat them as read-only.

Tests turn it off (tests/conftest.py): their transactions roll back, so a version number can recur there with other
data behind it. The tests of the cache itself turn it on."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

T = TypeVar("T")
SIZE = 128  # entries; the largest (a big project's report) hold about 1 MB, so a worker keeps at most ~100 MB

_entries: OrderedDict[Hashable, object] = OrderedDict()
_lock = threading.Lock()
enabled = True


def kept(key: Hashable, compute: Callable[[], T]) -> T:
    """The value filed under `key`, computed (outside the lock: two requests may both compute it) when missing."""
    if not enabled:
        return compute()
    with _lock:
        if key in _entries:
            _entries.move_to_end(key)
            return _entries[key]  # type: ignore[return-value]
    value = compute()
    with _lock:
        _entries[key] = value
        while len(_entries) > SIZE:
            _entries.popitem(last=False)
    return value


def clear() -> None:
    with _lock:
        _entries.clear()
