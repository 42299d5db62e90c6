"""Run the test suite N times and report every failure: ``scripts/test-repeat.sh N [pytest args]``.

Each run is a fresh ``python -m pytest`` process (as ``scripts/test.sh`` runs it) with a small
plugin that records each failed test: its id, the phase (setup, call, teardown) and the first
line of its error. A run that collects no tests (pytest exit 5) or exits non-zero without a
failed test counts as failed too. Each run's full output is kept in a log directory, named on
the last line. Exit status: 0 when every run passed, 1 otherwise.

Why not a plugin from PyPI: ``pytest-repeat`` and ``pytest-flakefinder`` repeat tests inside one
session, so session fixtures, ports, background processes and xdist's scheduling are not fresh
as in a CI run, which is what this must reproduce; pytest's own ``--junitxml`` records failures
but names a test by dotted class path rather than the node ID one pastes back into pytest, and
folds the phase into the message. The plugin here is those 70 lines.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PLUGIN = "_test_repeat_plugin"
NO_TESTS_COLLECTED = 5


@dataclass
class Run:
    """One pytest run: its exit status, its failures, its counts."""

    number: int
    status: int
    seconds: float
    log: Path
    failures: list[dict[str, str]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.status == 0 and not self.failures


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


def run_once(number: int, args: list[str], logs: Path) -> Run:
    """Run pytest once with the recording plugin; collect what failed."""
    record = logs / f"run-{number}.jsonl"
    log = logs / f"run-{number}.log"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(Path(__file__).resolve().parent), env.get("PYTHONPATH", "")) if p
    )
    env["TEST_REPEAT_RECORD"] = str(record)
    started = time.monotonic()
    with log.open("w", encoding="utf-8") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "pytest", "-q", "-p", PLUGIN, "-p", "no:cacheprovider", *args],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            status = process.wait()
        finally:
            if process.poll() is None:  # interrupted: stop the run (its fixtures clean up)
                process.send_signal(signal.SIGINT)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
    run = Run(number, status, time.monotonic() - started, log)
    if record.exists():
        for line in record.read_text(encoding="utf-8").splitlines():
            entry: dict[str, Any] = json.loads(line)
            if entry["kind"] == "failure":
                run.failures.append(entry)
            elif entry["kind"] == "counts":
                run.counts = entry["counts"]
    if run.status == NO_TESTS_COLLECTED:
        run.failures.append({"id": "(session)", "when": "collect", "error": "no tests ran"})
    elif run.status != 0 and not run.failures:
        tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-1:]
        error = tail[0] if tail else "(no output)"
        run.failures.append({"id": "(session)", "when": "exit", "error": error})
    return run


def describe(run: Run, total: int) -> str:
    """One line for a run, then one line per failure."""
    counts = ", ".join(f"{n} {k}" for k, n in sorted(run.counts.items()) if n)
    verdict = "passed" if run.passed else f"FAILED (exit {run.status})"
    lines = [f"run {run.number}/{total}: {verdict}; {counts or 'no tests'}; {run.seconds:.0f} s"]
    for failure in run.failures:
        lines.append(f"    {failure['id']} [{failure['when']}]: {failure['error']}")
    return "\n".join(lines)


def summary(runs: list[Run]) -> str:
    """The last line: passes, failures, the longest run of consecutive passes."""
    passed = sum(run.passed for run in runs)
    failed_tests = sum(len(run.failures) for run in runs)
    streak = best = 0
    for run in runs:
        streak = streak + 1 if run.passed else 0
        best = max(best, streak)
    return (
        f"summary: {len(runs)} runs, {passed} passed, {len(runs) - passed} failed "
        f"({failed_tests} failures); longest streak of passing runs: {best}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/test-repeat.sh",
        description="Run the test suite N times and report each failure.",
    )
    parser.add_argument("runs", type=int, help="how many times to run the suite")
    parser.add_argument("pytest_args", nargs=argparse.REMAINDER, help="passed to pytest")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("runs: give a positive number of runs")
    logs = Path(tempfile.mkdtemp(prefix="test-repeat-"))
    runs: list[Run] = []
    for number in range(1, args.runs + 1):
        run = run_once(number, list(args.pytest_args), logs)
        runs.append(run)
        print(describe(run, args.runs), flush=True)
    print(summary(runs))
    print(f"logs: {logs}")
    return 0 if all(run.passed for run in runs) else 1


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # clean up as on Ctrl-C
    sys.exit(main())
