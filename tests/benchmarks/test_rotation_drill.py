"""The rotation drill (``benchmarks/drill.py``), short: a SCIM client provisions every 20 ms with
the token the consuming resource holds while the stack rotates it, through the stand-in engine,
Pulumi's dynamic-provider host and the emulator.

Create-before-delete drops no request; delete-before-replace forced drops at least the one the
client sends, with the token the consumer still holds, at the moment the consumer receives the
new one (the old token is revoked by then). Both outcomes follow from the order of the engine's
steps, not from timing: see the module's docstring.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from benchmarks.drill import run_drill
from localskills_pulumi.testing import Emulator, HostPool
from tests.program.support import ROOT

TRIGGERS = ["window", "input"]


@pytest.fixture(scope="module")
def drill_emulator() -> Iterator[Emulator]:
    """An emulator of the drills' own: the window drills move its clock forward (each drill's
    token is issued after the moves of the drills before it)."""
    with Emulator() as running:
        yield running


@pytest.fixture(scope="module")
def hosts() -> Iterator[HostPool]:
    with HostPool(cwd=ROOT) as pool:
        yield pool


def drill(emulator: Emulator, hosts: HostPool, trigger: str, mode: str) -> dict[str, Any]:
    return run_drill(emulator, hosts, trigger=trigger, mode=mode, period=0.02)


@pytest.mark.parametrize("trigger", TRIGGERS)
def test_create_before_delete_rotation_fails_no_provisioning_request(
    drill_emulator: Emulator, hosts: HostPool, trigger: str
) -> None:
    result = drill(drill_emulator, hosts, trigger, "create-before-delete")
    assert result["steps"][-2:] == ["replace", "delete-replaced"]
    assert result["failures"] == 0
    assert result["at_switch_status"] == 201  # the old token still worked as the consumer switched
    assert result["requests"] >= 7  # 3 before the rotation, the one at the switch, 3 after


@pytest.mark.parametrize("trigger", TRIGGERS)
def test_delete_before_replace_rotation_fails_provisioning_requests(
    drill_emulator: Emulator, hosts: HostPool, trigger: str
) -> None:
    result = drill(drill_emulator, hosts, trigger, "delete-before-replace")
    assert result["steps"][-2:] == ["delete-replaced", "replace"]
    assert result["at_switch_status"] == 401  # the consumer's token was revoked before it switched
    assert result["failures"] >= 1
    assert result["failed_statuses"] == [401]
