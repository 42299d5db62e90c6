"""A pytest plugin for ``scripts/test_repeat.py``: records each failed test (id, phase, first line
of the error) and the outcome counts, as JSON lines in the file ``$TEST_REPEAT_RECORD``."""

from __future__ import annotations

import json
import os
from collections import Counter
from typing import Any

import pytest

_counts: Counter[str] = Counter()
_is_xdist_worker = False


def _write(entry: dict[str, Any]) -> None:
    path = os.environ.get("TEST_REPEAT_RECORD")
    # Under pytest-xdist the controller sees every worker's reports: only it writes.
    if path and not _is_xdist_worker:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps(entry) + "\n")


def _first_error_line(report: pytest.CollectReport | pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None:
        lines = [line.strip() for line in crash.message.splitlines() if line.strip()]
        return lines[0] if lines else "(no message)"
    # A plain text (a fixture lookup error, a collection error): its "E   " lines are the error.
    lines = [line.strip() for line in str(report.longrepr).splitlines() if line.strip()]
    errors = [line[1:].strip() for line in lines if line.startswith("E ")]
    return (errors or lines or ["(no message)"])[0 if errors else -1]


def pytest_configure(config: pytest.Config) -> None:
    global _is_xdist_worker
    _is_xdist_worker = hasattr(config, "workerinput")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call":
        _counts["skipped" if report.skipped else "passed" if report.passed else "failed"] += 1
    elif report.skipped:  # skipped in setup (a skip mark, a skipping fixture)
        _counts["skipped"] += 1
    elif report.failed:  # an error in setup or teardown
        _counts["errors"] += 1
    if report.failed:
        _write(
            {
                "kind": "failure",
                "id": report.nodeid,
                "when": report.when,
                "error": _first_error_line(report),
            }
        )


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.failed:
        _counts["errors"] += 1
        _write(
            {
                "kind": "failure",
                "id": report.nodeid or "(collection)",
                "when": "collect",
                "error": _first_error_line(report),
            }
        )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _write({"kind": "counts", "counts": dict(_counts), "exitstatus": int(exitstatus)})
