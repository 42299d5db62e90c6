"""The goals, checked against a run's figures, and RESULTS.md: tables of figures only.

What each figure measures, why a goal is what it is, and how to read a miss:
``docs/benchmarks.md``.
"""

from __future__ import annotations

import os
import platform
from importlib.metadata import version
from typing import Any

from benchmarks.common import LIST_PER_READ, NULL, OURS, table
from benchmarks.drill import MODES, TRIGGERS
from benchmarks.scale import OPERATIONS
from localskills_pulumi.provider import HOST_WORKERS

__all__ = ["GOALS", "goals", "machine", "render_markdown"]

GOALS = {
    "listings per tenant": 2,
    "refresh speedup": 10.0,
    "create ratio": 1.15,
    "connections": HOST_WORKERS,
    "cold start ratio": 1.3,
    "state bytes": 200,
    "scale listings per tenant": 1,
    "drill failures": 0,
}
"""Each goal's number; ``docs/benchmarks.md`` says where it comes from."""

NAMES = {OURS: "ours", LIST_PER_READ: "list-per-read", NULL: "host floor"}


def _goal(figure: str, goal: str, measured: str, met: bool) -> dict[str, Any]:
    return {"figure": figure, "goal": goal, "measured": measured, "met": met}


def goals(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The goals against the measured figures."""
    refresh = results["refresh"]
    largest = refresh[-1]
    ours_listings = [row[OURS]["max_listings"] for row in refresh]
    baseline_listings = [row[LIST_PER_READ]["max_listings"] for row in refresh]
    create, conn, cold = results["create"], results["connections"], results["cold_start"]
    state_bytes = results["state_size"][OURS]
    rows = [
        _goal(
            "listings per refresh, one tenant",
            f"≤ {GOALS['listings per tenant']} per tenant at every size",
            f"ours {'/'.join(map(str, ours_listings))}; "
            f"list-per-read {'/'.join(map(str, baseline_listings))}",
            all(n <= GOALS["listings per tenant"] for n in ours_listings),
        ),
        _goal(
            f"refresh wall time, {largest['size']} tokens",
            f"≥ {GOALS['refresh speedup']:g}x faster than list-per-read",
            f"{largest[OURS]['median_seconds']:.3f} s vs "
            f"{largest[LIST_PER_READ]['median_seconds']:.3f} s: {largest['speedup']:.1f}x",
            largest["speedup"] >= GOALS["refresh speedup"],
        ),
        _goal(
            f"create overhead, {create['count']} creates",
            f"≤ {GOALS['create ratio']:g}x plain requests",
            f"{create['median_seconds'][OURS]:.3f} s vs "
            f"{create['median_seconds']['plain']:.3f} s: {create['ratio']:.2f}x",
            create["ratio"] <= GOALS["create ratio"],
        ),
        _goal(
            f"TCP connections, {conn['operations']['total']} operations",
            f"≤ {GOALS['connections']} (one per host worker)",
            str(conn["connections"]),
            conn["connections"] <= GOALS["connections"],
        ),
        _goal(
            "cold start",
            f"≤ {GOALS['cold start ratio']:g}x the do-nothing provider",
            f"{cold['median'][OURS]['seconds']:.3f} s vs "
            f"{cold['median'][NULL]['seconds']:.3f} s: {cold['ratio']:.2f}x",
            cold["ratio"] <= GOALS["cold start ratio"],
        ),
        _goal(
            "state size (`__provider`)",
            f"≤ {GOALS['state bytes']} B",
            f"{state_bytes} B",
            state_bytes <= GOALS["state bytes"],
        ),
    ]
    scale = results["scale"]
    for op in OPERATIONS:
        ours, baseline = (scale[op][kind]["max_listings"] for kind in (OURS, LIST_PER_READ))
        allowed = GOALS["scale listings per tenant"] * scale["tenants"]
        rows.append(
            _goal(
                f"listings per {'refresh' if op == 'refresh' else 'plain `pulumi up`'}, "
                f"{scale['tokens']} tokens in {scale['tenants']} tenants",
                f"≤ {allowed} (one per tenant)",
                f"ours {ours}; list-per-read {baseline}",
                ours <= allowed,
            )
        )
    drill = results["drill"]["summary"]
    kept, forced = (sum(drill[mode][trigger]["failures"] for trigger in TRIGGERS) for mode in MODES)
    rows += [
        _goal(
            "rotation drill: failed provisioning requests, create-before-delete",
            f"{GOALS['drill failures']}",
            f"{kept} of {sum(drill[MODES[0]][t]['requests'] for t in TRIGGERS)}",
            kept == GOALS["drill failures"],
        ),
        _goal(
            "rotation drill, delete-before-replace forced (the control)",
            "≥ 1 in every drill: the drill can fail",
            f"{forced} of {sum(drill[MODES[1]][t]['requests'] for t in TRIGGERS)}",
            all(drill[MODES[1]][t]["min_failures"] >= 1 for t in TRIGGERS),
        ),
    ]
    return rows


def machine() -> dict[str, Any]:
    """Where the run happened."""
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "pulumi": version("pulumi"),
    }


def _s(value: float) -> str:
    return f"{value:.3f}"


def _mib(kib: int | None) -> str:
    return "n/a" if kib is None else f"{kib / 1024:.0f}"


def goals_table(results: dict[str, Any]) -> str:
    """Figure, goal, measured, met?"""
    return table(
        ("figure", "goal", "measured", "met?"),
        (
            (g["figure"], g["goal"], g["measured"], "yes" if g["met"] else "**no**")
            for g in results["goals"]
        ),
    )


def refresh_table(results: dict[str, Any]) -> str:
    """Listings and median seconds per size, with the host's floor."""
    return table(
        (
            "tokens",
            "listings ours",
            "listings list-per-read",
            "ours s",
            "list-per-read s",
            "host floor s",
            "speedup",
            "ours - floor s",
        ),
        (
            (
                str(row["size"]),
                str(row[OURS]["max_listings"]),
                str(row[LIST_PER_READ]["max_listings"]),
                _s(row[OURS]["median_seconds"]),
                _s(row[LIST_PER_READ]["median_seconds"]),
                _s(row[NULL]["median_seconds"]),
                f"{row['speedup']:.1f}x",
                _s(row[OURS]["median_seconds"] - row[NULL]["median_seconds"]),
            )
            for row in results["refresh"]
        ),
    )


def scale_table(results: dict[str, Any]) -> str:
    """Each operation and provider: listings, median seconds, the host's peak memory."""
    scale = results["scale"]
    return table(
        ("operation", "provider", "listings", "median s", "host peak MiB (VmHWM)"),
        (
            (
                op if op == "refresh" else "plain `pulumi up`",
                NAMES[kind],
                str(scale[op][kind]["max_listings"]),
                _s(scale[op][kind]["median_seconds"]),
                _mib(scale[op][kind]["max_peak_kib"]),
            )
            for op in OPERATIONS
            for kind in (OURS, LIST_PER_READ, NULL)
        ),
    )


def drill_table(results: dict[str, Any]) -> str:
    """Each mode and trigger: drills, requests, failures, the request at the switch."""
    runs = results["drill"]["runs"]
    summary = results["drill"]["summary"]
    return table(
        (
            "replacement",
            "rotated by",
            "drills",
            "requests",
            "failed",
            "failed per drill",
            "request at the switch",
            "failing for s (most)",
        ),
        (
            (
                mode,
                "`rotate_before_days` window" if trigger == "window" else "input change",
                str(row["drills"]),
                str(row["requests"]),
                str(row["failures"]),
                f"{row['min_failures']}-{row['max_failures']}",
                "/".join(
                    str(r["at_switch_status"])
                    for r in runs
                    if r["mode"] == mode and r["trigger"] == trigger
                ),
                _s(row["max_failing_seconds"]),
            )
            for mode in MODES
            for trigger in TRIGGERS
            for row in [summary[mode][trigger]]
        ),
    )


def other_tables(results: dict[str, Any]) -> list[str]:
    """Create overhead, connections, cold start phases, import costs, state size."""
    create, conn, cold = results["create"], results["connections"], results["cold_start"]
    m = create["median_seconds"]
    ops = conn["operations"]
    phases = ("start", "configure", "check", "create", "seconds")
    imports = cold["import_seconds"]
    size = results["state_size"]
    return [
        "## Create overhead (median s)",
        "",
        table(
            ("creates", "through the host", "plain requests", "ratio", "host floor"),
            [
                (
                    str(create["count"]),
                    _s(m[OURS]),
                    _s(m["plain"]),
                    f"{create['ratio']:.2f}x",
                    _s(m[NULL]),
                )
            ],
        ),
        "",
        "## Connections",
        "",
        table(
            ("creates", "reads", "deletes", "requests", "TCP connections", "host workers"),
            [
                (
                    str(ops["create"]),
                    str(ops["read"]),
                    str(ops["delete"]),
                    str(conn["requests"]),
                    str(conn["connections"]),
                    str(conn["host_workers"]),
                )
            ],
        ),
        "",
        "## Cold start (median s)",
        "",
        table(
            ("provider", "host start", "configure", "first Check (load)", "first Create", "total"),
            [
                (NAMES[kind], *(_s(cold["median"][kind][p]) for p in phases))
                for kind in (OURS, NULL)
            ],
        ),
        "",
        table(
            ("import urllib3 s", "then requests s", "then the package s"),
            [(_s(imports["urllib3"]), _s(imports["requests"]), _s(imports["package"]))],
        ),
        "",
        "## State size (bytes of `__provider`)",
        "",
        table(
            ("ours", "list-per-read", "null"),
            [(str(size[OURS]), str(size[LIST_PER_READ]), str(size[NULL]))],
        ),
    ]


def machine_table(results: dict[str, Any]) -> str:
    """Where and when, and how busy the machine was."""
    m = results["machine"]
    load = results.get("load_average") or {}
    rows = [
        ("platform", m["platform"]),
        ("CPUs", str(m["cpu_count"])),
        ("Python", m["python"]),
        ("pulumi (Python SDK)", m["pulumi"]),
        ("date", results["date"]),
        ("load average 1/5/15 min, start", " / ".join(map(str, load.get("start") or ["n/a"]))),
        ("load average 1/5/15 min, end", " / ".join(map(str, load.get("end") or ["n/a"]))),
        ("run time", f"{results['total_seconds']:.0f} s"),
    ]
    if results.get("note"):
        rows.append(("note", results["note"]))
    return table(("", ""), rows)


def render_markdown(results: dict[str, Any], doc_link: str) -> str:
    """RESULTS.md: tables of figures, and one line pointing to the explanation."""
    scale = results["scale"]
    drill = results["drill"]
    parts = [
        "# Benchmark results",
        "",
        f"`python -m benchmarks.run {results['argv']}`".replace(" `", "`")
        + f", {results['date']}, emulator latency {results['latency_ms']} ms; raw samples in "
        f"`{results['json_name']}`. What each figure is and how to read it: "
        f"[docs/benchmarks.md]({doc_link}).",
        "",
        goals_table(results),
        "",
        f"## Refresh of one tenant (median of {results['reps']} runs)",
        "",
        refresh_table(results),
        "",
        f"## Scale: {scale['tokens']} tokens in {scale['tenants']} tenants "
        f"(median of {results['scale_reps']} runs)",
        "",
        scale_table(results),
        "",
        f"## Rotation drill (a provisioning request every {drill['period_ms']} ms)",
        "",
        drill_table(results),
        "",
        *other_tables(results),
        "",
        "## Machine",
        "",
        machine_table(results),
        "",
    ]
    return "\n".join(parts)
