"""A test-only dynamic provider that echoes its inputs and logs every call.

Importable by module path (``tests.testing.echo_provider``), so ``__provider`` pickles it by
reference and the host process imports it from the project root.

Every call appends one JSON line to the file named by ``$ECHO_PROVIDER_LOG`` (in the host's
environment): ``{"method": ..., "id": ..., "props": {...}, "unknown": [...]}``, ``__provider``
left out and secrets/unknowns made printable, so tests can see exactly what reached the provider.

Behaviour, driven by inputs:
- ``name == ""``: check fails with ``("name", "must not be empty")``.
- ``explode``: ``True`` makes every method raise ``RuntimeError("boom: <method> ...")``; a method
  name (``"create"``) only that one.
- diff: a changed ``name`` requires replacement (delete-before-replace if ``dbr`` is truthy in the
  new inputs); any other changed input is an update; otherwise no changes.
- create/update: outputs are the inputs plus ``secretOut`` (a secret made with
  ``rpc.wrap_rpc_secret``), ``greeting`` and ``token`` (from config ``echo:greeting`` /
  ``echo:token`` as the provider's ``configure`` saw them).
- read: an id starting with ``gone-``, or props with ``vanish`` set, read as deleted (empty id);
  otherwise the props come back with ``readId`` added; with ``read_inputs`` set, ``value`` reads
  as ``"drifted"`` and the inputs come back too, with that value and ``refreshed: True``.
- ``diff_unknown``: diff leaves ``changes`` as None (the host answers DIFF_UNKNOWN).
- ``barrier``: a method name (``"create"``, ``"read"``, ``"delete"``) that waits on a barrier of
  ``$ECHO_BARRIER_PARTIES`` (default 4) calls in this process before answering, for at most
  ``$ECHO_BARRIER_TIMEOUT`` seconds (default 30): it passes only if that many calls are in the
  provider at the same time.
- every output bag carries ``pid``, the host process's id; every log entry too.
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)
from pulumi.output import Unknown
from pulumi.runtime import rpc

PROVIDER_KEY = "__provider"

_BARRIER = threading.Barrier(
    int(os.environ.get("ECHO_BARRIER_PARTIES", "4")),
    timeout=float(os.environ.get("ECHO_BARRIER_TIMEOUT", "30")),
)


def _printable(value: Any) -> Any:
    if isinstance(value, Unknown):
        return "<unknown>"
    if rpc.is_rpc_secret(value):
        return {"<secret>": _printable(value["value"])}
    if isinstance(value, dict):
        return {k: _printable(v) for k, v in value.items() if k != PROVIDER_KEY}
    if isinstance(value, list):
        return [_printable(v) for v in value]
    return value


def _log(method: str, id_: str | None, props: dict[str, Any], **extra: Any) -> None:
    path = os.environ.get("ECHO_PROVIDER_LOG")
    if not path:
        return
    entry = {
        "method": method,
        "id": id_,
        "props": _printable(props),
        "unknown": sorted(k for k, v in props.items() if isinstance(v, Unknown)),
        "has_provider": PROVIDER_KEY in props,
        "pid": os.getpid(),
        **extra,
    }
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(entry) + "\n")


def read_log(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The calls logged so far, oldest first."""
    try:
        with open(path, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        return []


def _explode(method: str, props: dict[str, Any]) -> None:
    explode = props.get("explode")
    if explode is True or explode == method:
        raise RuntimeError(f"boom: {method} was asked to explode")
    if props.get("barrier") == method:
        try:
            _BARRIER.wait()
        except threading.BrokenBarrierError:
            raise RuntimeError(
                f"{method}: fewer than {_BARRIER.parties} calls reached the provider at once"
            ) from None


class EchoProvider(ResourceProvider):
    """Echoes inputs; see the module docstring."""

    def configure(self, req: ConfigureRequest) -> None:
        self.greeting = req.config.get("echo:greeting")
        self.token = req.config.get("echo:token")
        _log("configure", None, {}, greeting=self.greeting, token=self.token)

    def _outs(self, props: dict[str, Any]) -> dict[str, Any]:
        outs = {k: v for k, v in props.items() if k != PROVIDER_KEY}
        outs["secretOut"] = rpc.wrap_rpc_secret(f"s3cret-{props.get('name')}")
        outs["greeting"] = getattr(self, "greeting", None)
        outs["token"] = getattr(self, "token", None)
        outs["pid"] = os.getpid()
        return outs

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        _log("check", None, news, olds=_printable(olds))
        _explode("check", news)
        failures = []
        if news.get("name") == "":
            failures.append(CheckFailure("name", "must not be empty"))
        return CheckResult(news, failures)

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        _log("diff", id_, news, olds=_printable(olds))
        _explode("diff", news)
        if news.get("diff_unknown"):
            return DiffResult(changes=None)
        if olds.get("name") != news.get("name"):
            return DiffResult(
                changes=True, replaces=["name"], delete_before_replace=bool(news.get("dbr"))
            )
        changed = [
            k
            for k in news
            if k != PROVIDER_KEY and not isinstance(news[k], Unknown) and olds.get(k) != news[k]
        ]
        unknown = [k for k in news if isinstance(news[k], Unknown)]
        return DiffResult(changes=bool(changed or unknown), replaces=[])

    def create(self, props: dict[str, Any]) -> CreateResult:
        _log("create", None, props)
        _explode("create", props)
        return CreateResult(f"echo-{props.get('name')}-{os.urandom(3).hex()}", self._outs(props))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        _log("read", id_, props)
        _explode("read", props)
        if id_.startswith("gone-") or props.get("vanish"):
            # The host needs a dict here even for a missing resource (it sets __provider on it).
            return ReadResult(None, {})
        outs = {**self._outs(props), "readId": id_}
        if props.get("read_inputs"):
            inputs = {k: props[k] for k in ("name", "read_inputs") if k in props}
            outs["value"] = "drifted"
            return ReadResult(id_, outs, {**inputs, "value": "drifted", "refreshed": True})
        return ReadResult(id_, outs)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        _log("update", id_, news, olds=_printable(olds))
        _explode("update", news)
        return UpdateResult(self._outs(news))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        _log("delete", id_, props)
        _explode("delete", props)


class Echo(Resource, module="echo", name="Echo"):
    """A dynamic resource served by :class:`EchoProvider` (``pulumi-python:dynamic/echo:Echo``)."""

    name: pulumi.Output[str]
    value: pulumi.Output[Any]
    secretOut: pulumi.Output[str]
    greeting: pulumi.Output[Any]
    token: pulumi.Output[Any]
    readId: pulumi.Output[Any]
    pid: pulumi.Output[int]

    def __init__(
        self,
        resource_name: str,
        props: dict[str, Any],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        outputs = {
            "secretOut": None,
            "greeting": None,
            "token": None,
            "readId": None,
            "pid": None,
        }
        super().__init__(EchoProvider(), resource_name, {**outputs, **props}, opts)


ECHO_TYPE = "pulumi-python:dynamic/echo:Echo"
