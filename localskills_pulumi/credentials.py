"""Where the localskills API token and base URL come from.

The one place that knows the order of precedence: an explicit argument, then the stack
configuration (``localskills:apiToken``, ``localskills:baseUrl``), then the environment
(``LOCALSKILLS_API_TOKEN``, ``LOCALSKILLS_BASE_URL``), then the default base URL.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

DEFAULT_BASE_URL = "https://localskills.sh"
API_TOKEN_PREFIX = "lsk_"

CONFIG_API_TOKEN = "localskills:apiToken"
CONFIG_BASE_URL = "localskills:baseUrl"
ENV_API_TOKEN = "LOCALSKILLS_API_TOKEN"
ENV_BASE_URL = "LOCALSKILLS_BASE_URL"


class CredentialsError(ValueError):
    """The API token or base URL is missing or unusable. The message never holds the token."""


@dataclass(frozen=True)
class Credentials:
    """A resolved API token and base URL, with a word on where the token came from."""

    api_token: str = field(repr=False)
    base_url: str
    token_source: str
    """Where the token was found, for error messages: e.g. ``stack config localskills:apiToken``."""


def resolve_credentials(
    api_token: str | None = None,
    base_url: str | None = None,
    *,
    config: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Credentials:
    """
    Resolve the API token and base URL.

    :param api_token: An explicit token; wins over everything else.
    :param base_url: An explicit base URL; wins over everything else.
    :param config: The stack configuration with namespaced keys, as the engine hands it to
           a dynamic provider's ``configure``.
    :param environ: The environment; ``os.environ`` when omitted.
    :raises CredentialsError: no token anywhere, a token without the ``lsk_`` prefix, or a
            base URL that is not an ``http(s)://`` URL.
    """
    config = config or {}
    env = os.environ if environ is None else environ

    token, source = _first(
        (api_token, "the api_token argument"),
        (config.get(CONFIG_API_TOKEN), f"stack config {CONFIG_API_TOKEN}"),
        (env.get(ENV_API_TOKEN), f"environment variable {ENV_API_TOKEN}"),
    )
    if token is None:
        raise CredentialsError(
            "No localskills API token is configured. Set it with "
            f"`pulumi config set --secret {CONFIG_API_TOKEN} lsk_...` "
            f"or the {ENV_API_TOKEN} environment variable."
        )
    if not token.startswith(API_TOKEN_PREFIX):
        raise CredentialsError(
            f"The localskills API token from {source} does not start with "
            f"'{API_TOKEN_PREFIX}': use an API token created on localskills.sh "
            "(not a SCIM token or another secret)."
        )

    url, url_source = _first(
        (base_url, "the base_url argument"),
        (config.get(CONFIG_BASE_URL), f"stack config {CONFIG_BASE_URL}"),
        (env.get(ENV_BASE_URL), f"environment variable {ENV_BASE_URL}"),
        (DEFAULT_BASE_URL, "the default"),
    )
    assert url is not None  # the default is never blank
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise CredentialsError(
            f"The localskills base URL from {url_source} must look like "
            f"'https://host' or 'http://127.0.0.1:8080', got {url!r}."
        )
    return Credentials(api_token=token, base_url=url.rstrip("/"), token_source=source)


def _first(*candidates: tuple[Any, str]) -> tuple[str | None, str]:
    """The first candidate that is a non-blank string, with its source."""
    for value, source in candidates:
        if isinstance(value, str) and value.strip():
            return value.strip(), source
    return None, ""
