"""The figures of one tenant's tokens: refresh (listings, time, the host's floor), create
overhead against plain ``requests``, TCP connections, and cold start.

What each figure measures and how to read it: ``docs/benchmarks.md``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from benchmarks.common import (
    LIST_PER_READ,
    NULL,
    OURS,
    PROVIDERS,
    ROOT,
    SCIM_TOKEN_TYPE,
    Bench,
    alternating,
    create_resources,
    host_run,
    median,
    new_inputs,
    read_back,
    timed,
)
from localskills_pulumi.provider import HOST_WORKERS
from localskills_pulumi.settings import CONFIG_API_TOKEN
from localskills_pulumi.testing.host import ProviderHost
from localskills_pulumi.testing.wire import PROVIDER_KEY, urn

__all__ = ["cold_figure", "connections_figure", "create_figure", "refresh_figure"]


def refresh_figure(bench: Bench, sizes: Sequence[int], reps: int) -> list[dict[str, Any]]:
    """Listings per refresh and refresh wall time, for each size: ours, list-per-read and the
    host's floor."""
    rows: list[dict[str, Any]] = []
    setup = bench.start_host()
    try:
        for size in sizes:
            tenant_id = bench.emulator.new_tenant("refresh")
            state = create_resources(bench, setup, tenant_id, size)
            runs: dict[str, list[dict[str, Any]]] = {OURS: [], LIST_PER_READ: [], NULL: []}
            for rep in range(reps):
                for kind in alternating((OURS, LIST_PER_READ, NULL), rep):
                    runs[kind].append(host_run(bench, kind, state, read_back, [tenant_id]))
            row: dict[str, Any] = {"size": size, "tenant_id": tenant_id}
            for kind, samples in runs.items():
                row[kind] = {
                    "runs": samples,
                    "median_seconds": median([s["seconds"] for s in samples]),
                    "max_listings": max(s["listings"] for s in samples),
                    "max_connections": max(s["connections"] for s in samples),
                }
            row["speedup"] = row[LIST_PER_READ]["median_seconds"] / row[OURS]["median_seconds"]
            print(
                f"  refresh {size:>4}: ours {row[OURS]['median_seconds']:.3f} s "
                f"({row[OURS]['max_listings']} listings), list-per-read "
                f"{row[LIST_PER_READ]['median_seconds']:.3f} s "
                f"({row[LIST_PER_READ]['max_listings']}), "
                f"host floor {row[NULL]['median_seconds']:.3f} s",
                flush=True,
            )
            rows.append(row)
    finally:
        setup.stop()
    return rows


def host_creates(bench: Bench, kind: str, count: int) -> dict[str, Any]:
    """``count`` Creates through a fresh host, timed; Checks (which load the provider) before."""
    tenant_id = bench.emulator.new_tenant("create")
    host = bench.start_host()
    try:
        urns = [urn(SCIM_TOKEN_TYPE, f"token-{i}") for i in range(count)]
        checked = bench.fan_out(
            lambda i: host.check(urns[i], {}, new_inputs(kind, tenant_id, f"team-{i}")).inputs,
            range(count),
        )
        bench.emulator.clear_requests()
        seconds, created = timed(
            lambda: bench.fan_out(lambda i: host.create(urns[i], checked[i]), range(count))
        )
    finally:
        host.stop()
    return {
        "seconds": seconds,
        "posts": bench.api_calls(tenant_id, "POST"),
        "provider_bytes": max(len(str(out[PROVIDER_KEY]).encode()) for _, out in created),
    }


def plain_posts(bench: Bench, count: int) -> dict[str, Any]:
    """The same POSTs with plain ``requests``: one Session shared by ``HOST_WORKERS`` threads,
    its pool sized like the product client's (``HOST_WORKERS`` connections)."""
    tenant_id = bench.emulator.new_tenant("plain")
    url = bench.emulator.tokens_url(tenant_id)
    session = requests.Session()
    session.mount("http://", HTTPAdapter(pool_connections=1, pool_maxsize=HOST_WORKERS))
    session.headers.update(
        {"Authorization": f"Bearer {bench.emulator.api_token}", "Accept": "application/json"}
    )

    def post(index: int) -> None:
        response = session.post(
            url, json={"name": f"team-{index}", "expiresInDays": 90}, timeout=30
        )
        if response.status_code != 201 or not response.json().get("success"):
            raise RuntimeError(f"plain POST: HTTP {response.status_code} {response.text[:200]}")

    bench.emulator.clear_requests()
    try:
        seconds, _ = timed(lambda: bench.fan_out(post, range(count), workers=HOST_WORKERS))
    finally:
        session.close()
    return {"seconds": seconds, "posts": bench.api_calls(tenant_id, "POST")}


def create_figure(bench: Bench, count: int, reps: int) -> dict[str, Any]:
    """Create overhead: creates through the host vs plain POSTs; the null provider's creates
    through the host give the host's own per-call floor."""
    runs: dict[str, list[dict[str, Any]]] = {OURS: [], "plain": [], NULL: []}
    for rep in range(reps):
        for kind in alternating((OURS, "plain", NULL), rep):
            runs[kind].append(
                plain_posts(bench, count) if kind == "plain" else host_creates(bench, kind, count)
            )
    medians = {kind: median([s["seconds"] for s in samples]) for kind, samples in runs.items()}
    figure = {
        "count": count,
        "concurrency": HOST_WORKERS,
        "runs": runs,
        "median_seconds": medians,
        "ratio": medians[OURS] / medians["plain"],
        "provider_bytes": max(s["provider_bytes"] for s in runs[OURS]),
        "list_per_read_provider_bytes": len(PROVIDERS[LIST_PER_READ].encode()),
        "null_provider_bytes": max(s["provider_bytes"] for s in runs[NULL]),
    }
    print(
        f"  create x{count}: host {medians[OURS]:.3f} s, plain requests {medians['plain']:.3f} s "
        f"({figure['ratio']:.2f}x), null provider through the host {medians[NULL]:.3f} s",
        flush=True,
    )
    return figure


def connections_figure(bench: Bench, ops: int) -> dict[str, Any]:
    """TCP connections for ``ops`` operations through one fresh host, as one `pulumi up` sends
    them: 40 % creates of new tokens, 20 % reads and 40 % deletes of tokens made by an earlier
    run (a run never revokes a token it issued itself), each batch ``bench.threads`` at a
    time."""
    creates = ops * 2 // 5
    reads = ops // 5
    deletes = ops - creates - reads
    if not 0 < reads <= creates or deletes > creates:
        raise ValueError(f"--ops {ops} is too small")
    tenant_id = bench.emulator.new_tenant("conn")
    setup = bench.start_host()
    try:
        earlier = create_resources(bench, setup, tenant_id, reads + deletes, prefix="earlier")
    finally:
        setup.stop()
    host = bench.start_host()
    try:
        bench.emulator.clear_requests()
        create_resources(bench, host, tenant_id, creates)
        kept = bench.fan_out(lambda r: read_back(host, r), earlier[:reads])
        bench.fan_out(lambda r: host.delete(r.id, r.urn, r.outputs), earlier[reads:])
        log = bench.emulator.requests_log()
        connections = bench.emulator.connections()
    finally:
        host.stop()
    if not all(kept):
        raise RuntimeError("connections: a live token read as gone")
    methods = {m: sum(1 for e in log if e["method"] == m) for m in ("POST", "GET", "DELETE")}
    figure = {
        "operations": {"create": creates, "read": reads, "delete": deletes, "total": ops},
        "requests": len(log),
        "requests_by_method": methods,
        "connections": connections,
        "host_workers": HOST_WORKERS,
    }
    print(f"  connections: {connections} for {ops} operations ({len(log)} requests)", flush=True)
    return figure


def cold_once(bench: Bench, kind: str, tenant_id: str) -> dict[str, float]:
    """From host start to the first Create answered, in phases."""
    resource_urn = urn(SCIM_TOKEN_TYPE, "first")
    started = time.perf_counter()
    host = ProviderHost(cwd=ROOT).start()
    try:
        listening = time.perf_counter()
        host.configure(bench.config(), secret_keys={CONFIG_API_TOKEN})
        configured = time.perf_counter()
        checked = host.check(resource_urn, {}, new_inputs(kind, tenant_id, "first"))
        loaded = time.perf_counter()
        host.create(resource_urn, checked.inputs)
        done = time.perf_counter()
    finally:
        host.stop()
    return {
        "seconds": done - started,
        "start": listening - started,
        "configure": configured - listening,
        "check": loaded - configured,
        "create": done - loaded,
    }


_IMPORT_PROBE = """
import json, time
import dill, grpc, pulumi.dynamic.dynamic, pulumi.runtime  # what the host has loaded
from pulumi.runtime.proto import provider_pb2_grpc
marks = [time.perf_counter()]
import urllib3
marks.append(time.perf_counter())
import requests
marks.append(time.perf_counter())
import localskills_pulumi.provider
marks.append(time.perf_counter())
print(json.dumps([b - a for a, b in zip(marks, marks[1:])]))
"""


def import_costs(reps: int) -> dict[str, float]:
    """Seconds to import, in a fresh interpreter that has the host's own modules loaded:
    ``urllib3``, then ``requests`` on top, then the rest of ``localskills_pulumi.provider``.
    Median of ``reps`` interpreters."""
    samples: list[list[float]] = []
    for _ in range(reps):
        done = subprocess.run(
            [sys.executable, "-c", _IMPORT_PROBE],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        samples.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return {
        name: median([sample[index] for sample in samples])
        for index, name in enumerate(("urllib3", "requests", "package"))
    }


def cold_figure(bench: Bench, reps: int) -> dict[str, Any]:
    """Cold start: this package vs the do-nothing provider, alternating, median of ``reps``."""
    tenant_id = bench.emulator.new_tenant("cold")
    runs: dict[str, list[dict[str, float]]] = {OURS: [], NULL: []}
    cold_once(bench, NULL, tenant_id)  # untimed: warm the OS file cache for both
    for rep in range(reps):
        for kind in alternating((OURS, NULL), rep):
            runs[kind].append(cold_once(bench, kind, tenant_id))
    medians = {
        kind: {phase: median([s[phase] for s in samples]) for phase in samples[0]}
        for kind, samples in runs.items()
    }
    figure = {
        "runs": runs,
        "median": medians,
        "ratio": medians[OURS]["seconds"] / medians[NULL]["seconds"],
        "import_seconds": import_costs(reps),
    }
    print(
        f"  cold start: ours {medians[OURS]['seconds']:.3f} s, do-nothing provider "
        f"{medians[NULL]['seconds']:.3f} s ({figure['ratio']:.2f}x)",
        flush=True,
    )
    return figure
