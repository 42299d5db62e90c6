"""Run a Pulumi program of this repository without the Pulumi CLI, against the local emulator.

``bash scripts/offline.sh up PROGRAM_DIR [KEY=VALUE ...]`` runs the program (the root
``__main__.py`` with ``.``, or ``examples/<name>``) the way ``pulumi up`` would, as far as this
package's engine stand-in goes: every ``ScimToken`` goes through Pulumi's own dynamic-provider
host (``python -m pulumi.dynamic``) to the emulator, with ``localskills_pulumi.testing.engine``
playing the engine (check, diff, create-before-delete replacement, deletes, secret outputs).
Other resources (Okta's) are simulated: their inputs stand for their state and nothing is sent
anywhere. A ``StackReference`` reads the outputs of a stack run here before.

The stack's state is kept as JSON in ``.demo/stacks/<project>/<stack>.json`` (``DEMO_DIR``
moves ``.demo``), so the next run plans against it, as a second ``pulumi up`` does: a program
that did not change changes nothing. That file holds the token's secret value unencrypted, like
a local state file without a passphrase; it is written with mode 0600. Delete ``.demo/`` to start
over.

Without ``--base-url`` the emulator is started for the run, with its state in
``.demo/emulator.db`` and the demo seed (tenant ``engineering``, the documented demo API
token). With ``--base-url`` the API token comes from ``LOCALSKILLS_API_TOKEN``.

``bash scripts/offline.sh output PROGRAM_DIR NAME [--show-secrets]`` prints one output of the
last run, like ``pulumi stack output``.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import sys
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

# The SDK and the testing kit take a second to import: only `up` imports them (below, in the
# functions that need them), so that `output` (the demo calls it each run) starts at once.
if TYPE_CHECKING:
    from pulumi.runtime import MockCallArgs, MockResourceArgs

    from localskills_pulumi.testing.engine import EngineState, ProgramResult
    from localskills_pulumi.testing.host import ProviderHost

ROOT = Path(__file__).resolve().parents[1]
STATE_VERSION = 1
STACK_REFERENCE_TYPE = "pulumi:pulumi:StackReference"
API_TOKEN_KEY = "localskills:apiToken"
BASE_URL_KEY = "localskills:baseUrl"
# The SDK's wire form of a secret, {SIG_KEY: SECRET_SIG, "value": ...}: pulumi.runtime.rpc's
# _special_sig_key and _special_secret_sig (tests/examples/test_examples_offline.py checks).
SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"

_VERBS = {
    "create": "created",
    "same": "unchanged",
    "update": "updated",
    "replace": "replaced",
    "delete-replaced": "deleted (replaced)",
    "delete": "deleted",
    "read": "read",
    "discard": "discarded",
    "import": "imported",
}
_UNCHANGING = {"same", "read"}


def demo_dir() -> Path:
    """``$DEMO_DIR``, default ``.demo`` at the project root."""
    return Path(os.environ.get("DEMO_DIR") or ROOT / ".demo").resolve()


def project_name(program: Path) -> str:
    """The project name from the program directory's ``Pulumi.yaml``."""
    data = yaml.safe_load((program / "Pulumi.yaml").read_text(encoding="utf-8"))
    return str(data["name"])


def state_path(project: str, stack: str) -> Path:
    """Where the state of ``<project>/<stack>`` is kept."""
    return demo_dir() / "stacks" / project / f"{stack}.json"


def is_secret(value: Any) -> bool:
    """Whether ``value`` is a secret marker."""
    return isinstance(value, dict) and value.get(SIG_KEY) == SECRET_SIG


def contains_secrets(value: Any) -> bool:
    """Whether ``value`` is, or holds at any depth, a secret."""
    if is_secret(value):
        return True
    if isinstance(value, dict):
        return any(contains_secrets(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_secrets(v) for v in value)
    return False


def unwrap(value: Any) -> Any:
    """``value`` with every secret marker removed, at any depth."""
    if is_secret(value):
        return unwrap(value["value"])
    if isinstance(value, dict):
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value


# -- the state file --------------------------------------------------------------------------


def read_state(path: Path) -> dict[str, Any]:
    """The saved state as JSON (no resources, no outputs when ``path`` does not exist)."""
    if not path.exists():
        return {"version": STATE_VERSION, "resources": [], "outputs": {}}
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if data.get("version") != STATE_VERSION:
        raise SystemExit(f"{path}: unknown state version {data.get('version')!r}; delete it")
    return data


@dataclasses.dataclass
class StackFile:
    """A stack's saved state: the engine stand-in's resources and the stack's outputs (secret
    ones as secret markers, in the clear: the file is like an unencrypted local state)."""

    state: EngineState
    outputs: dict[str, Any]

    @classmethod
    def load(cls, path: Path) -> StackFile:
        """The saved stack, or an empty one when ``path`` does not exist."""
        from localskills_pulumi.testing.engine import EngineState, ResourceState

        data = read_state(path)
        resources = [ResourceState(**r) for r in data["resources"]]
        return cls(EngineState(resources={r.urn: r for r in resources}), data["outputs"])

    def save(self, path: Path) -> None:
        """Write the stack atomically, readable by the owner only (it holds secrets)."""
        for directory in reversed(path.parents[:3]):  # .demo, .demo/stacks, .demo/stacks/<project>
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        data = {
            "version": STATE_VERSION,
            "resources": [dataclasses.asdict(r) for r in self.state.resources.values()],
            "outputs": self.outputs,
        }
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # mode 0600
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(data, out, indent=2, sort_keys=True)
                out.write("\n")
            os.replace(temp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
            raise


# -- the program run -------------------------------------------------------------------------


class SimulatedMocks:
    """Everything that is not a ``ScimToken``: its inputs stand for its state, and a
    ``StackReference`` (``<organization>/<project>/<stack>``) answers with the outputs of
    that stack as last run here. (The methods of ``pulumi.runtime.Mocks``.)"""

    def __init__(self) -> None:
        self.simulated: list[str] = []

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        if args.typ == STACK_REFERENCE_TYPE:
            name = str(args.inputs["name"])
            parts = name.split("/")
            saved = state_path(parts[-2], parts[-1]) if len(parts) >= 2 else None
            if saved is None or not saved.exists():
                raise ValueError(
                    f"no stack {name!r} has run here: run its program with "
                    "`bash scripts/offline.sh up` first (`<organization>/<project>/<stack>`)"
                )
            exports: dict[str, Any] = read_state(saved)["outputs"]
            return name, {
                "name": name,
                "outputs": exports,
                "secretOutputNames": [k for k, v in exports.items() if is_secret(v)],
            }
        self.simulated.append(f"{args.typ} {args.name}")
        return f"{args.name}-simulated-id", dict(args.inputs)

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        raise ValueError(f"{args.token}: invokes are not simulated by this runner")


def parse_config(pairs: list[str]) -> dict[str, str]:
    """``KEY=VALUE`` pairs as stack config."""
    config: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SystemExit(f"config {pair!r}: write it as KEY=VALUE (e.g. tenantId=engineering)")
        config[key] = value
    return config


@contextlib.contextmanager
def api(base_url: str | None) -> Iterator[tuple[str, str]]:
    """``(base_url, api_token)``: the given API (token from ``LOCALSKILLS_API_TOKEN``), or an
    emulator started for the run on ``.demo/emulator.db``."""
    if base_url:
        token = os.environ.get("LOCALSKILLS_API_TOKEN", "")
        if not token:
            raise SystemExit("--base-url needs the API token in LOCALSKILLS_API_TOKEN")
        yield base_url, token
        return
    from localskills_pulumi.testing.emulator import Emulator

    demo_dir().mkdir(parents=True, exist_ok=True, mode=0o700)
    with Emulator(db=demo_dir() / "emulator.db") as emulator:
        print(f"==> the local emulator: {emulator.base_url} (state in {demo_dir()})")
        yield emulator.base_url, emulator.api_token


def shown(value: Any) -> str:
    """An output as ``pulumi stack output`` shows it: secrets masked."""
    return "[secret]" if contains_secrets(value) else json.dumps(unwrap(value))


def up(
    program: Path,
    host: ProviderHost,
    *,
    stack: str,
    config: Mapping[str, str],
    base_url: str,
    api_token: str,
) -> ProgramResult:
    """Run the program against its saved state, save the new state, print what happened."""
    from localskills_pulumi.testing.engine import EngineMonitor, run_program

    project = project_name(program)
    saved_at = state_path(project, stack)
    saved = StackFile.load(saved_at)
    mocks = SimulatedMocks()
    print(f"==> pulumi up, offline: project {project}, stack {stack}")
    monitor = EngineMonitor(mocks, host, state=saved.state)
    outputs = saved.outputs
    try:
        result = run_program(
            program / "__main__.py",
            monitor=monitor,
            project=project,
            stack=stack,
            config={**config, API_TOKEN_KEY: api_token, BASE_URL_KEY: base_url},
            secret_config_keys={API_TOKEN_KEY},
        )
        outputs = result.outputs
    finally:
        # A failed run keeps what it did (the engine stand-in's rule, and Pulumi's).
        StackFile(monitor.state, outputs).save(saved_at)
    report(result, mocks, saved_at)
    return result


def report(result: ProgramResult, mocks: SimulatedMocks, saved_at: Path) -> None:
    """The steps, a summary line, whether anything changed, and the outputs."""
    counts: dict[str, int] = {}
    for step in result.steps:
        op, urn = step[0], step[1]
        counts[op] = counts.get(op, 0) + 1
        type_, name = urn.split("::")[-2:]
        print(f"    {_VERBS[op]:<18} {type_} {name}")
    for resource in mocks.simulated:
        print(f"    {'simulated':<18} {resource} (nothing sent anywhere)")
    summary = ", ".join(f"{n} {_VERBS[op]}" for op, n in counts.items())
    print(f"    Resources: {summary or 'none'}")
    if all(op in _UNCHANGING for op in counts):
        print("    No changes: nothing was issued, replaced or revoked.")
    print(f"    State: {saved_at}")
    print("    Outputs:")
    for key, value in sorted(result.outputs.items()):
        print(f"        {key:<24} {shown(value)}")


def output(program: Path, *, stack: str, name: str, show_secrets: bool) -> int:
    """Print one output of the stack's last run."""
    saved_at = state_path(project_name(program), stack)
    outputs = read_state(saved_at)["outputs"]
    if name not in outputs:
        print(f"error: no output {name!r} in {saved_at}", file=sys.stderr)
        return 1
    value = outputs[name]
    plain = unwrap(value)
    if contains_secrets(value) and not show_secrets:
        print("[secret]")
    else:
        print(plain if isinstance(plain, str) else json.dumps(plain))
    return 0


def first_line(error: BaseException) -> str:
    """What to tell the user: a provider error's last line (the host sends its traceback),
    anything else's message."""
    details = getattr(error, "details", None)
    text = details if isinstance(details, str) and details.strip() else str(error)
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    line = (lines[-1] if details else lines[0]) if lines else type(error).__name__
    return line.removeprefix("error: ")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/offline.sh",
        description="Run a program of this repository without the Pulumi CLI, against the "
        "local emulator, keeping its stack state in .demo/.",
    )
    verbs = parser.add_subparsers(dest="verb", required=True)
    up_parser = verbs.add_parser("up", help="run the program (a `pulumi up`)")
    up_parser.add_argument(
        "program", type=Path, help="the program's directory, e.g. examples/rotation"
    )
    up_parser.add_argument("config", nargs="*", metavar="KEY=VALUE", help="stack config")
    up_parser.add_argument("--stack", default="dev", help="the stack name (default dev)")
    up_parser.add_argument(
        "--base-url",
        help="an API already running (token from LOCALSKILLS_API_TOKEN) instead of an emulator "
        "started for the run",
    )
    out_parser = verbs.add_parser("output", help="print an output of the last run")
    out_parser.add_argument("program", type=Path, help="the program's directory")
    out_parser.add_argument("name", help="the output's name")
    out_parser.add_argument("--stack", default="dev", help="the stack name (default dev)")
    out_parser.add_argument(
        "--show-secrets", action="store_true", help="print a secret output in the clear"
    )
    # Config pairs may follow options: parse_intermixed_args does not take subcommands.
    args, extra = parser.parse_known_args(argv)
    if extra and (args.verb != "up" or any(e.startswith("-") or "=" not in e for e in extra)):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    program = args.program.resolve()
    if not (program / "__main__.py").is_file() or not (program / "Pulumi.yaml").is_file():
        parser.error(f"{args.program}: not a Pulumi program (no __main__.py and Pulumi.yaml)")
    if args.verb == "output":
        return output(program, stack=args.stack, name=args.name, show_secrets=args.show_secrets)
    config = parse_config([*args.config, *extra])
    from concurrent.futures import ThreadPoolExecutor

    from localskills_pulumi.testing.host import ProviderHost

    try:
        # The host starts while the emulator does: each takes a second or so.
        with ThreadPoolExecutor(1) as pool:
            starting = pool.submit(ProviderHost(cwd=ROOT).start)
            try:
                with api(args.base_url) as (base_url, api_token):
                    up(
                        program,
                        starting.result(),
                        stack=args.stack,
                        config=config,
                        base_url=base_url,
                        api_token=api_token,
                    )
            finally:
                with contextlib.suppress(Exception):
                    starting.result().stop()
    except Exception as error:  # one line for the user, as `pulumi up` ends
        print(f"error: {first_line(error)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
