"""Test a Pulumi stack offline: the localskills API emulator, Pulumi's own dynamic-provider host
driven over gRPC, and a stand-in for the engine. See ``docs/testing.md``.

- :class:`Stack` (:mod:`.stack`): a stack's ``up``/``preview``/``refresh``/``destroy``/``taint``.
- :class:`HostPool`, :class:`ProviderHost` (:mod:`.host`): provider hosts, one per run.
- :class:`EngineMonitor`, :func:`run_program`, :func:`run_refresh`, :func:`run_destroy`,
  :class:`EngineState` (:mod:`.engine`): the engine stand-in, for finer control.
- :class:`Emulator` (:mod:`.emulator`): the localskills API emulator as a subprocess.
- :func:`is_secret`, :func:`unwrap`, :data:`UNKNOWN` (:mod:`.wire`): reading outputs.
"""

from .emulator import Emulator
from .engine import (
    CheckFailedError,
    EngineError,
    EngineMonitor,
    EngineState,
    NoMocks,
    ProgramResult,
    run_destroy,
    run_program,
    run_refresh,
)
from .host import HostPool, ProviderHost
from .provider_client import ProviderError
from .stack import Stack
from .wire import UNKNOWN, is_secret, unwrap

__all__ = [
    "UNKNOWN",
    "CheckFailedError",
    "Emulator",
    "EngineError",
    "EngineMonitor",
    "EngineState",
    "HostPool",
    "NoMocks",
    "ProgramResult",
    "ProviderError",
    "ProviderHost",
    "Stack",
    "is_secret",
    "run_destroy",
    "run_program",
    "run_refresh",
    "unwrap",
]
