"""A process of its own for rendering documents (PDF through WeasyPrint, DOCX): seconds of pure Python that in a
server's process would hold the interpreter lock and slow every other request (and every transaction they hold)
while it ran, and tens of megabytes of libraries and layout that would stay in every server process after it.
One per server process, spawned at its first use (or by `warm`), its libraries loaded once."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from functools import cache
from typing import Any, TypeVar

T = TypeVar("T")


@cache
def _pool() -> ProcessPoolExecutor:
    # Spawned, not forked: the server's threads (and their locks) must not be copied into the child.
    return ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))


def warm(ready: Callable[[], Any]) -> None:
    """Start the process and run `ready` there (load the libraries) now, so the first document takes as long as any
    other."""
    _pool().submit(ready)


def run(work: Callable[..., T], *args: Any) -> T:
    """`work(*args)` in the rendering process (a module-level function; arguments and answer are pickled)."""
    return _pool().submit(work, *args).result()
