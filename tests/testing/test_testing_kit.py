"""The test kit's own parts: the host pool, the Stack wrapper, the SDK adapter's version check,
and the engine rules ported from Go (as pure functions)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from localskills_pulumi.testing import Stack
from localskills_pulumi.testing._sdk import check_sdk_version
from localskills_pulumi.testing.host import HostPool
from localskills_pulumi.testing.provider_client import DiffResponse
from localskills_pulumi.testing.rules import (
    apply_replace_on_changes,
    changed_keys,
    process_ignore_changes,
    schedule_deletes,
    should_trigger_replace,
)
from localskills_pulumi.testing.state import ResourceState
from localskills_pulumi.testing.wire import UNKNOWN, config_string, secret, unwrap
from tests.testing.engine_support import (
    CONFIG,
    PROJECT,
    PROJECT_ROOT,
    SECRET_KEYS,
    RecordingMocks,
    U,
    echo_program,
)

# -- HostPool ----------------------------------------------------------------------------------


def test_a_pool_hands_out_started_unconfigured_hosts_and_starts_the_next(log_path: Path) -> None:
    with HostPool(env={"ECHO_PROVIDER_LOG": str(log_path)}, cwd=PROJECT_ROOT) as pool:
        first = pool.take()
        try:
            assert first.running and first.configured_with is None
            second = pool.take()
            try:
                assert second.running and second.pid != first.pid
            finally:
                second.stop()
        finally:
            first.stop()
        assert pool.started >= 2
    with pytest.raises(RuntimeError, match="closed"):
        pool.take()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_closing_a_pool_stops_its_spares(log_path: Path) -> None:
    pool = HostPool(env={"ECHO_PROVIDER_LOG": str(log_path)}, cwd=PROJECT_ROOT, spares=2)
    pids = pool.prestart().spare_pids(wait=True)
    assert len(pids) == 2 and all(_alive(pid) for pid in pids)
    pool.close()
    assert not any(_alive(pid) for pid in pids)
    assert pool.spare_pids() == []


# -- Stack -------------------------------------------------------------------------------------


def test_stack_runs_the_clis_operations_against_one_state(pool: HostPool) -> None:
    stack = Stack(
        pool,
        project=PROJECT,
        program=echo_program("st", {"name": "st", "value": "1"}),
        config=CONFIG,
        secret_config_keys=SECRET_KEYS,
        mocks=RecordingMocks(),
    )
    assert stack.preview().steps == [("create", U("st"))]
    assert stack.state.resources == {}
    assert stack.up().steps == [("create", U("st"))]
    assert stack.urn("pulumi-python:dynamic/echo:Echo", "st") == U("st")
    assert stack.refresh() == [("refresh", U("st"))]
    stack.taint(U("st"))
    assert stack.up().steps[0] == ("replace", U("st"), ("id",))
    assert stack.destroy() == [("delete", U("st"))]
    assert stack.state.resources == {}
    with pytest.raises(KeyError, match="no resource"):
        stack.taint(U("st"))


# -- the SDK adapter ---------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["3.258.0", "3.272.0", "3.999.1"])
def test_the_sdk_range_accepts_the_versions_it_was_checked_with(version: str) -> None:
    assert check_sdk_version(version) == version


@pytest.mark.parametrize("version", ["3.216.0", "3.257.9", "4.0.0"])
def test_an_sdk_outside_the_range_is_refused_with_the_range_and_the_fix(version: str) -> None:
    with pytest.raises(ImportError, match=r"pulumi >=3\.258,<4.*pip install") as raised:
        check_sdk_version(version)
    assert version in str(raised.value)


# -- the rules ---------------------------------------------------------------------------------


def test_ignore_changes_resets_top_level_and_nested_paths_and_drops_what_was_absent() -> None:
    old = {"a": 1, "tags": {"team": "x", "env": "prod"}, "s": secret("old")}
    new = {"a": 2, "tags": {"team": "y", "env": "dev"}, "s": secret("new"), "b": 3}
    ignored = process_ignore_changes(new, old, ["a", "tags.team", "s", "b"])
    assert ignored == {"a": 1, "tags": {"team": "x", "env": "dev"}, "s": old["s"]}
    assert new["a"] == 2  # the program's inputs are left alone
    assert process_ignore_changes(new, old, ["*"]) == old


def test_changed_keys_compare_unwrapped_values() -> None:
    assert changed_keys({"a": secret(1), "b": 2}, {"a": 1, "b": 3, "c": 4}) == ["b", "c"]


def test_replace_on_changes_turns_changed_keys_into_replace_keys() -> None:
    some = DiffResponse("DIFF_SOME", [], False, ["a", "b"])
    assert apply_replace_on_changes(some, ["a"]).replaces == ["a"]
    assert apply_replace_on_changes(some, ["*"]).replaces == ["a", "b"]
    assert apply_replace_on_changes(some, ["a.x"]).replaces == []
    none = DiffResponse("DIFF_NONE", [], False, ["a"])
    assert apply_replace_on_changes(none, ["a"]).replaces == []


def test_a_replacement_trigger_replaces_on_change_or_unknown_never_when_missing() -> None:
    assert should_trigger_replace("b", "a")
    assert not should_trigger_replace("a", "a")
    assert not should_trigger_replace(secret("a"), "a")
    assert not should_trigger_replace("a", None) and not should_trigger_replace(None, "a")
    assert should_trigger_replace(UNKNOWN, None)
    assert should_trigger_replace({"k": [UNKNOWN]}, {"k": [1]})


def _res(urn: str, *deps: str) -> ResourceState:
    return ResourceState(urn, "t", urn, {}, {}, dependencies=deps)


def test_deletes_are_scheduled_dependents_first_in_antichains() -> None:
    a, b, c, d = _res("a"), _res("b", "a"), _res("c", "a"), _res("d", "b", "c")
    chains = schedule_deletes([a, b, c, d])
    assert [[r.urn for r in chain] for chain in chains] == [["d"], ["c", "b"], ["a"]]
    # A dependency that is not being deleted does not hold anything back.
    assert [[r.urn for r in ch] for ch in schedule_deletes([b, c])] == [["c", "b"]]


def test_config_values_reach_the_program_as_strings() -> None:
    assert config_string("x") == "x"
    assert config_string(3) == "3"
    assert config_string({"a": secret([1])}) == '{"a": [1]}'
    assert unwrap(secret("s")) == "s"
