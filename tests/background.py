"""Slow, self-contained test preparations started as soon as their tests are selected.

A test module may define ``prepare_in_background()``: work that takes long (tens of seconds),
waits mostly on subprocesses of its own and shares nothing with other tests (building
virtualenvs in a throwaway clone of the project, say). ``tests/conftest.py`` starts it when
collection ends, so it runs while the rest of the suite does; the module's tests get its result
with :func:`result`, which starts it there and then if it was not started (a single test run
with ``-k``, say). The tests that wait on a preparation run after the others, and the
preparations start costliest first (``BACKGROUND_SECONDS``, a rough estimate a module may
set). Everything started is waited for when the session ends.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

HOOK = "prepare_in_background"
COST = "BACKGROUND_SECONDS"
"""A module's rough estimate of its preparation's time: the costliest start first."""
_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_started: dict[str, Future[Any]] = {}


def start(key: str, prepare: Callable[[], Any]) -> None:
    """Start ``prepare`` in a background thread, once per ``key``."""
    global _pool
    with _lock:
        if key in _started:
            return
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="test-background")
        _started[key] = _pool.submit(prepare)


def result(key: str, prepare: Callable[[], Any], timeout: float) -> Any:
    """What ``prepare`` returned (or raised), started now if it was not yet."""
    start(key, prepare)
    return _started[key].result(timeout=timeout)


def wait_all() -> None:
    """Wait for everything started (its subprocesses end on their own, within their timeouts)."""
    global _pool
    with _lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)
