"""The benchmark runs, and its counts hold: listings, connections, state size, the scale
figure's listings and the rotation drill's failures.

The benchmark is run once, small (``--quick``: sizes 5 and 20, 12 tokens in 3 tenants, one
repetition, low latency), as the command a user types. Only counts are asserted; wall-clock
figures are checked to be present and positive, never against a goal (they depend on the
machine).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from localskills_pulumi.provider import HOST_WORKERS
from tests import background

ROOT = Path(__file__).resolve().parents[2]
BACKGROUND_SECONDS = 25  # see tests/background.py
BACKGROUND_FIXTURE = "run"
SIZES = (5, 20)
TENANTS, PER_TENANT = 3, 4  # --quick


def prepare_in_background() -> dict[str, Any]:
    """Run ``python -m benchmarks.run --quick`` as a user would, in a scratch working
    directory: the report goes to ``.benchmarks/`` there, never to the committed files.
    Started when collection ends (tests/background.py): it is one subprocess with an emulator
    of its own, so it runs while the rest of the suite does."""
    committed = {p: p.read_bytes() for p in (ROOT / "benchmarks").glob("*") if p.is_file()}
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "benchmarks.run",
                "--quick",
                "--sizes",
                ",".join(map(str, SIZES)),
                "--latency-ms",
                "2",
            ],
            cwd=scratch,
            env={
                **os.environ,
                "PYTHONPATH": os.pathsep.join(
                    filter(None, (str(ROOT), os.environ.get("PYTHONPATH")))
                ),
            },
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        out = Path(scratch) / ".benchmarks"
        results: dict[str, Any] = json.loads((out / "results.json").read_text(encoding="utf-8"))
        results["_markdown"] = (out / "RESULTS.md").read_text(encoding="utf-8")
    results["_stdout"] = done.stdout
    results["_committed_unchanged"] = committed == {
        p: p.read_bytes() for p in (ROOT / "benchmarks").glob("*") if p.is_file()
    }
    return results


@pytest.fixture(scope="module")
def run() -> dict[str, Any]:
    results: dict[str, Any] = background.result(__name__, prepare_in_background, timeout=600)
    return results


def test_a_run_writes_to_the_untracked_scratch_directory_not_the_committed_results(
    run: dict[str, Any],
) -> None:
    assert run["_committed_unchanged"]
    assert "wrote .benchmarks/RESULTS.md and .benchmarks/results.json" in run["_stdout"]


def test_only_update_results_targets_the_committed_results() -> None:
    from benchmarks.run import parse_args

    default = parse_args([])
    assert (default.out, default.json) == (".benchmarks/RESULTS.md", ".benchmarks/results.json")
    update = parse_args(["--update-results"])
    assert (update.out, update.json) == ("benchmarks/RESULTS.md", "benchmarks/results.json")
    explicit = parse_args(["--update-results", "--out", "x.md", "--json", "x.json"])
    assert (explicit.out, explicit.json) == ("x.md", "x.json")


def test_listings_per_refresh(run: dict[str, Any]) -> None:
    assert [row["size"] for row in run["refresh"]] == list(SIZES)
    for row in run["refresh"]:
        for sample in row["ours"]["runs"]:
            assert 1 <= sample["listings"] <= 2, (row["size"], sample)
        # The Terraform resource's strategy: one full listing per token.
        runs = row["list_per_read"]["runs"]
        assert [s["listings"] for s in runs] == [row["size"]] * len(runs)
        assert all(s["listings"] == 0 for s in row["null"]["runs"])


def test_connections_at_most_one_per_host_worker(run: dict[str, Any]) -> None:
    conn = run["connections"]
    assert conn["host_workers"] == HOST_WORKERS
    assert conn["operations"] == {"create": 8, "read": 4, "delete": 8, "total": 20}
    # Every create and delete reached the API; the reads shared one listing.
    assert conn["requests_by_method"] == {"POST": 8, "GET": 1, "DELETE": 8}
    assert 1 <= conn["connections"] <= HOST_WORKERS
    for row in run["refresh"]:
        assert row["ours"]["max_connections"] <= HOST_WORKERS


def test_state_size(run: dict[str, Any]) -> None:
    sizes = run["state_size"]
    assert 0 < sizes["ours"] <= 200
    assert 0 < sizes["list_per_read"] <= 200


@pytest.mark.parametrize("operation", ["refresh", "up"])
def test_scale_costs_one_listing_per_tenant_against_one_per_token(
    run: dict[str, Any], operation: str
) -> None:
    scale = run["scale"]
    assert (scale["tenants"], scale["tokens"]) == (TENANTS, TENANTS * PER_TENANT)
    figure = scale[operation]
    assert [s["listings"] for s in figure["ours"]["runs"]] == [TENANTS]
    assert [s["listings"] for s in figure["list_per_read"]["runs"]] == [TENANTS * PER_TENANT]
    assert [s["listings"] for s in figure["null"]["runs"]] == [0]
    if sys.platform == "linux":  # VmHWM comes from /proc
        for kind in ("ours", "list_per_read", "null"):
            assert figure[kind]["max_peak_kib"] > 0


def test_rotation_drill_fails_no_request_with_create_before_delete_only(
    run: dict[str, Any],
) -> None:
    by_mode: dict[str, list[dict[str, Any]]] = {}
    for drill in run["drill"]["runs"]:
        by_mode.setdefault(drill["mode"], []).append(drill)
    assert {d["trigger"] for d in by_mode["create-before-delete"]} == {"window", "input"}
    assert all(d["failures"] == 0 for d in by_mode["create-before-delete"])
    assert {d["trigger"] for d in by_mode["delete-before-replace"]} == {"window", "input"}
    assert all(d["failures"] >= 1 for d in by_mode["delete-before-replace"])


def test_every_figure_is_written(run: dict[str, Any]) -> None:
    for key in (
        "machine",
        "date",
        "load_average",
        "latency_ms",
        "refresh",
        "create",
        "connections",
        "cold_start",
        "state_size",
        "scale",
        "drill",
        "goals",
    ):
        assert key in run, key
    assert run["latency_ms"] == 2
    assert len(run["goals"]) == 10
    assert all(
        g["met"] for g in run["goals"] if "listings" in g["figure"] or "drill" in g["figure"]
    )
    for row in run["refresh"]:
        for kind in ("ours", "list_per_read", "null"):
            assert row[kind]["median_seconds"] > 0
    create = run["create"]
    assert create["count"] == 10
    assert all(s["posts"] == 10 for s in create["runs"]["ours"] + create["runs"]["plain"])
    assert all(s["posts"] == 0 for s in create["runs"]["null"])
    assert create["ratio"] > 0
    cold = run["cold_start"]
    assert cold["ratio"] > 0
    assert set(cold["import_seconds"]) == {"urllib3", "requests", "package"}
    for field in ("platform", "cpu_count", "python", "pulumi"):
        assert run["machine"][field]


def test_the_report_is_tables_and_a_pointer_to_the_doc(run: dict[str, Any]) -> None:
    markdown = run["_markdown"]
    assert "| figure | goal | measured | met? |" in markdown
    assert "[docs/benchmarks.md](" in markdown
    for heading in ("## Refresh of one tenant", "## Scale:", "## Rotation drill", "## Machine"):
        assert heading in markdown
    assert run["machine"]["pulumi"] in markdown
    # Explanations live in docs/benchmarks.md: every line is a heading, a table row or the
    # pointer.
    prose = [
        line
        for line in markdown.splitlines()
        if line and not line.startswith(("#", "|", "`python -m benchmarks.run"))
    ]
    assert prose == []
    assert "| figure | goal | measured | met? |" in run["_stdout"]
