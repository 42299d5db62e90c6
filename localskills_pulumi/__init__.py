"""
Pulumi dynamic provider for localskills.sh SCIM provisioning tokens.

``from localskills_pulumi import ScimToken`` declares a token in a Pulumi program;
``get_scim_tokens`` lists a tenant's tokens. Names are imported on first use, so that the
emulator and the command line start without loading Pulumi.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from .client import LocalskillsClient
    from .errors import (
        AdoptionError,
        ApiError,
        AuthenticationError,
        ConfigError,
        CredentialsError,
        DeadlineExceededError,
        ImportIdError,
        InputError,
        LocalskillsError,
        MalformedResponseError,
        NotFoundError,
        OrphanedTokenError,
        RateLimitError,
        RedirectError,
        ResponseError,
        ResponseTooLargeError,
        TenantNotFoundError,
        TokenNotFoundError,
        TransportError,
    )
    from .lookup import ScimTokenInfo, get_scim_tokens
    from .provider import ScimTokenProvider
    from .records import ScimTokenRecord
    from .resource import ScimToken
    from .retry import RetryPolicy
    from .settings import Settings, resolve_settings

_ERRORS = (
    "AdoptionError",
    "ApiError",
    "AuthenticationError",
    "ConfigError",
    "CredentialsError",
    "DeadlineExceededError",
    "ImportIdError",
    "InputError",
    "LocalskillsError",
    "MalformedResponseError",
    "NotFoundError",
    "OrphanedTokenError",
    "RateLimitError",
    "RedirectError",
    "ResponseError",
    "ResponseTooLargeError",
    "TenantNotFoundError",
    "TokenNotFoundError",
    "TransportError",
)

_EXPORTS = {
    **dict.fromkeys(_ERRORS, "errors"),
    "LocalskillsClient": "client",
    "RetryPolicy": "retry",
    "ScimToken": "resource",
    "ScimTokenInfo": "lookup",
    "ScimTokenProvider": "provider",
    "ScimTokenRecord": "records",
    "Settings": "settings",
    "get_scim_tokens": "lookup",
    "resolve_settings": "settings",
}

__all__ = [
    "AdoptionError",
    "ApiError",
    "AuthenticationError",
    "ConfigError",
    "CredentialsError",
    "DeadlineExceededError",
    "ImportIdError",
    "InputError",
    "LocalskillsClient",
    "LocalskillsError",
    "MalformedResponseError",
    "NotFoundError",
    "OrphanedTokenError",
    "RateLimitError",
    "RedirectError",
    "ResponseError",
    "ResponseTooLargeError",
    "RetryPolicy",
    "ScimToken",
    "ScimTokenInfo",
    "ScimTokenProvider",
    "ScimTokenRecord",
    "Settings",
    "TenantNotFoundError",
    "TokenNotFoundError",
    "TransportError",
    "__version__",
    "get_scim_tokens",
    "resolve_settings",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f".{module}", __name__), name)
