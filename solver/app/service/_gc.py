"""The cyclic garbage collector against latency. A full collection stops the process for
100-200 ms (measured in ``benchmarks/bench_instant_latency.py``: about one per 300 instant
requests in the server, and in the batch process; they were the slowest requests and,
when the batch process paused holding the write lock, the longest waits for it). So:

- ``no_collection``: no collection starts while a write transaction holds the store's
  write lock (every other writer would wait out the pause). The sections are short; cycles
  made inside are collected after them.
- ``freeze_startup_objects``: what is alive once a process has started (modules, classes,
  caches) leaves the collector's generations (``gc.freeze``), so a later full collection
  walks only what requests created since. Once per process: a later start in the same
  process (another app, as the tests create hundreds) would freeze what the first one
  served, which then could never be freed, and pay another full collection.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_was_enabled = False
_frozen = False


@contextmanager
def no_collection() -> Iterator[None]:
    """Collections off for the block (process-wide; nested and concurrent blocks count:
    the last to leave turns them back on, if they were on before the first)."""
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()


def freeze_startup_objects() -> None:
    """Collect once, then move every object alive now out of the collector's reach; the
    first call in a process does it, later ones do nothing."""
    global _frozen
    with _lock:
        if _frozen:
            return
        _frozen = True
    gc.collect()
    gc.freeze()
