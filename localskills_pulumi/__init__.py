"""
Pulumi dynamic provider for localskills.sh SCIM provisioning tokens.

``from localskills_pulumi import ScimToken`` declares a token in a Pulumi program;
``get_scim_tokens`` lists a tenant's tokens. Names are imported on first use, so that the
emulator and the command line start without loading Pulumi.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .client import (
        ApiError,
        AuthenticationError,
        LocalskillsError,
        NotFoundError,
        TransportError,
    )
    from .credentials import CredentialsError
    from .lookup import ScimTokenInfo, get_scim_tokens
    from .provider import ScimTokenProvider
    from .resource import ScimToken, ScimTokenArgs

__all__ = [
    "ApiError",
    "AuthenticationError",
    "CredentialsError",
    "LocalskillsError",
    "NotFoundError",
    "ScimToken",
    "ScimTokenArgs",
    "ScimTokenInfo",
    "ScimTokenProvider",
    "TransportError",
    "get_scim_tokens",
]

_EXPORTS = {
    "ApiError": "client",
    "AuthenticationError": "client",
    "LocalskillsError": "client",
    "NotFoundError": "client",
    "TransportError": "client",
    "CredentialsError": "credentials",
    "ScimTokenProvider": "provider",
    "ScimToken": "resource",
    "ScimTokenArgs": "resource",
    "ScimTokenInfo": "lookup",
    "get_scim_tokens": "lookup",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f".{module}", __name__), name)
