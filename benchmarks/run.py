"""Benchmark the provider against the Terraform resource's list-per-read strategy and against
the host's own floor, through Pulumi's dynamic-provider host and the emulator.

Run from the project root::

    python -m benchmarks.run                    # the full run, a few minutes
    python -m benchmarks.run --quick            # small sizes, one repetition (the tests' run)
    python -m benchmarks.run --update-results   # write the committed benchmarks/RESULTS.md

The figures come from :mod:`benchmarks.figures` (one tenant: refresh, create, connections,
cold start), :mod:`benchmarks.scale` (many tenants) and :mod:`benchmarks.drill` (the rotation
drill); :mod:`benchmarks.report` checks the goals and writes the tables. Every figure is
measured in the run; timed runs are repeated and the median reported, every sample going to
the JSON file. What each figure means: ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import compileall
import datetime as dt
import json
import os
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # also runnable as `python benchmarks/run.py`
    sys.path.insert(0, str(ROOT))

from benchmarks.common import LIST_PER_READ, NULL, OURS, Bench, load_average  # noqa: E402
from benchmarks.drill import drill_figure  # noqa: E402
from benchmarks.figures import (  # noqa: E402
    cold_figure,
    connections_figure,
    create_figure,
    refresh_figure,
)
from benchmarks.report import goals, goals_table, machine, render_markdown  # noqa: E402
from benchmarks.scale import scale_figure  # noqa: E402
from localskills_pulumi.provider import HOST_WORKERS  # noqa: E402
from localskills_pulumi.testing.emulator import Emulator  # noqa: E402

SCRATCH = ".benchmarks"
"""Where a run writes by default (untracked)."""
COMMITTED = "benchmarks"
"""Where ``--update-results`` writes: the committed RESULTS.md and results.json."""
DOC = ROOT / "docs" / "benchmarks.md"

FULL: dict[str, Any] = {
    "sizes": "10,100,500",
    "reps": 3,
    "creates": 50,
    "create_reps": 5,
    "ops": 100,
    "cold_reps": 5,
    "tenants": 50,
    "per_tenant": 20,
    "scale_reps": 3,
    "drill_reps": 3,
}
QUICK: dict[str, Any] = {
    "sizes": "5,20",
    "reps": 1,
    "creates": 10,
    "create_reps": 1,
    "ops": 20,
    "cold_reps": 1,
    "tenants": 3,
    "per_tenant": 4,
    "scale_reps": 1,
    "drill_reps": 1,
}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line; see ``--help``."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description="Benchmark localskills-pulumi against the Terraform resource's "
        "list-per-read strategy and the host's floor, through the real dynamic-provider host "
        "and the emulator. Figures: docs/benchmarks.md.",
    )
    add = parser.add_argument
    add("--sizes", help="refresh sizes of one tenant, comma-separated (default 10,100,500)")
    add("--latency-ms", type=int, default=20, help="emulator latency (default 20)")
    add("--out", help=f"markdown report (default {SCRATCH}/RESULTS.md, untracked)")
    add("--json", help=f"raw figures (default {SCRATCH}/results.json, untracked)")
    add(
        "--update-results",
        action="store_true",
        help=f"write the committed {COMMITTED}/RESULTS.md and results.json instead",
    )
    add("--quick", action="store_true", help="small sizes, one repetition: for tests")
    add("--reps", type=int, help="repetitions of the refresh runs (default 3)")
    add("--creates", type=int, help="creates for the overhead figure (50)")
    add("--create-reps", type=int, help="repetitions of the create overhead figure (5)")
    add("--ops", type=int, help="operations for the connections figure (100)")
    add("--cold-reps", type=int, help="cold starts of each kind (5)")
    add("--tenants", type=int, help="tenants of the scale figure (50)")
    add("--per-tenant", type=int, help="tokens per tenant in the scale figure (20)")
    add("--scale-reps", type=int, help="repetitions of the scale figure (3)")
    add("--drill-reps", type=int, help="rotation drills of each kind (3)")
    add("--drill-period-ms", type=int, default=20, help="the SCIM client's period (20)")
    add("--note", default="", help="a line about the machine, shown beside the figures")
    add(
        "--threads",
        type=int,
        default=2 * HOST_WORKERS,
        help=f"driver threads sending calls to the host (default {2 * HOST_WORKERS})",
    )
    args = parser.parse_args(argv)
    results_dir = COMMITTED if args.update_results else SCRATCH
    args.out = args.out or f"{results_dir}/RESULTS.md"
    args.json = args.json or f"{results_dir}/results.json"
    for key, value in (QUICK if args.quick else FULL).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    try:
        args.size_list = [int(part) for part in str(args.sizes).split(",") if part.strip()]
    except ValueError:
        parser.error(f"--sizes must be integers separated by commas, got {args.sizes!r}")
    if not args.size_list or min(args.size_list) < 1:
        parser.error("--sizes needs at least one size, each ≥ 1")
    if args.threads < HOST_WORKERS:
        parser.error(f"--threads must be ≥ {HOST_WORKERS} to keep the host's workers busy")
    counts = (
        "reps",
        "creates",
        "create_reps",
        "cold_reps",
        "tenants",
        "per_tenant",
        "scale_reps",
        "drill_reps",
        "drill_period_ms",
    )
    if min(getattr(args, key) for key in counts) < 1 or args.ops < 5:
        parser.error(f"--{', --'.join(k.replace('_', '-') for k in counts)} must be ≥ 1, --ops ≥ 5")
    if args.latency_ms < 0:
        parser.error("--latency-ms must be ≥ 0")
    return args


def shown_command(argv: Sequence[str]) -> str:
    """The arguments as a shell would take them, ``--note`` left out (it is shown apart)."""
    shown: list[str] = []
    skip = False
    for arg in argv:
        if skip or arg.startswith("--note="):
            skip = False
        elif arg == "--note":
            skip = True
        else:
            shown.append(arg)
    return shlex.join(shown)


def compile_sources() -> None:
    """Byte-compile the providers' sources, as installing a wheel does.

    An editable checkout run with ``PYTHONDONTWRITEBYTECODE`` set (as on CI machines) would
    otherwise compile the package from source in every host process, which no installed
    package does; the figures are for an installed one.
    """
    for folder in ("localskills_pulumi", "benchmarks"):
        compileall.compile_dir(ROOT / folder, quiet=1)


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Every figure."""
    results: dict[str, Any] = {}
    with Emulator(latency_ms=args.latency_ms, extra_args=["--quiet"]) as emulator:
        bench = Bench(emulator, args.threads)
        results["refresh"] = refresh_figure(bench, args.size_list, args.reps)
        results["create"] = create_figure(bench, args.creates, args.create_reps)
        results["connections"] = connections_figure(bench, args.ops)
        results["cold_start"] = cold_figure(bench, args.cold_reps)
        results["scale"] = scale_figure(bench, args.tenants, args.per_tenant, args.scale_reps)
    results["drill"] = drill_figure(args.latency_ms, args.drill_reps, args.drill_period_ms / 1000)
    results["state_size"] = {
        OURS: results["create"]["provider_bytes"],
        LIST_PER_READ: results["create"]["list_per_read_provider_bytes"],
        NULL: results["create"]["null_provider_bytes"],
    }
    return results


def main(argv: Sequence[str] | None = None) -> int:
    """Run every figure, print the goals, write the markdown report and the JSON file."""
    args = parse_args(argv)
    out, json_path = Path(args.out), Path(args.json)
    started = time.perf_counter()
    results: dict[str, Any] = {
        "argv": shown_command(sys.argv[1:] if argv is None else argv),
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "load_average": {"start": load_average()},
        "note": args.note,
        "latency_ms": args.latency_ms,
        "sizes": args.size_list,
        "reps": args.reps,
        "create_reps": args.create_reps,
        "cold_reps": args.cold_reps,
        "scale_reps": args.scale_reps,
        "threads": args.threads,
        "host_workers": HOST_WORKERS,
        "json_name": os.path.relpath(json_path, out.parent),
    }
    print(f"emulator latency {args.latency_ms} ms, sizes {args.size_list}", flush=True)
    compile_sources()
    results.update(measure(args))
    results["goals"] = goals(results)
    results["load_average"]["end"] = load_average()
    results["total_seconds"] = time.perf_counter() - started
    print()
    print(goals_table(results))
    out.parent.mkdir(parents=True, exist_ok=True)
    json_path.parent.mkdir(parents=True, exist_ok=True)
    doc_link = os.path.relpath(DOC, out.parent.resolve())
    out.write_text(render_markdown(results, doc_link), encoding="utf-8")
    json_path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {out} and {json_path} in {results['total_seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
