"""Scale: one stack's tokens spread over many tenants (1,000 in 50 by default), refreshed and
planned by a plain `pulumi up` (the liveness check on, its default), for this package, the
Terraform resource's list-per-read strategy and the do-nothing provider (the host's floor):
listings, wall time and the host's peak memory.

What it measures and how to read it: ``docs/benchmarks.md``.
"""

from __future__ import annotations

from typing import Any

from benchmarks.common import (
    KINDS,
    LIST_PER_READ,
    NULL,
    OURS,
    SCIM_TOKEN_TYPE,
    Bench,
    Resource,
    alternating,
    host_run,
    median,
    new_inputs,
    read_back,
)
from localskills_pulumi.testing.host import ProviderHost
from localskills_pulumi.testing.wire import urn

__all__ = ["OPERATIONS", "plan_unchanged", "scale_figure"]

OPERATIONS = ("refresh", "up")
"""``refresh``: a Read per token. ``up``: the program unchanged, a Check and a Diff per token."""


def plan_unchanged(host: ProviderHost, resource: Resource) -> bool:
    """What a plain `pulumi up` sends for a resource whose program did not change: Check (the
    prior inputs as olds) then Diff (prior outputs against the checked inputs). True when the
    plan keeps the token."""
    checked = host.check(resource.urn, resource.inputs, resource.inputs)
    diff = host.diff(resource.id, resource.urn, resource.outputs, checked.inputs)
    return diff.changes == "DIFF_NONE"


def create_state(bench: Bench, tenants: int, per_tenant: int) -> tuple[list[str], list[Resource]]:
    """``tenants`` fresh tenants with ``per_tenant`` tokens each, created through one host."""
    tenant_ids = [bench.emulator.new_tenant("scale") for _ in range(tenants)]
    host = bench.start_host()

    def up(item: tuple[str, int]) -> Resource:
        tenant_id, index = item
        resource_urn = urn(SCIM_TOKEN_TYPE, f"{tenant_id}-{index}")
        checked = host.check(resource_urn, {}, new_inputs(OURS, tenant_id, f"team-{index}"))
        id_, outputs = host.create(resource_urn, checked.inputs)
        return Resource(id_, resource_urn, outputs, checked.inputs)

    try:
        state = bench.fan_out(up, [(t, i) for t in tenant_ids for i in range(per_tenant)])
    finally:
        host.stop()
    return tenant_ids, state


def scale_figure(bench: Bench, tenants: int, per_tenant: int, reps: int) -> dict[str, Any]:
    """Refresh and plain `pulumi up` of ``per_tenant`` tokens in each of ``tenants`` tenants,
    each in a fresh host, for every provider; the order rotates between the ``reps``
    repetitions."""
    tenant_ids, state = create_state(bench, tenants, per_tenant)
    calls = {"refresh": read_back, "up": plan_unchanged}
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {
        op: {kind: [] for kind in KINDS} for op in OPERATIONS
    }
    for rep in range(reps):
        for kind in alternating(KINDS, rep):
            for op in OPERATIONS:
                runs[op][kind].append(host_run(bench, kind, state, calls[op], tenant_ids))
    figure: dict[str, Any] = {"tenants": tenants, "per_tenant": per_tenant, "tokens": len(state)}
    for op in OPERATIONS:
        figure[op] = {
            kind: {
                "runs": samples,
                "median_seconds": median([s["seconds"] for s in samples]),
                "max_listings": max(s["listings"] for s in samples),
                "max_peak_kib": max((s["peak_kib"] or 0) for s in samples) or None,
            }
            for kind, samples in runs[op].items()
        }
        row = figure[op]
        print(
            f"  scale {op} {len(state)} tokens in {tenants} tenants: ours "
            f"{row[OURS]['median_seconds']:.3f} s ({row[OURS]['max_listings']} listings), "
            f"list-per-read {row[LIST_PER_READ]['median_seconds']:.3f} s "
            f"({row[LIST_PER_READ]['max_listings']}), host floor "
            f"{row[NULL]['median_seconds']:.3f} s",
            flush=True,
        )
    return figure
