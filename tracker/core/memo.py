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
_computing: dict[Hashable, threading.Event] = {}  # keys being computed, each with the event its waiters wait on
enabled = True


def kept(key: Hashable, compute: Callable[[], T]) -> T:
    """The value filed under `key`, computed when missing: by one request at a time per key (outside the lock), the
    others asking for it meanwhile waiting for that one instead of computing it too (a page opened by many at once,
    cold, costs one computation, not one each)."""
    if not enabled:
        return compute()
    while True:
        with _lock:
            if key in _entries:
                _entries.move_to_end(key)
                return _entries[key]  # type: ignore[return-value]
            running = _computing.get(key)
            if running is None:
                _computing[key] = done = threading.Event()
                break
        running.wait()  # then look again: its value, or (had it failed) this one computes
    try:
        value = compute()
        with _lock:
            _entries[key] = value
            while len(_entries) > SIZE:
                _entries.popitem(last=False)
        return value
    finally:
        with _lock:
            del _computing[key]
        done.set()


def clear() -> None:
    with _lock:
        _entries.clear()
