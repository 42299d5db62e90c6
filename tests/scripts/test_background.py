"""tests/background.py across pytest-xdist workers: a preparation runs once per run, whichever
worker claims it, and every worker gets what it returned or raised."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

WORKER = r"""
import sys, time
from pathlib import Path
from tests import background

shared, runs, outcome = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
background.share(shared)

def prepare():
    with runs.open("a") as log:
        log.write("ran\n")
    time.sleep(0.5)  # long enough that the other worker finds it claimed, not done
    if outcome == "raise":
        raise LookupError("prepared badly")
    return {"answer": 42}

try:
    print(background.result("module", prepare, timeout=60))
except LookupError as error:
    print("raised", error)
background.wait_all()
"""


def two_workers(tmp_path: Path, outcome: str) -> tuple[list[str], list[str]]:
    shared = tmp_path / "shared"
    shared.mkdir()
    runs = tmp_path / "runs.log"
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(shared), str(runs), outcome],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    printed = [worker.communicate(timeout=60)[0].strip() for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0]
    return printed, runs.read_text().splitlines()


def test_a_preparation_runs_once_and_both_workers_get_its_result(tmp_path: Path) -> None:
    printed, runs = two_workers(tmp_path, "return")
    assert runs == ["ran"]
    assert printed == ["{'answer': 42}", "{'answer': 42}"]


def test_a_preparation_that_raises_raises_in_both_workers(tmp_path: Path) -> None:
    printed, runs = two_workers(tmp_path, "raise")
    assert runs == ["ran"]
    assert printed == ["raised prepared badly", "raised prepared badly"]
