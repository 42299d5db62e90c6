"""The dynamic provider host process, ``python -m pulumi.dynamic``, started as the engine starts it.

The Pulumi CLI runs a Python dynamic provider as that separate process: it prints its port on
stdout and serves the provider gRPC protocol with 4 worker threads. :class:`HostProcess` starts
it, reads the port, keeps its stdout drained and its stderr in a file (a dynamic provider's
stderr lines are what the CLI shows the user), and ends it.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping
from typing import IO

from .emulator import subprocess_environment

__all__ = ["HOST_WORKERS", "HostProcess"]

HOST_WORKERS = 4
"""The dynamic host serves this many calls at once (``pulumi/dynamic/__main__.py``:
``futures.ThreadPoolExecutor(max_workers=4)``)."""


class HostProcess:
    """``python -m pulumi.dynamic`` as a subprocess.

    ``env`` holds extra environment variables on top of ``os.environ`` (the engine passes its own
    environment plus ``PULUMI_PROJECT``, ``PULUMI_CONFIG``). ``cwd`` is the process's working
    directory: with ``-m`` it is also the first entry of the host's ``sys.path``, so a provider
    class pickled by reference must be importable from there, from ``PYTHONPATH`` in ``env``, or
    be this package's (whose location goes on the host's ``PYTHONPATH``).
    """

    def __init__(
        self,
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        start_timeout: float = 30.0,
    ) -> None:
        self.env = dict(env or {})
        self.cwd = cwd
        self.start_timeout = start_timeout
        self.pid: int | None = None
        self.port: int | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None
        self._stderr_final = ""
        self._stdout_lines: list[str] = []

    def start_process(self) -> int:
        """Start the process and return the port it serves on."""
        if self._proc is not None:
            raise RuntimeError("the host process is already started")
        # The package this process imported comes first on the host's path, so the host
        # unpickles the very provider class the program pickled. PYTHONUNBUFFERED: the host
        # writes its port with sys.stdout.buffer.write and never flushes.
        env = {**subprocess_environment(), **self.env, "PYTHONUNBUFFERED": "1"}
        self._stdout_lines = []
        self._stderr_final = ""
        # Closed in stop_process(); a file rather than a pipe so a chatty provider never blocks.
        self._stderr = tempfile.TemporaryFile(  # noqa: SIM115
            prefix="pulumi-dynamic-host-", suffix=".stderr"
        )
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "pulumi.dynamic"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=env,
            cwd=self.cwd,
        )
        self.pid = self._proc.pid
        lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(
            target=self._drain_stdout,
            args=(self._proc, lines),
            daemon=True,
            name=f"pulumi-dynamic-host-{self.pid}-stdout",
        ).start()
        try:
            first = lines.get(timeout=self.start_timeout)
        except queue.Empty:
            self.stop_process()
            raise RuntimeError(
                f"provider host did not print its port within {self.start_timeout}s; "
                f"stderr:\n{self._last_stderr}"
            ) from None
        if first is None or not first.strip().isdigit():
            code = self._proc.poll() if self._proc else None
            self.stop_process()
            raise RuntimeError(
                f"provider host exited or printed no port (first line {first!r}, "
                f"exit code {code}); stderr:\n{self._last_stderr}"
            )
        self.port = int(first.strip())
        return self.port

    def _drain_stdout(self, proc: subprocess.Popen[bytes], lines: queue.Queue[str | None]) -> None:
        # Keep reading so that a provider printing to stdout never fills the pipe and blocks.
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            if not self._stdout_lines:
                lines.put(line)
            self._stdout_lines.append(line)
        lines.put(None)

    def stop_process(self) -> None:
        """End the process (terminate, then kill). Idempotent; stderr stays readable."""
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=5)
            if proc.stdout is not None:
                proc.stdout.close()
        if self._stderr is not None:
            self._stderr_final = self.stderr_text()
            self._stderr.close()
            self._stderr = None

    @property
    def running(self) -> bool:
        """Whether the process is alive."""
        return self._proc is not None and self._proc.poll() is None

    def stderr_text(self) -> str:
        """Everything the host wrote to stderr so far (kept after the process ends)."""
        if self._stderr is None:
            return self._stderr_final
        pos = self._stderr.tell()
        try:
            self._stderr.seek(0)
            return self._stderr.read().decode(errors="replace")
        finally:
            self._stderr.seek(pos)

    def stdout_text(self) -> str:
        """Everything the host wrote to stdout so far (the port line first)."""
        return "\n".join(self._stdout_lines)

    @property
    def _last_stderr(self) -> str:
        return self.stderr_text()[-4000:]
