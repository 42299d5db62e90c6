"""
Pulumi dynamic provider for localskills.sh SCIM provisioning tokens.

``from localskills_pulumi import ScimToken`` declares a token in a Pulumi program;
``get_scim_tokens`` lists a tenant's tokens. Every error the package raises is a
``LocalskillsError`` (see :mod:`localskills_pulumi.errors`). Other names are imported on first
use, so that the emulator and the command line start without loading Pulumi.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from . import errors as _errors
from ._version import __version__
from .errors import *  # noqa: F403 -- the error tree (it imports nothing)

if TYPE_CHECKING:
    from .client import LocalskillsClient
    from .lookup import ScimTokenInfo, get_scim_tokens
    from .provider import ScimTokenProvider
    from .records import ScimTokenRecord
    from .resource import ScimToken, ScimTokenArgs
    from .retry import RetryPolicy
    from .settings import Settings, resolve_settings

_EXPORTS = {
    "LocalskillsClient": "client",
    "RetryPolicy": "retry",
    "ScimToken": "resource",
    "ScimTokenArgs": "resource",
    "ScimTokenInfo": "lookup",
    "ScimTokenProvider": "provider",
    "ScimTokenRecord": "records",
    "Settings": "settings",
    "get_scim_tokens": "lookup",
    "resolve_settings": "settings",
}

__all__ = [
    "LocalskillsClient",
    "RetryPolicy",
    "ScimToken",
    "ScimTokenArgs",
    "ScimTokenInfo",
    "ScimTokenProvider",
    "ScimTokenRecord",
    "Settings",
    "__version__",
    "get_scim_tokens",
    "resolve_settings",
]
__all__ += _errors.__all__


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f".{module}", __name__), name)
