"""Where the localskills API token and base URL come from.

Kept for the names it has always offered; the resolution itself lives in
:mod:`localskills_pulumi.settings`, with every other setting.
"""

from __future__ import annotations

from .errors import CredentialsError
from .identifiers import API_TOKEN_PREFIX
from .settings import (
    CONFIG_API_TOKEN,
    CONFIG_BASE_URL,
    DEFAULT_BASE_URL,
    ENV_API_TOKEN,
    ENV_BASE_URL,
    Credentials,
    resolve_credentials,
)

__all__ = [
    "API_TOKEN_PREFIX",
    "CONFIG_API_TOKEN",
    "CONFIG_BASE_URL",
    "DEFAULT_BASE_URL",
    "ENV_API_TOKEN",
    "ENV_BASE_URL",
    "Credentials",
    "CredentialsError",
    "resolve_credentials",
]
