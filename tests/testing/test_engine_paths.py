"""The engine's other paths in the stand-in engine, through the real dynamic host: refresh,
targeted replace, taint, replace_on_changes, replacement_trigger, failed runs, protect,
retain_on_delete, ignore_changes, destroy, parallel calls. Each rule is the Go source's
(``pkg/resource/deploy``); see ``localskills_pulumi/testing/deployment.py``."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from localskills_pulumi.testing.engine import EngineError
from localskills_pulumi.testing.provider_client import ProviderError
from localskills_pulumi.testing.wire import unwrap
from tests.testing.echo_provider import Echo
from tests.testing.engine_support import Engine, U, echo_program, echoes

# -- refresh -----------------------------------------------------------------------------------


def test_refresh_reads_prior_outputs_then_diffs_drift_against_the_old_inputs(
    engine: Engine,
) -> None:
    created = engine.run(echo_program("r", {"name": "r", "value": "1"}))
    assert engine.refresh() == [("refresh", U("r"))]
    read, diff = engine.calls
    # Read with the prior outputs (the secret one stripped, as for any provider that does not
    # accept secrets); then Diff: the refreshed outputs as olds, the old inputs as news.
    assert (read["method"], read["id"]) == ("read", created.outputs["id"])
    assert read["props"]["secretOut"] == "s3cret-r" and read["props"]["value"] == "1"
    assert diff["method"] == "diff" and diff["olds"]["readId"] == created.outputs["id"]
    assert diff["props"] == {"name": "r", "value": "1"}
    # The refreshed outputs are the state's now.
    assert engine.state.resources[U("r")].outputs["readId"] == created.outputs["id"]


def test_refresh_shows_drift_when_the_diff_finds_changes(engine: Engine) -> None:
    engine.run(echo_program("drift", {"name": "drift", "value": "1", "read_inputs": True}))
    # Read finds `value` changed and returns inputs: they replace the state's, and the drift diff
    # (refreshed outputs against the old inputs) reports the change.
    assert engine.refresh() == [("refresh-update", U("drift"))]
    diff = engine.calls[1]
    assert diff["olds"]["value"] == "drifted" and diff["props"]["value"] == "1"
    inputs = engine.state.resources[U("drift")].inputs
    assert inputs["refreshed"] is True and inputs["value"] == "drifted"


def test_refresh_drops_a_resource_whose_read_returns_no_id(engine: Engine) -> None:
    engine.run(echo_program("gone", {"name": "gone", "vanish": True}))
    assert engine.refresh() == [("refresh-delete", U("gone"))]
    assert engine.methods() == ["read"]
    assert engine.state.resources == {}


def test_an_exception_in_the_drift_diff_fails_the_refresh(engine: Engine) -> None:
    engine.run(echo_program("bad-diff", {"name": "bad-diff", "explode": "diff"}))
    with pytest.raises(ProviderError, match="boom: diff") as raised:
        engine.refresh()
    assert raised.value.method == "Diff"
    assert engine.methods() == ["read", "diff"]
    assert list(engine.state.resources) == [U("bad-diff")]


def test_refresh_and_destroy_configure_the_host_with_the_last_ups_config(engine: Engine) -> None:
    engine.run(echo_program("cfg", {"name": "cfg"}))
    engine.config["greeting"] = "rotated"  # `pulumi config set`, no `pulumi up` yet
    engine.refresh()
    assert [c["greeting"] for c in engine.configures] == ["hi"]
    engine.destroy()
    assert [c["greeting"] for c in engine.configures] == ["hi"]


def test_up_with_refresh_refreshes_in_the_last_ups_host_then_updates_in_the_new_one(
    engine: Engine,
) -> None:
    engine.run(echo_program("ur", {"name": "ur"}))
    engine.config["greeting"] = "rotated"
    result = engine.run(echo_program("ur", {"name": "ur"}), refresh=True)
    assert result.steps == [("refresh", U("ur")), ("same", U("ur"))]
    assert engine.methods() == ["read", "diff", "check", "diff"]
    # Two processes: the refresh's with the last up's config, the update's with the new one.
    assert [c["greeting"] for c in engine.configures] == ["hi", "rotated"]
    refresh_pid = engine.configures[0]["pid"]
    assert [c["pid"] == refresh_pid for c in engine.calls] == [True, True, False, False]


def test_up_with_refresh_and_an_unchanged_config_uses_one_host(engine: Engine) -> None:
    engine.run(echo_program("one", {"name": "one"}))
    engine.run(echo_program("one", {"name": "one"}), refresh=True)
    assert len(engine.configures) == 1 and len(engine.pids()) == 1


# -- replacements the engine starts ------------------------------------------------------------


def test_targeted_replace_checks_without_olds_skips_diff_and_creates_before_deleting(
    engine: Engine,
) -> None:
    first = engine.run(echo_program("t", {"name": "t", "value": "1"}))
    second = engine.run(echo_program("t", {"name": "t", "value": "1"}), replace=[U("t")])
    assert second.steps == [("replace", U("t"), ("id",)), ("delete-replaced", U("t"))]
    assert engine.methods() == ["check", "create", "delete"]
    check, _, delete = engine.calls
    assert check["olds"] == {}
    assert delete["id"] == first.outputs["id"] != second.outputs["id"]


def test_replacing_a_urn_that_is_not_in_the_stack_fails_before_the_program_runs(
    engine: Engine,
) -> None:
    with pytest.raises(EngineError, match="could not be found in the stack"):
        engine.run(echo_program("nt", {"name": "nt"}), replace=[U("nt")])
    assert engine.methods() == []
    assert engine.state.resources == {}


def test_a_tainted_resource_is_replaced_once(engine: Engine) -> None:
    engine.run(echo_program("taint", {"name": "taint"}))
    engine.state.taint(U("taint"))
    replaced = engine.run(echo_program("taint", {"name": "taint"}))
    assert replaced.steps == [("replace", U("taint"), ("id",)), ("delete-replaced", U("taint"))]
    assert engine.methods() == ["check", "create", "delete"]
    assert engine.run(echo_program("taint", {"name": "taint"})).steps == [("same", U("taint"))]


def test_replace_on_changes_does_not_act_on_a_dynamic_providers_own_diff(engine: Engine) -> None:
    # applyReplaceOnChanges turns *changed keys* into replace keys; the Python host never reports
    # changed keys, so a diff that says DIFF_SOME without replaces stays an update.
    opts: dict[str, Any] = {"replace_on_changes": ["value"]}
    engine.run(echo_program("roc", {"name": "roc", "value": "1"}, **opts))
    result = engine.run(echo_program("roc", {"name": "roc", "value": "2"}, **opts))
    assert result.steps == [("update", U("roc"))]


def test_replace_on_changes_replaces_when_the_engine_computes_the_changed_keys(
    engine: Engine,
) -> None:
    # A diff left unknown makes the engine diff the inputs itself; those keys meet
    # replace_on_changes, and the resource is replaced (a second Check without olds first).
    opts: dict[str, Any] = {"replace_on_changes": ["value"]}
    props = {"name": "rocu", "diff_unknown": True}
    engine.run(echo_program("rocu", {**props, "value": "1"}, **opts))
    result = engine.run(echo_program("rocu", {**props, "value": "2"}, **opts))
    assert result.steps == [("replace", U("rocu"), ("value",)), ("delete-replaced", U("rocu"))]
    assert engine.methods() == ["check", "diff", "check", "create", "delete"]
    assert engine.calls[2]["olds"] == {}


def test_a_changed_replacement_trigger_skips_diff_and_replaces(engine: Engine) -> None:
    engine.run(echo_program("trig", {"name": "trig"}, replacement_trigger="a"))
    same = engine.run(echo_program("trig", {"name": "trig"}, replacement_trigger="a"))
    assert same.steps == [("same", U("trig"))]
    changed = engine.run(echo_program("trig", {"name": "trig"}, replacement_trigger="b"))
    assert changed.steps == [("replace", U("trig"), ()), ("delete-replaced", U("trig"))]
    # Check with the old inputs, no Diff, Check again without olds, then create-before-delete.
    assert engine.methods() == ["check", "check", "create", "delete"]
    assert engine.calls[0]["olds"] != {} and engine.calls[1]["olds"] == {}


# -- failed runs -------------------------------------------------------------------------------


def test_a_failed_run_leaves_the_replaced_resource_pending_delete_for_the_next_run(
    engine: Engine,
) -> None:
    first = engine.run(echo_program("fail", {"name": "f1"}))
    replace_then_fail = echo_program("fail", {"name": "f2"})

    def failing() -> None:
        replace_then_fail()
        Echo("other", {"name": "other", "explode": "create"})

    with pytest.raises(ProviderError, match="boom: create"):
        engine.run(failing)
    assert "delete" not in engine.methods()
    [pending] = engine.state.pending_deletes
    assert pending.delete and pending.id == first.outputs["id"]
    new_id = engine.state.resources[U("fail")].id
    assert new_id != first.outputs["id"]

    fixed = engine.run(echo_program("fail", {"name": "f2"}))
    assert fixed.steps == [("same", U("fail")), ("delete-replaced", U("fail"))]
    assert [(c["method"], c["id"]) for c in engine.calls if c["method"] == "delete"] == [
        ("delete", first.outputs["id"])
    ]
    assert engine.state.pending_deletes == []
    assert engine.state.resources[U("fail")].id == new_id


def test_a_create_that_fails_leaves_the_old_resource_live_not_pending(engine: Engine) -> None:
    engine.run(echo_program("cf", {"name": "c1"}))
    with pytest.raises(ProviderError):
        engine.run(echo_program("cf", {"name": "c2", "explode": "create"}))
    assert engine.state.pending_deletes == []
    assert unwrap(engine.state.resources[U("cf")].outputs["name"]) == "c1"


# -- protect, retain_on_delete, ignore_changes, delete_before_replace --------------------------


def test_protect_refuses_a_replacement_before_anything_is_created(engine: Engine) -> None:
    engine.run(echo_program("p", {"name": "p1"}, protect=True))
    with pytest.raises(EngineError, match="marked for protection"):
        engine.run(echo_program("p", {"name": "p2"}, protect=True))
    assert "create" not in engine.methods()
    # Unprotecting and replacing in one run is allowed (new.Protect && old.Protect).
    result = engine.run(echo_program("p", {"name": "p2"}))
    assert result.steps == [("replace", U("p"), ("name",)), ("delete-replaced", U("p"))]


def test_protect_refuses_a_delete_and_keeps_the_resource(engine: Engine) -> None:
    engine.run(echo_program("pd", {"name": "pd"}, protect=True))
    with pytest.raises(EngineError, match="cannot be deleted because it is protected"):
        engine.run(lambda: None)
    assert engine.methods() == []
    assert list(engine.state.resources) == [U("pd")]
    with pytest.raises(EngineError, match="protected"):
        engine.destroy()
    assert list(engine.state.resources) == [U("pd")]


def test_retain_on_delete_drops_from_state_without_a_delete(engine: Engine) -> None:
    engine.run(echo_program("keep", {"name": "k1"}, retain_on_delete=True))
    replaced = engine.run(echo_program("keep", {"name": "k2"}, retain_on_delete=True))
    assert replaced.steps[-1] == ("delete-replaced", U("keep"))
    assert "delete" not in engine.methods()
    removed = engine.run(lambda: None)
    assert removed.steps == [("delete", U("keep"))]
    assert engine.methods() == []
    assert engine.state.resources == {}


def test_ignore_changes_sends_the_old_value_to_check(engine: Engine) -> None:
    engine.run(echo_program("ign", {"name": "ign", "value": "1"}))
    result = engine.run(
        echo_program("ign", {"name": "ign", "value": "2"}, ignore_changes=["value"])
    )
    assert result.steps == [("same", U("ign"))]
    check = engine.calls[0]
    assert check["method"] == "check" and check["props"]["value"] == "1"
    assert unwrap(engine.state.resources[U("ign")].inputs["value"]) == "1"


def test_the_delete_before_replace_option_wins_over_the_provider(engine: Engine) -> None:
    engine.run(echo_program("dbro", {"name": "d1"}))
    result = engine.run(echo_program("dbro", {"name": "d2"}, delete_before_replace=True))
    assert result.steps == [("delete-replaced", U("dbro")), ("replace", U("dbro"), ("name",))]
    assert engine.methods() == ["check", "diff", "check", "delete", "create"]


# -- destroy -----------------------------------------------------------------------------------


def test_destroy_deletes_everything_in_reverse_dependency_order(engine: Engine) -> None:
    def chain() -> None:
        a = Echo("a", {"name": "a"})
        b = Echo("b", {"name": "b", "value": a.id})
        Echo("c", {"name": "c", "value": b.id})
        Echo("ext", {"name": "ext"}, pulumi.ResourceOptions(id="echo-ext-9"))

    engine.run(chain)
    ids = {urn: r.id for urn, r in engine.state.resources.items()}
    steps = engine.destroy()
    assert [s for s in steps if s[0] == "delete"] == [
        ("delete", U("c")),
        ("delete", U("b")),
        ("delete", U("a")),
    ]
    assert ("discard", U("ext")) in steps
    assert [c["id"] for c in engine.calls] == [ids[U("c")], ids[U("b")], ids[U("a")]]
    assert engine.state.resources == {}


# -- parallel calls ----------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["create", "read", "delete"])
def test_four_provider_calls_run_at_once_in_one_host(engine: Engine, method: str) -> None:
    # Each call waits until 4 are inside the provider at the same time (a barrier in the host
    # process, with a bounded wait): it passes only if the engine sends them concurrently.
    names = ["p1", "p2", "p3", "p4"]
    engine.run(echoes(names, barrier=method if method == "create" else None))
    assert engine.methods().count("create") == 4 and len(engine.pids()) == 1
    if method == "read":
        for resource in engine.state.resources.values():
            resource.outputs["barrier"] = "read"
        assert sorted(engine.refresh()) == [("refresh", U(name)) for name in names]
    elif method == "delete":
        for resource in engine.state.resources.values():
            resource.outputs["barrier"] = "delete"
        engine.run(lambda: None)
        assert engine.state.resources == {}
    assert engine.methods().count(method) == 4
