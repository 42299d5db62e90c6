"""Figures through the real Pulumi CLI: ours against the list-per-read baseline (the Terraform
resource's strategy) and against two do-nothing dynamic providers, same CLI, same run, the
emulator at 20 ms of latency, all tokens of a size in one tenant. ``null`` holds one property
per resource (the engine's and the host's own floor); ``null-shaped`` holds ``ScimToken``'s
property bag and secret output (the floor for a resource with this state): what ours costs
beyond ``null-shaped`` is ours, what ``null-shaped`` costs beyond ``null`` is the state's.

Run from the project root, after ``bash scripts/pulumi-cli.sh``::

    python -m benchmarks.engine                      # 100, 500 and 2,000 tokens; scratch report
    python -m benchmarks.engine --update-results     # the committed RESULTS-engine.md
    python -m benchmarks.engine --quick              # 3 tokens, no latency (the suite's)

For each size and provider, one stack: ``up``, ``preview`` (no change), ``refresh`` and
``destroy``, each with ``--skip-preview`` where the command has one, then ours again with
``PULUMI_SKIP_CHECKPOINTS=true`` and (up to 500 tokens) with ``--parallel`` 4 and 32. The
baselines' programs construct each resource under the guard ``ScimToken`` uses against the SDK's
nesting pickler (``localskills_pulumi/_pickler.py``): without it, no dynamic resource of a program
gets past about the 950th. Each command's time is split, by measurement, into the time some
provider call was in flight (a recorder in the host notes each call's start and end on the
machine's monotonic clock, which all processes share) and the rest, the engine's and the program's
alone; the emulator's log gives the requests and their summed server time. Peak resident memory
(``VmHWM``) of the CLI and of the host is sampled.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.common import peak_memory_kib, table  # noqa: E402
from benchmarks.report import machine  # noqa: E402
from benchmarks.run import COMMITTED, SCRATCH  # noqa: E402
from localskills_pulumi.testing.emulator import Emulator  # noqa: E402
from tests.engine.cli import Project, cli_path  # noqa: E402

RECORDER = ROOT / "tests" / "engine" / "recorder"
PROVIDERS = ("ours", "list-per-read", "null", "null-shaped")
COMMAND_TIMEOUT = 1800
"""Seconds one command may take: the list-per-read refresh of 2,000 tokens at 20 ms lists the
tenant 4,000 times, well past the tests' bound."""
COMMANDS = ("up", "preview", "refresh", "destroy")
PARALLEL_SIZES_UP_TO = 500
"""``--parallel`` 4 and 32 run at the sizes up to this: at 500 they already show what they
change (little), and at 2,000 they would cost about 25 minutes more."""
_SAME_STATE = """
import pulumi
from pulumi.dynamic import Resource
from benchmarks.{module} import {provider}
from localskills_pulumi._pickler import pristine_pickler
from localskills_pulumi.model import OUTPUT_NAMES

class Bench(Resource, module="bench", name="{name}"):
    pass

tenant = pulumi.Config().require("tenant")
for n in range(int(pulumi.Config().require("count"))):
    props = {{key: None for key in OUTPUT_NAMES}}
    props.update(tenant_id=tenant, name=f"t{{n}}", expires_in_days=30, rotate_before_days=None)
    with pristine_pickler():  # as ScimToken does: past ~950 the SDK's defect stops any other
        Bench({provider}(), f"t{{n}}", props,
              pulumi.ResourceOptions(additional_secret_outputs=["token_value"]))
"""
"""A program of resources with ScimToken's state (its inputs and outputs, token_value secret)."""
PROGRAMS = {
    "ours": """
import pulumi
from localskills_pulumi import ScimToken

tenant = pulumi.Config().require("tenant")
for n in range(int(pulumi.Config().require("count"))):
    ScimToken(f"t{n}", tenant_id=tenant, name=f"t{n}", expires_in_days=30)
""",
    "list-per-read": _SAME_STATE.format(
        module="baseline", provider="ListPerReadProvider", name="ListPerRead"
    ),
    "null-shaped": _SAME_STATE.format(module="null", provider="ShapedNullProvider", name="Shaped"),
    "null": """
import pulumi
from pulumi.dynamic import Resource
from benchmarks.null import NullProvider
from localskills_pulumi._pickler import pristine_pickler

class Null(Resource, module="bench", name="Null"):
    pass

for n in range(int(pulumi.Config().require("count"))):
    with pristine_pickler():
        Null(NullProvider(), f"t{n}", {"name": f"t{n}"})
""",
}
GOALS = (
    ("up", 100, "null", 1.2),
    ("up", 500, "null", 1.2),
    ("preview", 500, "null", 1.2),
    ("refresh", 500, "null", 1.1),
    ("refresh", 500, "list-per-read", 0.2),
    ("preview", 500, "null-shaped", 1.2),
    ("refresh", 500, "null-shaped", 1.1),
    ("preview", 2000, "null-shaped", 1.2),
)
"""(command, tokens, the other provider, the most that ours' seconds may be as a multiple of
the other's, in the same run): the issue's goals, then the same against ``null-shaped``."""


class MemorySampler:
    """The largest ``VmHWM`` seen, every 0.1 s while running, of the CLI's process and of the
    dynamic-provider hosts (every process whose command line runs ``pulumi.dynamic``)."""

    def __init__(self) -> None:
        self.cli_kib = 0
        self.host_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._cli = str(cli_path())

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            for status in Path("/proc").glob("[0-9]*"):
                try:
                    command = (status / "cmdline").read_bytes().split(b"\0")
                except OSError:
                    continue
                kib = peak_memory_kib(int(status.name)) or 0
                if command[0].decode(errors="replace") == self._cli:
                    self.cli_kib = max(self.cli_kib, kib)
                elif b"pulumi.dynamic" in command:
                    self.host_kib = max(self.host_kib, kib)


def busy_seconds(calls: list[dict[str, Any]]) -> float:
    """The time at least one of ``calls`` (``started``, ``ended``) was in flight."""
    total, reach = 0.0, float("-inf")
    for call in sorted(calls, key=lambda c: c["started"]):
        start = max(call["started"], reach)
        if call["ended"] > start:
            total += call["ended"] - start
        reach = max(reach, call["ended"])
    return total


class Measured:
    """One provider's stack of one size, its commands timed one by one."""

    def __init__(self, emulator: Emulator, folder: Path, kind: str, count: int) -> None:
        self.emulator = emulator
        self.log = folder / "calls.jsonl"
        self.project = Project(folder, emulator, PROGRAMS[kind], name=f"bench-{kind}")
        self.project.env.update(
            TEST_PROVIDER_CALL_LOG=str(self.log),
            PYTHONPATH=os.pathsep.join([str(RECORDER), str(ROOT)]),
        )
        self.tenant_id = emulator.new_tenant("bench")
        self.project.run("config", "set", "tenant", self.tenant_id)
        self.project.run("config", "set", "count", str(count))

    def command(self, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
        """``pulumi ARGS``: seconds, of which provider calls in flight, requests, memory."""
        self.log.write_text("", encoding="utf-8")
        self.emulator.clear_requests()
        with MemorySampler() as memory:
            started = time.monotonic()
            self.project.run(*args, env=env, timeout=COMMAND_TIMEOUT)
            seconds = time.monotonic() - started
        print(
            f"{self.project.folder.name}: pulumi {' '.join(args)}: {seconds:.1f} s", file=sys.stderr
        )
        calls = [json.loads(line) for line in self.log.read_text(encoding="utf-8").splitlines()]
        served = [r for r in self.emulator.requests_log() if r["path"].startswith("/api/")]
        in_flight = busy_seconds(calls)
        return {
            "seconds": seconds,
            "provider_calls": len(calls),
            "provider_busy_seconds": in_flight,
            "engine_only_seconds": seconds - in_flight,
            "api_requests": len(served),
            "listings": sum(r["method"] == "GET" for r in served),
            "api_server_seconds": sum(r["duration_ms"] for r in served) / 1000,
            "cli_peak_mib": memory.cli_kib / 1024,
            "host_peak_mib": memory.host_kib / 1024,
        }


def _save_progress(figures: dict[str, Any]) -> None:
    """The figures so far, in the scratch folder: a run that fails late keeps what it measured."""
    Path(SCRATCH).mkdir(exist_ok=True)
    (Path(SCRATCH) / "results-engine.partial.json").write_text(json.dumps(figures, indent=1))


def measure(emulator: Emulator, scratch: Path, sizes: list[int]) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for count in sizes:
        for kind in PROVIDERS:
            stack = Measured(emulator, scratch / f"{kind}-{count}", kind, count)
            figures[f"{kind}/{count}"] = {
                "up": stack.command("up", "--yes", "--skip-preview"),
                "preview": stack.command("preview"),
                "refresh": stack.command("refresh", "--yes", "--skip-preview"),
                "destroy": stack.command("destroy", "--yes", "--skip-preview"),
            }
            _save_progress(figures)
        variants = {"PULUMI_SKIP_CHECKPOINTS=true": ([], {"PULUMI_SKIP_CHECKPOINTS": "true"})}
        if count <= PARALLEL_SIZES_UP_TO:
            variants.update({"--parallel 4": (["--parallel", "4"], {}),
                             "--parallel 32": (["--parallel", "32"], {})})  # fmt: skip
        for number, (label, (flags, env)) in enumerate(variants.items()):
            stack = Measured(emulator, scratch / f"ours-{count}-variant-{number}", "ours", count)
            figures[f"ours {label}/{count}"] = {
                "up": stack.command("up", "--yes", "--skip-preview", *flags, env=env),
                "destroy": stack.command("destroy", "--yes", "--skip-preview", *flags, env=env),
            }
            _save_progress(figures)
    return figures


def goals(figures: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for command, size, other, most in GOALS:
        if f"ours/{size}" in figures:
            ratio = (
                figures[f"ours/{size}"][command]["seconds"]
                / figures[f"{other}/{size}"][command]["seconds"]
            )
            figure = f"`{command}` of {size} tokens, ours / {other}"
            rows.append({"figure": figure, "at most": most, "ratio": ratio, "met": ratio <= most})
    return rows


def render(results: dict[str, Any]) -> str:
    """RESULTS-engine.md: the goals, then every command's figures."""
    goal_rows = [
        (g["figure"], f"{g['at most']:g}x", f"{g['ratio']:.2f}x", "yes" if g["met"] else "**no**")
        for g in results["goals"]
    ]
    command_rows = [
        (
            stack,
            command,
            f"{f['seconds']:.2f}",
            f"{f['engine_only_seconds']:.2f}",
            str(f["provider_calls"]),
            f"{f['api_requests']} ({f['listings']})",
            f"{f['api_server_seconds']:.2f}",
            f"{f['cli_peak_mib']:.0f}",
            f"{f['host_peak_mib']:.0f}",
        )
        for stack, commands in results["figures"].items()
        for command, f in commands.items()
    ]
    header = (
        "stack", "command", "s", "engine-only s", "provider calls", "API requests (listings)",
        "API server s", "CLI MiB", "host MiB",
    )  # fmt: skip
    machine = results["machine"]
    return "\n".join(
        [
            "# Benchmark results through the real Pulumi CLI",
            "",
            f"`{results['command']}`, {results['date']}, Pulumi CLI {results['cli']}, emulator "
            f"latency {results['latency_ms']} ms, {machine['cpu_count']} CPUs, Python "
            f"{machine['python']}, SDK {machine['pulumi']}; run time "
            f"{results['total_seconds']:.0f} s; raw figures in `results-engine.json`. How each "
            "figure is made: `benchmarks/engine.py`'s docstring. One run per figure: read the "
            "ratios, not the seconds, and only to one digit.",
            "",
            table(("goal", "at most", "measured", "met?"), goal_rows),
            "",
            "Each command: wall seconds; of them, the seconds with no provider call in flight "
            "(the engine and the program alone); provider calls; API requests (listings) and "
            "their summed server time; peak resident MiB of the CLI and of the provider host.",
            "",
            table(header, command_rows),
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,500,2000", help="comma-separated token counts")
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="3 tokens and no latency")
    parser.add_argument(
        "--update-results", action="store_true", help=f"write the committed {COMMITTED}/"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.latency_ms = "3", 0
    sizes = [int(size) for size in args.sizes.split(",")]
    out = Path(COMMITTED if args.update_results else SCRATCH)
    started = time.monotonic()
    with Emulator(latency_ms=args.latency_ms) as emulator, tempfile.TemporaryDirectory() as tmp:
        figures = measure(emulator, Path(tmp), sizes)
    version = subprocess.run(
        [str(cli_path()), "version"], capture_output=True, text=True, check=True
    ).stdout.strip()
    results = {
        "command": "python -m benchmarks.engine " + " ".join(argv or sys.argv[1:]),
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cli": version,
        "latency_ms": args.latency_ms,
        "machine": machine(),
        "total_seconds": time.monotonic() - started,
        "figures": figures,
        "goals": goals(figures),
    }
    out.mkdir(exist_ok=True)
    (out / "results-engine.json").write_text(json.dumps(results, indent=1) + "\n")
    (out / "RESULTS-engine.md").write_text(render(results), encoding="utf-8")
    print(render(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
