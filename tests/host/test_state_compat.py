"""The state's promise: every stack's state holds ``__provider``, a pickle of
``localskills_pulumi.provider.ScimTokenProvider`` by reference, and the engine hands it back to
the host on every later ``refresh``, ``up`` and ``destroy``. A ``__provider`` recorded from an
earlier version must keep working in this one, in Pulumi's own host."""

from __future__ import annotations

import base64
import pickletools
from collections.abc import Callable

from localskills_pulumi.provider import ScimTokenProvider
from localskills_pulumi.testing.emulator import Emulator
from localskills_pulumi.testing.host import ProviderHost
from localskills_pulumi.testing.wire import PROVIDER_KEY, provider_property
from tests.host.scim import emulator_config, scim_urn

RECORDED = {
    "0.1.0": (
        "gASVOwAAAAAAAACMG2xvY2Fsc2tpbGxzX3B1bHVtaS5wcm92aWRlcpSMEVNjaW1Ub2tlblByb3ZpZGVylJOUKY"
        "GUfZRiLg=="
    ),
}
"""``__provider`` as each released version writes it. Add the new one when it changes; never
remove one within 0.x."""


def test_this_version_writes_the_recorded_provider() -> None:
    assert provider_property(ScimTokenProvider()) == RECORDED["0.1.0"]


def test_the_recorded_provider_names_only_the_module_and_the_class() -> None:
    """What must never move within 0.x: ``localskills_pulumi.provider.ScimTokenProvider``,
    built without arguments and with no instance state."""
    opcodes = pickletools.genops(base64.b64decode(RECORDED["0.1.0"]))
    strings = [arg for _, arg, _ in opcodes if isinstance(arg, str)]
    assert strings == ["localskills_pulumi.provider", "ScimTokenProvider"]


def test_a_provider_recorded_by_0_1_0_creates_reads_and_deletes(
    host_factory: Callable[..., ProviderHost], emulator: Emulator, tenant_id: str
) -> None:
    host = host_factory(emulator_config(emulator))  # pulumi up
    news = {PROVIDER_KEY: RECORDED["0.1.0"], "tenant_id": tenant_id, "name": "Okta SCIM"}
    checked = host.check(scim_urn(), {}, news)
    assert checked.failures == []
    id_, outs = host.create(scim_urn(), checked.inputs)
    later = host_factory(emulator_config(emulator))  # pulumi refresh, then pulumi destroy
    read = later.read(id_, scim_urn(), outs, checked.inputs)
    assert read.id == id_ and read.outputs["token_id"] == outs["token_id"]
    later.delete(id_, scim_urn(), read.outputs)
    assert [t["id"] for t in emulator.list_tokens(tenant_id)] == []
