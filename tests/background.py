"""Slow, self-contained test preparations started as soon as their tests are selected.

A test module may define ``prepare_in_background()``: work that takes long (tens of seconds),
waits mostly on subprocesses of its own and shares nothing with other tests (building
virtualenvs in a throwaway clone of the project, say), and ``BACKGROUND_FIXTURE``, the name of
its fixture that waits on it (with :func:`result`). When collection ends, ``tests/conftest.py``
starts the preparations that selected tests wait on, costliest first (``BACKGROUND_SECONDS``,
a rough estimate), and runs those tests after all others, so the preparations run while the
rest of the suite does. :func:`result` starts a preparation there and then if it was not
started. Everything started is waited for when the session ends.

Under pytest-xdist every worker collects every test, but a preparation must run once, and its
tests may land on any worker. So workers share a directory (:func:`share`, made by the
controller): the first worker to create ``<key>.claim`` there runs the preparation and writes
what it returned (or raised), pickled, to ``<key>.result``; a worker that did not claim it
waits for that file. A worker waits for the preparations it claimed before its session ends,
so no claimed preparation is ever left unrun.
"""

from __future__ import annotations

import os
import pickle
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

HOOK = "prepare_in_background"
FIXTURE = "BACKGROUND_FIXTURE"
"""Names the module's fixture that waits on the preparation: started only for its tests."""
COST = "BACKGROUND_SECONDS"
"""A module's rough estimate of its preparation's time: the costliest start first."""
_POLL_SECONDS = 0.2
_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_started: dict[str, Future[Any]] = {}
_shared: Path | None = None


def share(directory: Path) -> None:
    """Run under pytest-xdist: claims and results go to ``directory``, which every worker of
    this run shares."""
    global _shared
    _shared = directory


def _claim(key: str) -> bool:
    """Whether this process is the one to run ``key`` (always, unless workers share)."""
    if _shared is None:
        return True
    try:
        os.close(os.open(_shared / f"{key}.claim", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    return True


def _publish(key: str, prepare: Callable[[], Any]) -> Callable[[], Any]:
    """``prepare``, also writing its outcome for the other workers when they share."""
    shared = _shared
    if shared is None:
        return prepare

    def run() -> Any:
        try:
            outcome: tuple[bool, Any] = (True, prepare())
        except BaseException as error:  # handed to the waiting worker, re-raised there too
            outcome = (False, error)
        try:
            data = pickle.dumps(outcome)
        except Exception as error:  # an outcome that cannot cross processes
            data = pickle.dumps((False, RuntimeError(f"{key}: unpicklable outcome: {error!r}")))
        partial = shared / f"{key}.result.partial"
        partial.write_bytes(data)
        os.replace(partial, shared / f"{key}.result")
        if outcome[0]:
            return outcome[1]
        raise outcome[1]

    return run


def start(key: str, prepare: Callable[[], Any]) -> None:
    """Start ``prepare`` in a background thread, once per ``key`` (once per run, across
    workers, when they share)."""
    global _pool
    with _lock:
        if key in _started or not _claim(key):
            return
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="test-background")
        _started[key] = _pool.submit(_publish(key, prepare))


def _wait_for_other_worker(key: str, timeout: float) -> Any:
    assert _shared is not None
    result = _shared / f"{key}.result"
    deadline = time.monotonic() + timeout
    while not result.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{key}: no result from the worker that claimed it in {timeout} s")
        time.sleep(_POLL_SECONDS)
    succeeded, value = pickle.loads(result.read_bytes())
    if succeeded:
        return value
    raise value


def result(key: str, prepare: Callable[[], Any], timeout: float) -> Any:
    """What ``prepare`` returned (or raised), started now if it was not yet."""
    start(key, prepare)
    with _lock:
        future = _started.get(key)
    if future is None:  # another worker claimed it
        return _wait_for_other_worker(key, timeout)
    return future.result(timeout=timeout)


def wait_all() -> None:
    """Wait for everything started (its subprocesses end on their own, within their timeouts).
    Alone, what has not begun is cancelled; a worker runs what it claimed, as others wait on
    it."""
    global _pool
    with _lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=_shared is None)
