"""ProviderHost: the real ``python -m pulumi.dynamic`` process, driven like the engine drives it."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from localskills_pulumi.testing.host import ProviderHost
from localskills_pulumi.testing.provider_client import ProviderError
from localskills_pulumi.testing.wire import (
    PROVIDER_KEY,
    UNKNOWN,
    annotate_secrets,
    is_secret,
    provider_property,
    secret,
    unwrap,
    urn,
)
from tests.testing.echo_provider import ECHO_TYPE, EchoProvider, read_log

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def log_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("echo") / "calls.jsonl"


@pytest.fixture(scope="module")
def host(log_path: Path) -> Iterator[ProviderHost]:
    """One configured host process for the module."""
    with ProviderHost(
        env={"ECHO_PROVIDER_LOG": str(log_path), "PULUMI_PROJECT": "echo"}, cwd=PROJECT_ROOT
    ) as running:
        running.configure(
            {"echo:greeting": "hello", "echo:token": "t0ken"}, secret_keys={"echo:token"}
        )
        yield running


def _calls(log_path: Path, since: int) -> list[dict[str, Any]]:
    """The provider's calls logged since ``since``, without its ``configure``: the host runs that
    when it first unpickles the provider, in whichever test makes the host's first call."""
    return [c for c in read_log(log_path)[since:] if c["method"] != "configure"]


def _news(name: str, **props: Any) -> dict[str, Any]:
    # The program sends __provider as a secret (serialize_as_secret_always).
    return {PROVIDER_KEY: secret(provider_property(EchoProvider())), "name": name, **props}


def _urn(name: str) -> str:
    return urn(ECHO_TYPE, name, project="echo", stack="dev")


def test_start_reports_pid_and_port_and_configure_answer(host: ProviderHost) -> None:
    assert host.running
    assert isinstance(host.pid, int) and host.pid > 0
    assert isinstance(host.port, int) and host.port > 0
    # The dynamic host does not accept secrets and does not claim preview support.
    assert host.accept_secrets is False
    assert host.supports_preview is False
    assert host.stdout_text().splitlines()[0] == str(host.port)


def test_configure_hands_config_to_the_provider(host: ProviderHost, log_path: Path) -> None:
    since = len(read_log(log_path))
    _, outputs = host.create(_urn("cfg"), _news("cfg"))
    # The provider's configure saw the namespaced keys, the secret one already unwrapped.
    assert outputs["greeting"] == "hello"
    assert outputs["token"] == "t0ken"
    configures = [c for c in read_log(log_path) if c["method"] == "configure"]
    assert configures == [configures[0]]  # once per provider per process
    assert configures[0]["greeting"] == "hello" and configures[0]["token"] == "t0ken"
    # configure runs when the provider is first unpickled, before its first call.
    assert [c["method"] for c in read_log(log_path)[since:]] in (
        ["configure", "create"],
        ["create"],
    )


def test_provider_property_is_small_for_an_importable_class() -> None:
    value = provider_property(EchoProvider())
    assert len(value) < 200
    pickled = base64.b64decode(value)
    # Pickled by reference: the module path and class name, not the class body.
    assert b"tests.testing.echo_provider" in pickled
    assert b"EchoProvider" in pickled
    assert b"def " not in pickled and b"_outs" not in pickled


def test_check_returns_inputs_with_provider_and_keeps_secret_bits(
    host: ProviderHost, log_path: Path
) -> None:
    since = len(read_log(log_path))
    news = _news("chk", value=secret("hidden"))
    checked = host.check(_urn("chk"), {}, news)
    assert checked.failures == []
    assert unwrap(checked.inputs) == unwrap(news)
    # Secrets were stripped on the way in ...
    [call] = _calls(log_path, since)
    assert call["method"] == "check"
    assert call["props"] == {"name": "chk", "value": "hidden"}
    assert call["has_provider"] is True
    # ... and the secret bit restored on the same-named properties on the way out.
    assert is_secret(checked.inputs["value"])
    assert is_secret(checked.inputs[PROVIDER_KEY])
    assert not is_secret(checked.inputs["name"])


def test_check_failures_come_back(host: ProviderHost) -> None:
    checked = host.check(_urn("bad"), {}, _news(""))
    assert checked.failures == [("name", "must not be empty")]


def test_check_passes_olds_through(host: ProviderHost, log_path: Path) -> None:
    since = len(read_log(log_path))
    olds = _news("o", value="1")
    host.check(_urn("o"), olds, _news("o", value="2"))
    [call] = _calls(log_path, since)
    assert call["olds"] == {"name": "o", "value": "1"}
    assert call["props"] == {"name": "o", "value": "2"}


def test_preview_unknowns_arrive_as_unknown_instances(host: ProviderHost, log_path: Path) -> None:
    since = len(read_log(log_path))
    checked = host.check(_urn("pv"), {}, _news("pv", value=UNKNOWN))
    [call] = _calls(log_path, since)
    assert call["unknown"] == ["value"]  # isinstance(value, pulumi.output.Unknown) in the host
    assert call["props"]["value"] == "<unknown>"
    assert checked.inputs["value"] == UNKNOWN


def test_create_returns_id_and_outputs_with_secret_output(host: ProviderHost) -> None:
    id_, outputs = host.create(_urn("c"), _news("c", value="v"))
    assert id_.startswith("echo-c-")
    assert outputs["name"] == "c" and outputs["value"] == "v"
    # A secret the provider returned via rpc.wrap_rpc_secret stays a secret.
    assert is_secret(outputs["secretOut"])
    assert unwrap(outputs["secretOut"]) == "s3cret-c"
    # __provider comes back, secret again because the input was.
    assert is_secret(outputs[PROVIDER_KEY])
    assert unwrap(outputs[PROVIDER_KEY]) == provider_property(EchoProvider())


def test_diff_none_some_and_replace(host: ProviderHost, log_path: Path) -> None:
    id_, outputs = host.create(_urn("d"), _news("d", value="1"))
    same = host.diff(id_, _urn("d"), outputs, _news("d", value="1"))
    assert (same.changes, same.replaces, same.delete_before_replace) == ("DIFF_NONE", [], False)
    some = host.diff(id_, _urn("d"), outputs, _news("d", value="2"))
    assert (some.changes, some.replaces) == ("DIFF_SOME", [])
    since = len(read_log(log_path))
    replace = host.diff(id_, _urn("d"), outputs, _news("d2", value="1", dbr=True), old_inputs={})
    assert (replace.changes, replace.replaces) == ("DIFF_SOME", ["name"])
    assert replace.delete_before_replace is True
    # Diff's olds are the prior outputs (secretOut is an output, not an input).
    [call] = _calls(log_path, since)
    assert call["olds"]["secretOut"] == "s3cret-d"
    assert call["id"] == id_


def test_update_returns_new_outputs(host: ProviderHost, log_path: Path) -> None:
    id_, outputs = host.create(_urn("u"), _news("u", value="1"))
    since = len(read_log(log_path))
    new_outputs = host.update(id_, _urn("u"), outputs, _news("u", value="2"))
    assert new_outputs["value"] == "2"
    assert is_secret(new_outputs["secretOut"])
    [call] = _calls(log_path, since)
    assert (call["method"], call["id"], call["olds"]["value"]) == ("update", id_, "1")


def test_read_on_refresh_uses_prior_outputs(host: ProviderHost, log_path: Path) -> None:
    id_, outputs = host.create(_urn("r"), _news("r", value="1"))
    since = len(read_log(log_path))
    read = host.read(id_, _urn("r"), outputs, inputs=_news("r", value="1"))
    assert read.id == id_
    assert read.outputs["readId"] == id_
    assert read.inputs is None
    [call] = _calls(log_path, since)
    assert call["props"]["secretOut"] == "s3cret-r"  # the prior outputs reached read()


def test_read_on_get_falls_back_to_inputs(host: ProviderHost, log_path: Path) -> None:
    since = len(read_log(log_path))
    read = host.read("echo-g-1", _urn("g"), None, inputs=_news("g", value="x"))
    assert read.id == "echo-g-1"
    assert read.outputs["value"] == "x"
    [call] = _calls(log_path, since)
    assert call["props"] == {"name": "g", "value": "x"}


def test_read_of_a_missing_resource_answers_an_empty_id(host: ProviderHost) -> None:
    read = host.read("gone-1", _urn("gone"), None, inputs=_news("gone"))
    assert read.id == ""


def test_read_with_the_id_alone_fails_like_an_import(host: ProviderHost) -> None:
    # What the engine's import step sends; pulumi issue 16175.
    with pytest.raises(ProviderError) as caught:
        host.read("echo-imported", _urn("imp"), None)
    assert caught.value.method == "Read"
    assert "KeyError: '__provider'" in caught.value.details


def test_delete_reaches_the_provider(host: ProviderHost, log_path: Path) -> None:
    id_, outputs = host.create(_urn("del"), _news("del"))
    since = len(read_log(log_path))
    host.delete(id_, _urn("del"), outputs)
    [call] = _calls(log_path, since)
    assert (call["method"], call["id"], call["props"]["name"]) == ("delete", id_, "del")


def test_provider_exception_is_a_provider_error_with_traceback(host: ProviderHost) -> None:
    with pytest.raises(ProviderError) as caught:
        host.create(_urn("boom"), _news("boom", explode=True))
    error = caught.value
    assert error.method == "Create"
    assert error.code == "UNKNOWN"
    assert "RuntimeError: boom: create was asked to explode" in error.details
    assert "Traceback (most recent call last)" in error.details
    assert "echo_provider.py" in error.details
    # The host survives it.
    assert host.check(_urn("after"), {}, _news("after")).failures == []


def test_annotate_secrets_follows_the_engine() -> None:
    outs: dict[str, Any] = {"a": 1, "b": {"x": 1, "y": 2}, "c": [1, 2], "d": 4}
    ins = {"a": secret(1), "b": {"x": secret(1)}, "c": [secret(1), 2], "e": secret(5)}
    annotate_secrets(outs, ins)
    assert is_secret(outs["a"])
    assert is_secret(outs["b"]["x"]) and not is_secret(outs["b"]["y"])
    assert is_secret(outs["c"])  # a secret anywhere in a list taints the list
    assert outs["d"] == 4 and "e" not in outs


def test_start_failure_reports_stderr(tmp_path: Path) -> None:
    # A PYTHONPATH shadowing pulumi makes `python -m pulumi.dynamic` fail at once.
    shadow = tmp_path / "pulumi"
    shadow.mkdir()
    (shadow / "__init__.py").write_text("raise ImportError('shadowed pulumi for the test')\n")
    broken = ProviderHost(env={"PYTHONPATH": str(tmp_path)}, cwd=tmp_path, start_timeout=20)
    with pytest.raises(RuntimeError, match="shadowed pulumi for the test"):
        broken.start()
    assert not broken.running
    broken.stop()  # idempotent


def test_stop_is_idempotent_and_ends_the_process() -> None:
    extra = ProviderHost(env={"ECHO_PROVIDER_LOG": os.devnull}, cwd=PROJECT_ROOT).start()
    pid = extra.pid
    assert pid is not None and extra.running
    extra.stop()
    extra.stop()
    assert not extra.running
    with pytest.raises(RuntimeError, match="not started"):
        extra.check(_urn("x"), {}, _news("x"))
