"""The real-CLI benchmark runs as a user types it (``--quick``: 3 tokens, no latency), writes its
report to the scratch folder, and its counts hold: listings, API requests, provider calls.
Seconds are checked to be present and consistent, never against a goal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOKENS = 3


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    scratch = tmp_path_factory.mktemp("engine-bench")
    committed = {p: p.read_bytes() for p in (ROOT / "benchmarks").glob("*") if p.is_file()}
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.engine", "--quick"],
        cwd=scratch,
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH")))),
        },
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert committed == {p: p.read_bytes() for p in (ROOT / "benchmarks").glob("*") if p.is_file()}
    parsed: dict[str, Any] = json.loads(
        (scratch / ".benchmarks" / "results-engine.json").read_text(encoding="utf-8")
    )
    parsed["_markdown"] = (scratch / ".benchmarks" / "RESULTS-engine.md").read_text()
    return parsed


def test_a_refresh_and_a_preview_of_ours_list_the_tenant_once(results: dict[str, Any]) -> None:
    ours = results["figures"][f"ours/{TOKENS}"]
    assert ours["refresh"]["listings"] == ours["preview"]["listings"] == 1


def test_the_list_per_read_baseline_lists_for_every_read_and_every_drift_diff(
    results: dict[str, Any],
) -> None:
    baseline = results["figures"][f"list-per-read/{TOKENS}"]
    assert baseline["refresh"]["listings"] == 2 * TOKENS
    assert baseline["preview"]["listings"] == TOKENS


def test_up_and_destroy_send_one_request_per_token_and_the_floor_none(
    results: dict[str, Any],
) -> None:
    figures = results["figures"]
    for stack in (f"ours/{TOKENS}", f"ours PULUMI_SKIP_CHECKPOINTS=true/{TOKENS}"):
        assert figures[stack]["up"]["api_requests"] == TOKENS
        assert figures[stack]["destroy"]["api_requests"] == TOKENS
    assert all(f["api_requests"] == 0 for f in figures[f"null/{TOKENS}"].values())


def test_each_command_counts_its_provider_calls_and_splits_its_seconds(
    results: dict[str, Any],
) -> None:
    for commands in results["figures"].values():
        # Configure, then a Check and a Create per token.
        assert commands["up"]["provider_calls"] == 1 + 2 * TOKENS
        for figure in commands.values():
            assert 0 < figure["engine_only_seconds"] <= figure["seconds"]
            assert figure["cli_peak_mib"] > 0 and figure["host_peak_mib"] > 0


def test_the_report_shows_every_stack_and_command(results: dict[str, Any]) -> None:
    rows = [
        line for line in results["_markdown"].splitlines() if line.startswith(f"| ours/{TOKENS} |")
    ]
    assert [row.split(" | ")[1] for row in rows] == ["up", "preview", "refresh", "destroy"]
