"""EngineMonitor + run_program: programs run under set_mocks-style mocks, with dynamic resources
going through the real dynamic-provider host as the engine would send them."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pulumi
import pytest

from localskills_pulumi.testing.engine import (
    CheckFailedError,
    EngineError,
    EngineMonitor,
    run_program,
)
from localskills_pulumi.testing.host import ProviderHost
from localskills_pulumi.testing.provider_client import ProviderError
from localskills_pulumi.testing.wire import PROVIDER_KEY, UNKNOWN, is_secret, unwrap
from tests.testing.echo_provider import Echo
from tests.testing.engine_support import (
    PROJECT,
    PROJECT_ROOT,
    Engine,
    RecordingMocks,
    U,
    echo_program,
)

# -- create, same, update, replace -------------------------------------------------------------


def test_first_run_creates_and_exports(engine: Engine) -> None:
    result = engine.run(echo_program("a", {"name": "a", "value": "1"}))
    assert result.steps == [("create", U("a"))]
    assert engine.methods() == ["check", "create"]
    assert result.outputs["id"].startswith("echo-a-")
    assert result.outputs["value"] == "1"
    # A secret output of the provider is secret in the exports.
    assert is_secret(result.outputs["secretOut"])
    assert unwrap(result.outputs["secretOut"]) == "s3cret-a"
    # The stack config reached the provider's configure.
    assert result.outputs["greeting"] == "hi"
    state = engine.state.resources[U("a")]
    assert state.id == result.outputs["id"]
    assert is_secret(state.inputs[PROVIDER_KEY]) and is_secret(state.outputs["secretOut"])
    assert result.resources[U("a")].id == state.id


def test_second_run_with_the_same_state_is_same(engine: Engine) -> None:
    first = engine.run(echo_program("s", {"name": "s", "value": "1"}))
    second = engine.run(echo_program("s", {"name": "s", "value": "1"}))
    assert second.steps == [("same", U("s"))]
    assert engine.methods() == ["check", "diff"]
    assert second.outputs["id"] == first.outputs["id"]
    assert is_secret(second.outputs["secretOut"])
    # Check got the prior inputs as olds; Diff got the prior outputs.
    check, diff = engine.calls
    assert check["olds"] == {"name": "s", "value": "1"}
    assert diff["olds"]["secretOut"] == "s3cret-s" and diff["id"] == first.outputs["id"]
    assert engine.state.runs == [[("create", U("s"))], [("same", U("s"))]]


def test_changed_input_without_replace_updates(engine: Engine) -> None:
    first = engine.run(echo_program("up", {"name": "up", "value": "1"}))
    second = engine.run(echo_program("up", {"name": "up", "value": "2"}))
    assert second.steps == [("update", U("up"))]
    assert engine.methods() == ["check", "diff", "update"]
    assert second.outputs["value"] == "2"
    assert second.outputs["id"] == first.outputs["id"]
    assert unwrap(engine.state.resources[U("up")].outputs["value"]) == "2"


def test_replace_creates_the_new_one_then_deletes_the_old_one(engine: Engine) -> None:
    first = engine.run(echo_program("rep", {"name": "r1"}))
    second = engine.run(echo_program("rep", {"name": "r2"}))
    assert second.steps == [("replace", U("rep"), ("name",)), ("delete-replaced", U("rep"))]
    # Check (olds = prior inputs), Diff, Check again without olds, Create, and Delete last.
    assert engine.methods() == ["check", "diff", "check", "create", "delete"]
    check1, _, check2, create, delete = engine.calls
    assert check1["olds"] == {"name": "r1"} and check2["olds"] == {}
    assert create["props"]["name"] == "r2"
    assert delete["id"] == first.outputs["id"] and delete["props"]["name"] == "r1"
    assert second.outputs["id"] != first.outputs["id"]
    assert engine.state.resources[U("rep")].id == second.outputs["id"]


def test_delete_before_replace_deletes_first(engine: Engine) -> None:
    first = engine.run(echo_program("dbr", {"name": "d1"}))
    second = engine.run(echo_program("dbr", {"name": "d2", "dbr": True}))
    assert second.steps == [("delete-replaced", U("dbr")), ("replace", U("dbr"), ("name",))]
    assert engine.methods() == ["check", "diff", "check", "delete", "create"]
    assert engine.calls[3]["id"] == first.outputs["id"]


# -- secrets -----------------------------------------------------------------------------------


def test_additional_secret_outputs_are_secret_in_program_and_exports(engine: Engine) -> None:
    def program() -> None:
        r = Echo(
            "aso",
            {"name": "aso", "value": "plain"},
            pulumi.ResourceOptions(additional_secret_outputs=["value"]),
        )
        pulumi.export("value", r.value)
        pulumi.export("valueIsSecret", pulumi.Output.from_input(r.value.is_secret()))
        pulumi.export("nameIsSecret", pulumi.Output.from_input(r.name.is_secret()))

    result = engine.run(program)
    assert result.outputs["valueIsSecret"] is True
    assert result.outputs["nameIsSecret"] is False
    assert is_secret(result.outputs["value"]) and unwrap(result.outputs["value"]) == "plain"
    assert is_secret(engine.state.resources[U("aso")].outputs["value"])
    # The provider itself got the plain value: the engine only marks the output.
    assert engine.calls[-1]["props"]["value"] == "plain"


def test_secret_input_stays_secret_in_outputs(engine: Engine) -> None:
    def program() -> None:
        r = Echo("sin", {"name": "sin", "value": pulumi.Output.secret("hush")})
        pulumi.export("value", r.value)
        pulumi.export("valueIsSecret", pulumi.Output.from_input(r.value.is_secret()))

    result = engine.run(program)
    assert result.outputs["valueIsSecret"] is True
    assert is_secret(result.outputs["value"]) and unwrap(result.outputs["value"]) == "hush"
    # Stripped on the way to the provider, which does not accept secrets.
    assert engine.calls[-1]["method"] == "create"
    assert engine.calls[-1]["props"]["value"] == "hush"


def test_program_config_and_secret_config(engine: Engine) -> None:
    def program() -> None:
        config = pulumi.Config()
        pulumi.export("greeting", config.require("greeting"))
        pulumi.export("token", config.require_secret("token"))
        pulumi.export("namespaced", pulumi.Config(PROJECT).get("greeting"))

    result = engine.run(program)
    assert result.outputs["greeting"] == "hi"
    assert result.outputs["namespaced"] == "hi"
    assert is_secret(result.outputs["token"]) and unwrap(result.outputs["token"]) == "tok"
    assert result.steps == []


def test_each_run_gets_a_fresh_host_configured_with_that_runs_config(engine: Engine) -> None:
    first = engine.run(echo_program("fresh", {"name": "fresh"}))
    [configure] = engine.configures
    assert configure["greeting"] == "hi"
    assert engine.pids() == {configure["pid"]}
    engine.config["greeting"] = "hello again"
    second = engine.run(echo_program("fresh", {"name": "fresh", "value": "2"}))
    [configure2] = engine.configures
    # Another process, configured once with the new config: the update's outputs carry it.
    assert configure2["greeting"] == "hello again"
    assert engine.pids() == {configure2["pid"]} != {configure["pid"]}
    assert second.outputs["greeting"] == "hello again" != first.outputs["greeting"]


def test_a_bare_host_configured_with_another_config_is_refused(log_path: Path) -> None:
    env = {"ECHO_PROVIDER_LOG": str(log_path), "PULUMI_PROJECT": PROJECT}
    with ProviderHost(env=env, cwd=PROJECT_ROOT) as host:
        engine = Engine(host, log_path)
        engine.run(echo_program("cfg", {"name": "cfg"}))
        monitor = EngineMonitor(RecordingMocks(), host, config={"greeting": "other"})
        with pytest.raises(EngineError, match="pass a HostPool"):
            run_program(echo_program("cfg2", {"name": "cfg2"}), monitor=monitor, project=PROJECT)


# -- deletes -----------------------------------------------------------------------------------


def test_removed_resources_are_deleted_in_reverse_order(engine: Engine) -> None:
    def three() -> None:
        x1 = Echo("x1", {"name": "x1"})
        x2 = Echo("x2", {"name": "x2", "value": x1.id})  # registration order: x1, x2, x3
        Echo("x3", {"name": "x3", "value": x2.id})

    first = engine.run(three)
    assert first.steps == [("create", U("x1")), ("create", U("x2")), ("create", U("x3"))]
    ids = {u: r.id for u, r in engine.state.resources.items()}

    second = engine.run(lambda: Echo("x1", {"name": "x1"}) and None)
    assert second.steps == [("same", U("x1")), ("delete", U("x3")), ("delete", U("x2"))]
    deletes = [c["id"] for c in engine.calls if c["method"] == "delete"]
    assert deletes == [ids[U("x3")], ids[U("x2")]]
    assert list(engine.state.resources) == [U("x1")]


# -- preview -----------------------------------------------------------------------------------


def test_preview_makes_no_create_and_leaves_state_alone(engine: Engine) -> None:
    result = engine.run(echo_program("pv", {"name": "pv", "value": "1"}), preview=True)
    assert result.steps == [("create", U("pv"))]  # planned
    assert engine.methods() == ["check"]
    assert engine.state.resources == {}
    # Known inputs come back; everything else is unknown, as in the engine's preview.
    assert result.outputs["value"] == "1"
    assert result.outputs["id"] == UNKNOWN
    assert result.outputs["greeting"] == UNKNOWN
    # A real run afterwards creates.
    assert engine.run(echo_program("pv", {"name": "pv", "value": "1"})).steps == [
        ("create", U("pv"))
    ]


def test_preview_of_an_update_calls_no_update(engine: Engine) -> None:
    engine.run(echo_program("pu", {"name": "pu", "value": "1"}))
    result = engine.run(echo_program("pu", {"name": "pu", "value": "2"}), preview=True)
    assert result.steps == [("update", U("pu"))]
    assert engine.methods() == ["check", "diff"]
    assert unwrap(engine.state.resources[U("pu")].outputs["value"]) == "1"


def test_preview_unknown_input_reaches_the_provider_as_unknown(engine: Engine) -> None:
    def program() -> None:
        a = Echo("ua", {"name": "ua"})
        Echo("ub", {"name": "ub", "value": a.id})

    result = engine.run(program, preview=True)
    assert sorted(result.steps) == [("create", U("ua")), ("create", U("ub"))]
    [check_b] = [c for c in engine.calls if c["props"].get("name") == "ub"]
    assert check_b["method"] == "check"
    assert check_b["unknown"] == ["value"]  # a pulumi.output.Unknown in the provider


# -- read, import, errors ----------------------------------------------------------------------


def test_get_reads_through_the_host_and_is_discarded_not_deleted(engine: Engine) -> None:
    def program() -> None:
        r = Echo("ext", {"name": "ext"}, pulumi.ResourceOptions(id="echo-ext-1"))
        pulumi.export("readId", r.readId)
        pulumi.export("id", r.id)

    result = engine.run(program)
    assert result.steps == [("read", U("ext"))]
    assert engine.methods() == ["read"]
    assert result.outputs == {"readId": "echo-ext-1", "id": "echo-ext-1"}
    assert engine.state.resources[U("ext")].external

    later = engine.run(lambda: None)
    assert later.steps == [("discard", U("ext"))]
    assert engine.methods() == []
    assert engine.state.resources == {}


def test_get_of_a_missing_resource_succeeds_with_no_outputs_as_the_engine_does(
    engine: Engine,
) -> None:
    # ReadStep fails only when no outputs come back, and the dynamic host always returns
    # __provider: a provider must raise to report a missing resource.
    def program() -> None:
        r = Echo("missing", {"name": "missing"}, pulumi.ResourceOptions(id="gone-2"))
        pulumi.export("id", r.id)
        pulumi.export("readId", r.readId)
        pulumi.export("name", r.name)

    result = engine.run(program)
    assert result.steps == [("read", U("missing"))]
    # Only what the program passed comes back; nothing the provider would have read.
    assert result.outputs == {"id": "gone-2", "name": "missing"}


def test_get_sends_the_programs_inputs_as_both_inputs_and_state(engine: Engine) -> None:
    engine.run(echo_program("getter", {"name": "getter", "value": "v"}, id="echo-getter-1"))
    [read] = engine.calls
    assert read["method"] == "read" and read["id"] == "echo-getter-1"
    assert read["props"]["name"] == "getter" and read["props"]["value"] == "v"
    assert read["has_provider"]


def test_import_fails_in_the_host_as_it_would_for_real(engine: Engine) -> None:
    program = echo_program("imp", {"name": "imp"}, import_="echo-existing")
    with pytest.raises(ProviderError) as caught:
        engine.run(program)
    assert caught.value.method == "Read"
    assert "KeyError: '__provider'" in caught.value.details
    assert engine.methods() == []  # no provider code ran
    assert engine.state.resources == {}


def test_check_failure_names_property_and_reason(engine: Engine) -> None:
    with pytest.raises(CheckFailedError) as caught:
        engine.run(echo_program("bad", {"name": ""}))
    assert caught.value.failures == [("name", "must not be empty")]
    assert str(caught.value) == (
        f"error: {U('bad')}: check failed: property 'name': must not be empty"
    )
    assert engine.methods() == ["check"]


def test_provider_exception_surfaces_with_its_message(engine: Engine) -> None:
    with pytest.raises(ProviderError, match="boom: create was asked to explode") as caught:
        engine.run(echo_program("exp", {"name": "exp", "explode": "create"}))
    assert caught.value.method == "Create"
    assert engine.methods() == ["check", "create"]
    assert engine.state.resources == {}


def test_program_error_is_reraised_and_created_resources_are_kept(engine: Engine) -> None:
    def program() -> None:
        Echo("kept", {"name": "kept"})
        raise ValueError("the program failed")

    with pytest.raises(ValueError, match="the program failed"):
        engine.run(program)
    assert engine.state.last_steps == [("create", U("kept"))]
    assert list(engine.state.resources) == [U("kept")]
    # No delete phase after a failed run; the next good run sees the resource as same.
    assert engine.run(lambda: Echo("kept", {"name": "kept"}) and None).steps == [
        ("same", U("kept"))
    ]


# -- mocks and program files -------------------------------------------------------------------


def test_non_dynamic_resources_go_to_mocks(engine: Engine) -> None:
    def program() -> None:
        thing = pulumi.CustomResource("test:index:Thing", "thing", {"size": 3})
        pulumi.export("thingId", thing.id)

    result = engine.run(program)
    [args] = engine.mocks.new_resources
    assert (args.typ, args.name, args.inputs) == ("test:index:Thing", "thing", {"size": 3})
    assert result.outputs["thingId"] == "thing-id"
    assert result.steps == [] and engine.state.resources == {}
    assert "urn:pulumi:dev::echo::test:index:Thing::thing" in result.resources


def test_program_from_a_path(engine: Engine, tmp_path: Path) -> None:
    program_dir = tmp_path / "prog"
    program_dir.mkdir()
    (program_dir / "helper.py").write_text("NAME = 'from-file'\n")
    (program_dir / "__main__.py").write_text(
        textwrap.dedent(
            """
            import os

            import pulumi
            from helper import NAME

            from tests.testing.echo_provider import Echo

            r = Echo("file", {"name": NAME})
            pulumi.export("name", r.name)
            pulumi.export("cwd", os.getcwd())
            """
        )
    )
    result = engine.run(program_dir)
    assert result.steps == [("create", U("file"))]
    assert result.outputs["name"] == "from-file"
    assert result.outputs["cwd"] == str(program_dir.resolve())
    # A second program may use the same module names: the first one's were forgotten.
    (program_dir / "helper.py").write_text("NAME = 'from-file-2'\n")
    assert engine.run(program_dir / "__main__.py").outputs["name"] == "from-file-2"
