"""Run the local emulator as a subprocess, for tests and benchmarks.

``Emulator`` starts ``python -m localskills_pulumi.emulator --port 0``, reads the base URL
from the first line of its stdout, and offers helpers: the ``/_emulator/`` admin API (plain
``requests``), through which it also reads and issues tokens (never through the package's code
under test), and raw ``requests`` where the raw status or answer is the point
(:meth:`Emulator.delete_token`, :meth:`Emulator.scim_get_users`).
"""

from __future__ import annotations

import os
import queue
import signal
import site
import subprocess
import sys
import tempfile
import threading
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

import requests
import yaml

import localskills_pulumi

from ..errors import LocalskillsError

DEMO_API_TOKEN = "lsk_" + "0123456789abcdef" * 4
"""The demo seed's API token: a documented demo credential, not a secret."""
DEMO_TENANT_ID = "engineering"

_START_TIMEOUT = 15.0
_HTTP_TIMEOUT = 10.0


class EmulatorError(LocalskillsError, RuntimeError):
    """The emulator could not start, or an admin call failed.

    The SCIM token helpers raise the package's own errors instead (``LocalskillsError``).
    """


def import_root() -> Path:
    """The directory that holds the imported ``localskills_pulumi`` package.

    A source checkout's root, or the ``site-packages`` an installed wheel went into: the
    emulator subprocess imports the package from there, the same one this process runs.
    """
    return Path(localskills_pulumi.__file__).resolve().parent.parent


def subprocess_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for an emulator subprocess: ``environ`` (default ``os.environ``) with
    :func:`import_root` first on ``PYTHONPATH``, unless the interpreter finds the package
    there anyway (an installed wheel: a site directory is not put before the standard library).
    """
    env = dict(os.environ if environ is None else environ)
    root = import_root()
    site_dirs = {Path(p).resolve() for p in (*site.getsitepackages(), site.getusersitepackages())}
    if root not in site_dirs:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), env.get("PYTHONPATH", "")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _first_seed_token(seed: str | os.PathLike[str]) -> str | None:
    try:
        data = yaml.safe_load(Path(seed).read_text(encoding="utf-8"))
        token = data["api_tokens"][0]["token"]
    except Exception:  # an invalid seed: the emulator itself will refuse it
        return None
    return token if isinstance(token, str) else None


class Emulator:
    """A running emulator subprocess (python -m localskills_pulumi.emulator).

    For tests and benchmarks; stderr goes to a temporary file (see :meth:`stderr_text`).
    """

    def __init__(
        self,
        *,
        db: str | os.PathLike[str] | None = None,
        seed: str | os.PathLike[str] | None = None,
        latency_ms: int = 0,
        extra_args: Sequence[str] = (),
    ) -> None:
        self.db = db
        self.seed = seed
        self.latency_ms = latency_ms
        self.extra_args = tuple(extra_args)
        self.base_url = ""
        self.api_token = DEMO_API_TOKEN
        if seed is not None:
            self.api_token = _first_seed_token(seed) or DEMO_API_TOKEN
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None
        self._stderr_kept = ""  # what a stopped emulator wrote to stderr
        self._returncode: int | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def command(self) -> list[str]:
        """The command line this emulator runs."""
        cmd = [sys.executable, "-m", "localskills_pulumi.emulator", "--port", "0"]
        if self.db is not None:
            cmd += ["--db", os.fspath(self.db)]
        if self.seed is not None:
            cmd += ["--seed", os.fspath(self.seed)]
        if self.latency_ms:
            cmd += ["--latency-ms", str(self.latency_ms)]
        return cmd + list(self.extra_args)

    def start(self) -> Emulator:
        """Start the subprocess and wait (up to 15 s) for its base URL."""
        if self._process is not None:
            raise EmulatorError("the emulator is already started")
        env = subprocess_environment()
        # Closed by stop(), which keeps its text for stderr_text().
        self._stderr = tempfile.TemporaryFile(prefix="emulator-stderr-")  # noqa: SIM115
        self._process = subprocess.Popen(
            self.command(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=env,
        )
        assert self._process.stdout is not None
        lines: queue.Queue[bytes] = queue.Queue()
        stdout = self._process.stdout
        threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
        try:
            line = lines.get(timeout=_START_TIMEOUT)
        except queue.Empty:
            self.stop()
            raise EmulatorError(
                f"the emulator printed no base URL within {_START_TIMEOUT:.0f} s; "
                f"stderr:\n{self.stderr_tail()}"
            ) from None
        url = line.decode("utf-8", "replace").strip()
        if not url.startswith("http://"):
            code = self._process.wait(timeout=5) if not url else self._process.poll()
            tail = self.stderr_tail()
            self.stop()
            raise EmulatorError(f"the emulator did not start (exit status {code}); stderr:\n{tail}")
        self.base_url = url
        return self

    def stop(self) -> None:
        """SIGTERM, wait, kill if needed. Idempotent."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        self._returncode = process.returncode
        if process.stdout is not None:
            process.stdout.close()
        if self._stderr is not None:
            self._stderr_kept = self.stderr_text()
            self._stderr.close()
            self._stderr = None

    @property
    def returncode(self) -> int | None:
        """The exit status once stopped (None while running or never started)."""
        return self._process.poll() if self._process is not None else self._returncode

    @property
    def pid(self) -> int:
        """The subprocess id."""
        if self._process is None:
            raise EmulatorError("the emulator is not running")
        return self._process.pid

    def stderr_text(self) -> str:
        """Everything the emulator wrote to stderr so far."""
        if self._stderr is None:
            return self._stderr_kept
        self._stderr.flush()
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", "replace")

    def stderr_tail(self, lines: int = 30) -> str:
        """The last lines of the emulator's stderr."""
        return "\n".join(self.stderr_text().splitlines()[-lines:])

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- admin API -------------------------------------------------------------------------

    def _admin(self, method: str, path: str, payload: Any = None) -> Any:
        response = requests.request(
            method, f"{self.base_url}/_emulator/{path}", json=payload, timeout=_HTTP_TIMEOUT
        )
        if response.status_code >= 400:
            raise EmulatorError(
                f"{method} /_emulator/{path}: {response.status_code} {response.text}"
            )
        return response.json()

    def new_tenant(self, prefix: str = "t") -> str:
        """Create a unique tenant (member: ``api_token``) and return its id."""
        tenant_id = f"{prefix}-{uuid.uuid4().hex[:12]}"
        self._admin(
            "POST",
            "tenants",
            {"id": tenant_id, "name": f"Tenant {tenant_id}", "api_tokens": [self.api_token]},
        )
        return tenant_id

    def add_faults(self, rules: list[dict[str, Any]]) -> None:
        """Append fault rules."""
        self._admin("POST", "faults", rules)

    def clear_faults(self) -> None:
        """Drop every fault rule."""
        self._admin("DELETE", "faults")

    def faults(self) -> list[dict[str, Any]]:
        """The active fault rules, with their remaining times."""
        rules: list[dict[str, Any]] = self._admin("GET", "faults")["rules"]
        return rules

    def requests_log(self) -> list[dict[str, Any]]:
        """API and SCIM requests served since the last clear."""
        entries: list[dict[str, Any]] = self._admin("GET", "requests")["requests"]
        return entries

    def connections(self) -> int:
        """TCP connections that carried API or SCIM requests since the last clear."""
        return int(self._admin("GET", "requests")["connections"])

    def clear_requests(self) -> None:
        """Clear the request log and the connection count."""
        self._admin("DELETE", "requests")

    def advance_clock(self, seconds: float) -> None:
        """Move the emulator's clock by ``seconds`` (negative: back)."""
        self._admin("POST", "clock", {"advance_seconds": seconds})

    def now(self) -> str:
        """The emulator's clock, ISO 8601."""
        return str(self._admin("GET", "clock")["now"])

    # -- the SCIM token API ------------------------------------------------------------------

    def _auth(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.api_token}"}

    def tokens_url(self, tenant_id: str) -> str:
        """``{base_url}/api/tenants/{tenant_id}/scim-tokens``, the tenant percent-encoded."""
        return f"{self.base_url}/api/tenants/{quote(tenant_id, safe='')}/scim-tokens"

    def list_tokens(self, tenant_id: str) -> list[dict[str, Any]]:
        """The tenant's SCIM tokens, in the API's JSON shape (``id``, ``createdAt``, ...), read
        from the emulator's state through its admin route: no credential, no fault rule, no
        entry in the request log, and none of the package's code under test."""
        tokens: list[dict[str, Any]] = self._admin("GET", self._admin_tokens(tenant_id))["tokens"]
        return tokens

    def create_token(
        self, tenant_id: str, name: str, expires_in_days: int | None = None
    ) -> dict[str, Any]:
        """Issue a SCIM token as the API's create would (through the admin route, like
        :meth:`list_tokens`); returns it in the API's JSON shape, with the secret ``token``."""
        body: dict[str, Any] = {"name": name}
        if expires_in_days is not None:
            body["expiresInDays"] = expires_in_days
        created: dict[str, Any] = self._admin("POST", self._admin_tokens(tenant_id), body)
        return created

    @staticmethod
    def _admin_tokens(tenant_id: str) -> str:
        return f"tenants/{quote(tenant_id, safe='')}/scim-tokens"

    def delete_token(self, tenant_id: str, token_id: str) -> int:
        """DELETE a SCIM token with raw ``requests``; returns the HTTP status (200, 404, ...)."""
        response = requests.delete(
            f"{self.tokens_url(tenant_id)}/{quote(token_id, safe='')}",
            headers=self._auth(),
            timeout=_HTTP_TIMEOUT,
        )
        return response.status_code

    def scim_get_users(self, scim_token: str) -> requests.Response:
        """GET /scim/v2/Users with a SCIM token as bearer."""
        return requests.get(
            f"{self.base_url}/scim/v2/Users", headers=self._auth(scim_token), timeout=_HTTP_TIMEOUT
        )
