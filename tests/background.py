"""Slow, self-contained test preparations started as soon as their tests are selected.

A test module may define ``prepare_in_background()``: work that takes long (tens of seconds),
waits mostly on subprocesses of its own and shares nothing with other tests (building
virtualenvs in a throwaway clone of the project, say), and ``BACKGROUND_FIXTURE``, the name of
its fixture that waits on it (with :func:`result`). When collection ends, ``tests/conftest.py``
starts the preparations that selected tests wait on, costliest first (``BACKGROUND_SECONDS``,
a rough estimate), and runs those tests after all others, so the preparations run while the
rest of the suite does. :func:`result` starts a preparation there and then if it was not
started. Everything started is waited for when the session ends.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

HOOK = "prepare_in_background"
FIXTURE = "BACKGROUND_FIXTURE"
"""Names the module's fixture that waits on the preparation: started only for its tests."""
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
