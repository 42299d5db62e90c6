"""PluginProcess, the start and stop of a plugin that prints its port (the provider host and the
policy pack are both one), with small stand-in plugins."""

from __future__ import annotations

import re
import sys

import pytest

from localskills_pulumi.testing.process import PluginProcess


def plugin(code: str, **options: float) -> PluginProcess:
    return PluginProcess([sys.executable, "-c", code], name="test plugin", **options)


def test_the_port_on_the_first_line_is_read_and_stderr_is_kept_after_the_stop() -> None:
    # stderr before the port line, so it is written by the time the port is read.
    process = plugin(
        "import sys, time; print('ready', file=sys.stderr, flush=True); print('4242', "
        "flush=True); print('more', flush=True); time.sleep(60)"
    )
    assert process.start_process() == 4242
    assert process.running
    process.stop_process()
    assert not process.running
    assert "ready" in process.stderr_text()
    process.stop_process()  # idempotent


def test_a_plugin_that_prints_no_port_fails_naming_it_its_line_and_its_stderr() -> None:
    # stderr first: the parent reads the first line, and the stderr then, as soon as it comes.
    process = plugin(
        "import sys; print('boom', file=sys.stderr, flush=True); print('listening', flush=True);"
        " sys.exit(3)"
    )
    with pytest.raises(RuntimeError) as raised:
        process.start_process()
    message = str(raised.value)
    assert message.startswith("test plugin exited or printed no port (first line 'listening'")
    assert "boom" in message
    assert not process.running


def test_a_plugin_silent_past_the_start_timeout_is_ended() -> None:
    process = plugin("import time; time.sleep(60)", start_timeout=0.5)
    with pytest.raises(
        RuntimeError, match=re.escape("test plugin did not print its port within 0.5s")
    ):
        process.start_process()
    assert not process.running
