"""policy/: the SCIM token policy pack, started as the CLI starts it and called over the analyzer
protocol with the checked inputs a stack's ScimToken would send (through Pulumi's real
dynamic-provider host)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest

from localskills_pulumi.model import SCIM_TOKEN_TYPE
from localskills_pulumi.testing.host import ProviderHost
from localskills_pulumi.testing.wire import UNKNOWN
from tests.host.scim import ROOT, props
from tests.policy.analyzer import (
    AnalyzeResult,
    PolicyPackProcess,
    ResourceOptions,
    default_provider,
)

PROJECT = "localskills-scim"
STACK = "dev"

MUST_EXPIRE = "scim-token-must-expire"
MAX_LIFETIME = "scim-token-max-lifetime"
MUST_ROTATE = "scim-token-must-rotate"
POLICIES = [MUST_EXPIRE, MAX_LIFETIME, MUST_ROTATE]


@pytest.fixture(scope="module")
def host() -> Iterator[ProviderHost]:
    """The dynamic-provider host, for the Check whose result the engine hands to the analyzer."""
    with ProviderHost(cwd=ROOT) as running:
        yield running


PackFactory = Callable[..., PolicyPackProcess]


@pytest.fixture(scope="module")
def start_pack() -> Iterator[PackFactory]:
    """Policy packs as the CLI runs them, one per config (the CLI starts one per run)."""
    started: list[PolicyPackProcess] = []

    def start(
        config_file: Mapping[str, Any] | None = None, *, dry_run: bool = True
    ) -> PolicyPackProcess:
        pack = PolicyPackProcess(
            project=PROJECT,
            stack=STACK,
            dry_run=dry_run,
            stack_config={"localskills-scim:tenantId": "engineering"},
        )
        started.append(pack)
        pack.start()
        pack.configure(config_file)
        return pack

    yield start
    for pack in started:
        pack.close()


@pytest.fixture(scope="module")
def pack(start_pack: PackFactory) -> PolicyPackProcess:
    """The pack with its default config."""
    return start_pack()


def scim_urn(name: str) -> str:
    return f"urn:pulumi:{STACK}::{PROJECT}::{SCIM_TOKEN_TYPE}::{name}"


def analyze(
    pack: PolicyPackProcess, host: ProviderHost, resource: str, **inputs: Any
) -> AnalyzeResult:
    """What the engine does for one ScimToken: Check the program's inputs (``__provider``
    included), then Analyze the checked inputs with the resource's options and provider."""
    urn = scim_urn(resource)
    checked = host.check(urn, {}, props(tenant_id="engineering", name="Okta SCIM", **inputs))
    assert checked.failures == [], checked.failures
    assert "__provider" in checked.inputs
    return pack.analyze(
        urn,
        checked.inputs,
        options=ResourceOptions(
            parent=f"urn:pulumi:{STACK}::{PROJECT}::pulumi:pulumi:Stack::{PROJECT}-{STACK}",
            additional_secret_outputs=["token_value"],
        ),
        provider=default_provider("pulumi-python", PROJECT, STACK),
    )


def only(result: AnalyzeResult, policy: str) -> str:
    """The message of the one diagnostic, which must come from ``policy``."""
    assert [d.policy_name for d in result.diagnostics] == [policy], result.diagnostics
    return result.diagnostics[0].message


def test_the_pack_describes_its_three_policies_their_levels_and_config(
    pack: PolicyPackProcess,
) -> None:
    info = pack.get_analyzer_info()
    assert info.name == "localskills-scim-tokens"
    assert info.supportsConfig
    assert [p.name for p in info.policies] == POLICIES
    assert pack.configured is not None
    assert {name: pack.configured[name].enforcement_level for name in POLICIES} == dict.fromkeys(
        POLICIES, "mandatory"
    )
    assert pack.configured[MAX_LIFETIME].properties == {"maxLifetimeDays": 365}
    assert pack.configured[MUST_ROTATE].properties == {"minRotateBeforeDays": 7}


def test_a_90_day_token_rotated_14_days_ahead_passes(
    pack: PolicyPackProcess, host: ProviderHost
) -> None:
    result = analyze(pack, host, "okta", expires_in_days=90, rotate_before_days=14)
    assert result.diagnostics == []
    assert result.not_applicable == {}


def test_a_token_that_never_expires_is_flagged_with_the_fix(
    pack: PolicyPackProcess, host: ProviderHost
) -> None:
    result = analyze(pack, host, "forever")
    message = only(result, MUST_EXPIRE)
    assert result.diagnostics[0].enforcement_level == "mandatory"
    assert "ScimToken 'forever' never expires: expires_in_days is not set" in message
    assert "Fix: set expires_in_days and rotate_before_days" in message


def test_a_ten_year_token_is_flagged_naming_its_lifetime_the_maximum_and_the_fix(
    pack: PolicyPackProcess, host: ProviderHost
) -> None:
    result = analyze(pack, host, "decade", expires_in_days=3650, rotate_before_days=30)
    message = only(result, MAX_LIFETIME)
    assert "ScimToken 'decade' lives 3650 days (expires_in_days=3650)" in message
    assert "more than the maximum of 365" in message
    assert "Fix: set expires_in_days to 365 or fewer" in message


def test_a_token_that_does_not_rotate_is_flagged_with_the_fix(
    pack: PolicyPackProcess, host: ProviderHost
) -> None:
    message = only(analyze(pack, host, "no-rotation", expires_in_days=90), MUST_ROTATE)
    assert "ScimToken 'no-rotation' does not rotate: rotate_before_days is not set" in message
    assert "Fix: set rotate_before_days to at least 7" in message


def test_a_rotation_window_below_the_minimum_is_flagged(
    pack: PolicyPackProcess, host: ProviderHost
) -> None:
    result = analyze(pack, host, "late", expires_in_days=90, rotate_before_days=3)
    message = only(result, MUST_ROTATE)
    assert "ScimToken 'late' rotates only 3 days before expiry (rotate_before_days=3)" in message
    assert "fewer than the minimum of 7. Fix: set rotate_before_days to at least 7" in message


def test_a_ten_year_token_that_never_rotates_gets_one_diagnostic_per_problem(
    pack: PolicyPackProcess, host: ProviderHost
) -> None:
    result = analyze(pack, host, "both", expires_in_days=3650)
    assert sorted(d.policy_name for d in result.diagnostics) == [MAX_LIFETIME, MUST_ROTATE]


def test_config_raises_the_maximum_lifetime(start_pack: PackFactory, host: ProviderHost) -> None:
    pack = start_pack({MAX_LIFETIME: {"maxLifetimeDays": 730}})
    assert (
        analyze(pack, host, "two-years", expires_in_days=730, rotate_before_days=30).diagnostics
        == []
    )
    message = only(
        analyze(pack, host, "too-long", expires_in_days=731, rotate_before_days=30), MAX_LIFETIME
    )
    assert "lives 731 days" in message and "maximum of 730" in message


def test_config_lowers_the_maximum_lifetime_and_raises_the_rotation_minimum(
    start_pack: PackFactory, host: ProviderHost
) -> None:
    pack = start_pack(
        {MAX_LIFETIME: {"maxLifetimeDays": 30}, MUST_ROTATE: {"minRotateBeforeDays": 21}}
    )
    result = analyze(pack, host, "quarter", expires_in_days=90, rotate_before_days=14)
    messages = {d.policy_name: d.message for d in result.diagnostics}
    assert set(messages) == {MAX_LIFETIME, MUST_ROTATE}
    assert (
        "more than the maximum of 30. Fix: set expires_in_days to 30 or fewer"
        in messages[MAX_LIFETIME]
    )
    assert "fewer than the minimum of 21" in messages[MUST_ROTATE]


def test_enforcement_levels_are_configurable_per_policy(
    start_pack: PackFactory, host: ProviderHost
) -> None:
    pack = start_pack(
        {
            MUST_EXPIRE: "advisory",
            MAX_LIFETIME: {"enforcementLevel": "advisory", "maxLifetimeDays": 180},
            MUST_ROTATE: "disabled",
        }
    )
    forever = analyze(pack, host, "forever")
    assert [(d.policy_name, d.enforcement_level) for d in forever.diagnostics] == [
        (MUST_EXPIRE, "advisory")
    ]
    year = analyze(pack, host, "year", expires_in_days=365)
    # The maximum from the same entry applies; the disabled policy does not run at all.
    assert [(d.policy_name, d.enforcement_level) for d in year.diagnostics] == [
        (MAX_LIFETIME, "advisory")
    ]


def test_all_sets_every_policys_enforcement_level_and_a_policy_entry_overrides_it(
    start_pack: PackFactory, host: ProviderHost
) -> None:
    pack = start_pack({"all": "advisory", MUST_ROTATE: "mandatory"}, dry_run=False)
    result = analyze(pack, host, "both", expires_in_days=3650)
    assert {(d.policy_name, d.enforcement_level) for d in result.diagnostics} == {
        (MAX_LIFETIME, "advisory"),
        (MUST_ROTATE, "mandatory"),
    }
    forever = analyze(pack, host, "forever")
    assert [(d.policy_name, d.enforcement_level) for d in forever.diagnostics] == [
        (MUST_EXPIRE, "advisory")
    ]


def test_values_not_known_in_a_preview_are_not_flagged(
    pack: PolicyPackProcess, host: ProviderHost
) -> None:
    result = analyze(pack, host, "later", expires_in_days=UNKNOWN, rotate_before_days=UNKNOWN)
    # Not even pulumi-policy's "can't run policy during preview" advisory.
    assert result.diagnostics == []


def test_what_is_known_in_a_preview_is_still_judged(
    pack: PolicyPackProcess, host: ProviderHost
) -> None:
    unknown_lifetime = analyze(pack, host, "unknown-lifetime", expires_in_days=UNKNOWN)
    assert "rotate_before_days is not set" in only(unknown_lifetime, MUST_ROTATE)
    unknown_rotation = analyze(
        pack, host, "unknown-rotation", expires_in_days=3650, rotate_before_days=UNKNOWN
    )
    assert "lives 3650 days" in only(unknown_rotation, MAX_LIFETIME)


def test_other_resource_types_are_not_applicable(pack: PolicyPackProcess) -> None:
    urn = f"urn:pulumi:{STACK}::{PROJECT}::okta:app/connection:Connection::scim"
    result = pack.analyze(urn, {"action": "activate", "expiresInDays": None})
    assert result.diagnostics == []
    assert set(result.not_applicable) == set(POLICIES)
