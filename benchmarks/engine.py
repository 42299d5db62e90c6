"""Figures through the real Pulumi CLI: ours against the list-per-read baseline (the Terraform
resource's strategy) and against a do-nothing dynamic provider (the engine's and the host's own
floor), same CLI, same run, the emulator at 20 ms of latency.

Run from the project root, after ``bash scripts/pulumi-cli.sh``::

    python -m benchmarks.engine                 # up of 1 and 100, refresh of 500; 3 runs each
    python -m benchmarks.engine --runs 1 --up 20 --refresh 50

It prints one JSON object: each figure's median seconds per provider, and the ratios the goals
name (``ours / null`` for up, ``list-per-read / ours`` for refresh).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from localskills_pulumi.testing.emulator import Emulator  # noqa: E402
from tests.engine.cli import Project  # noqa: E402

PROGRAMS = {
    "ours": """
import pulumi
from localskills_pulumi import ScimToken

tenant = pulumi.Config().require("tenant")
for n in range(int(pulumi.Config().require("count"))):
    ScimToken(f"t{n}", tenant_id=tenant, name=f"t{n}", expires_in_days=30)
""",
    "list-per-read": """
import pulumi
from pulumi.dynamic import Resource
from benchmarks.baseline import ListPerReadProvider
from localskills_pulumi.model import OUTPUT_NAMES

class Baseline(Resource, module="bench", name="ListPerRead"):
    pass

tenant = pulumi.Config().require("tenant")
for n in range(int(pulumi.Config().require("count"))):
    props = {key: None for key in OUTPUT_NAMES}
    props.update(tenant_id=tenant, name=f"t{n}", expires_in_days=30, rotate_before_days=None)
    Baseline(ListPerReadProvider(), f"t{n}", props,
             pulumi.ResourceOptions(additional_secret_outputs=["token_value"]))
""",
    "null": """
import pulumi
from pulumi.dynamic import Resource
from benchmarks.null import NullProvider

class Null(Resource, module="bench", name="Null"):
    pass

for n in range(int(pulumi.Config().require("count"))):
    Null(NullProvider(), f"t{n}", {"name": f"t{n}"})
""",
}


def timed(project: Project, *args: str) -> float:
    started = time.perf_counter()
    project.run(*args)
    return time.perf_counter() - started


def measure(emulator: Emulator, scratch: Path, kind: str, count: int, runs: int) -> dict[str, Any]:
    """Median seconds of ``up`` (a fresh stack each run) and of ``refresh`` of ``count``."""
    ups, refreshes = [], []
    for run in range(runs):
        project = Project(
            scratch / f"{kind}-{count}-{run}", emulator, PROGRAMS[kind], name=f"bench-{kind}"
        )
        project.run("config", "set", "tenant", emulator.new_tenant())
        project.run("config", "set", "count", str(count))
        ups.append(timed(project, "up", "--yes", "--skip-preview"))
        emulator.clear_requests()
        refreshes.append(timed(project, "refresh", "--yes", "--skip-preview"))
        listings = sum(1 for r in emulator.requests_log() if r["method"] == "GET")
        project.run("destroy", "--yes", "--skip-preview")
    return {
        "up_s": statistics.median(ups),
        "refresh_s": statistics.median(refreshes),
        "refresh_listings": listings,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--up", type=int, default=100, help="tokens in the up figure")
    parser.add_argument("--refresh", type=int, default=500, help="tokens in the refresh figure")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {}
    with Emulator(latency_ms=20) as emulator, tempfile.TemporaryDirectory() as scratch:
        for kind in PROGRAMS:
            one = measure(emulator, Path(scratch), kind, 1, args.runs)
            up = measure(emulator, Path(scratch), kind, args.up, args.runs)
            refresh = measure(emulator, Path(scratch), kind, args.refresh, 1)
            results[kind] = {
                "up_1_s": one["up_s"],
                f"up_{args.up}_s": up["up_s"],
                f"refresh_{args.refresh}_s": refresh["refresh_s"],
                f"refresh_{args.refresh}_listings": refresh["refresh_listings"],
            }
    ours, floor, baseline = results["ours"], results["null"], results["list-per-read"]
    results["ratios"] = {
        f"up_{args.up}_ours_over_null": ours[f"up_{args.up}_s"] / floor[f"up_{args.up}_s"],
        "up_1_ours_over_null": ours["up_1_s"] / floor["up_1_s"],
        f"refresh_{args.refresh}_list_per_read_over_ours": (
            baseline[f"refresh_{args.refresh}_s"] / ours[f"refresh_{args.refresh}_s"]
        ),
        f"refresh_{args.refresh}_ours_over_null": (
            ours[f"refresh_{args.refresh}_s"] / floor[f"refresh_{args.refresh}_s"]
        ),
    }
    json.dump(results, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
