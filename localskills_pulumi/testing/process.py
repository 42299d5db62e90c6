"""Pulumi plugins as the engine starts them, among them the dynamic provider host.

The engine runs a plugin (a provider, a policy pack) as a separate process that prints the
port it serves gRPC on as the first line of its stdout. :class:`PluginProcess` starts one, reads
the port, keeps its stdout drained and its stderr in a file (a dynamic provider's stderr lines
are what the CLI shows the user), and ends it. :class:`HostProcess` is the Python dynamic
provider host, which serves the provider gRPC protocol with 4 worker threads.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping, Sequence
from typing import IO

from .emulator import subprocess_environment

__all__ = ["HostProcess", "PluginProcess"]


class PluginProcess:
    """A Pulumi plugin as a subprocess: ``command``, run in ``cwd`` with :meth:`environment`.

    :param command: The command line, as the engine (or language host) runs the plugin.
    :param env: The process's whole environment (default: this process's).
    :param name: What the plugin is, for error messages and the stderr file's name.
    :param start_timeout: Seconds to wait for the port line.
    :param stop_timeout: Seconds to wait after terminating, then after killing.
    """

    def __init__(
        self,
        command: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        name: str = "plugin",
        start_timeout: float = 30.0,
        stop_timeout: float = 5.0,
    ) -> None:
        self.command = list(command)
        self._env = None if env is None else dict(env)
        self.cwd = cwd
        self.name = name
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.pid: int | None = None
        self.port: int | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None
        self._stderr_final = ""
        self._stdout_lines: list[str] = []

    def environment(self) -> dict[str, str]:
        """The environment the process starts with: ``env``, or this process's at the start."""
        return dict(os.environ if self._env is None else self._env)

    def start_process(self) -> int:
        """Start the process and return the port it serves on."""
        if self._proc is not None:
            raise RuntimeError(f"the {self.name} process is already started")
        self._stdout_lines = []
        self._stderr_final = ""
        # Closed in stop_process(); a file rather than a pipe so a chatty plugin never blocks.
        prefix = self.name.replace(" ", "-")
        self._stderr = tempfile.TemporaryFile(prefix=f"{prefix}-", suffix=".stderr")  # noqa: SIM115
        self._proc = subprocess.Popen(
            self.command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=self.environment(),
            cwd=self.cwd,
        )
        self.pid = self._proc.pid
        lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(
            target=self._drain_stdout,
            args=(self._proc, lines),
            daemon=True,
            name=f"{prefix}-{self.pid}-stdout",
        ).start()
        try:
            first = lines.get(timeout=self.start_timeout)
        except queue.Empty:
            self.stop_process()
            raise RuntimeError(
                f"{self.name} did not print its port within {self.start_timeout}s; "
                f"stderr:\n{self._last_stderr}"
            ) from None
        if first is None or not first.strip().isdigit():
            code = self._proc.poll() if self._proc else None
            self.stop_process()
            raise RuntimeError(
                f"{self.name} exited or printed no port (first line {first!r}, "
                f"exit code {code}); stderr:\n{self._last_stderr}"
            )
        self.port = int(first.strip())
        return self.port

    def _drain_stdout(self, proc: subprocess.Popen[bytes], lines: queue.Queue[str | None]) -> None:
        # Keep reading so that a plugin printing to stdout never fills the pipe and blocks.
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
                    proc.wait(timeout=self.stop_timeout)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=self.stop_timeout)
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
        """Everything the process wrote to stderr so far (kept after the process ends)."""
        if self._stderr is None:
            return self._stderr_final
        pos = self._stderr.tell()
        try:
            self._stderr.seek(0)
            return self._stderr.read().decode(errors="replace")
        finally:
            self._stderr.seek(pos)

    def stdout_text(self) -> str:
        """Everything the process wrote to stdout so far (the port line first)."""
        return "\n".join(self._stdout_lines)

    @property
    def _last_stderr(self) -> str:
        return self.stderr_text()[-4000:]


class HostProcess(PluginProcess):
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
        super().__init__(
            [sys.executable, "-m", "pulumi.dynamic"],
            cwd=cwd,
            name="provider host",
            start_timeout=start_timeout,
        )
        self.env = dict(env or {})

    def environment(self) -> dict[str, str]:
        # The package this process imported comes first on the host's path, so the host
        # unpickles the very provider class the program pickled. PYTHONUNBUFFERED: the host
        # writes its port with sys.stdout.buffer.write and never flushes.
        return {**subprocess_environment(), **self.env, "PYTHONUNBUFFERED": "1"}
