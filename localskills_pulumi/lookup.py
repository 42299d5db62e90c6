"""``get_scim_tokens``: the SCIM tokens of a tenant, as the Terraform ``localskills_scim_tokens``
data source gives them; in a Pulumi program or outside one (it does not import Pulumi).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, NamedTuple

from .client import LocalskillsClient
from .records import ScimTokenRecord
from .settings import CONFIG_KEYS, Settings, resolve_settings

__all__ = ["ScimTokenInfo", "ScimTokenListing", "fetch_scim_tokens", "get_scim_tokens"]


@dataclass(frozen=True)
class ScimTokenInfo(ScimTokenRecord):
    """A SCIM token as listed (see :class:`ScimTokenRecord`; never its value), and whether it
    had ``expired`` when listed, by the server's clock."""

    expired: bool = False


class ScimTokenListing(NamedTuple):
    """A tenant's tokens and the server's clock when they were listed."""

    tokens: list[ScimTokenInfo]
    server_now: datetime


def fetch_scim_tokens(tenant_id: str, settings: Settings) -> ScimTokenListing:
    """List a tenant's SCIM tokens with resolved ``settings``; see :func:`get_scim_tokens`."""
    with LocalskillsClient(settings, pool_size=1) as client:
        records = client.list_scim_tokens(tenant_id)
        now = client.server_now()
    infos = [ScimTokenInfo(**asdict(r), expired=r.is_expired(now)) for r in records]
    return ScimTokenListing(infos, now)


def get_scim_tokens(
    tenant_id: str,
    *,
    api_token: str | None = None,
    base_url: str | None = None,
) -> list[ScimTokenInfo]:
    """
    List the SCIM tokens of a localskills.sh tenant (team), in the API's order, without secrets;
    ``expired`` by the server's clock. Settings as the provider's: the arguments, then the stack
    configuration (in a Pulumi program), then the environment variables, then the defaults.

    ## Example Usage

    ```python
    import pulumi
    from localskills_pulumi import get_scim_tokens

    tokens = get_scim_tokens("engineering")
    pulumi.export("expired_scim_tokens", [t.id for t in tokens if t.expired])
    ```

    :param str tenant_id: The tenant (team) ID.
    :param str api_token: A localskills API token (``lsk_...``); prefer the secret stack config
           ``localskills:apiToken`` or ``LOCALSKILLS_API_TOKEN``.
    :param str base_url: The API's base URL.
    :raises InputError: ``tenant_id`` is not a tenant ID (before any request).
    :raises ConfigError: a setting is missing or malformed (``CredentialsError``: the API token).
    :raises ApiError: the API refused (``AuthenticationError``, ``TenantNotFoundError``, ...).
    :raises TransportError: the API cannot be reached, or did not answer in time.
    """
    settings = resolve_settings(config=_program_config(), api_token=api_token, base_url=base_url)
    return fetch_scim_tokens(tenant_id, settings).tokens


def _program_config() -> Mapping[str, Any]:
    # A program has loaded Pulumi before it can call this; outside one, nothing is read.
    runtime_config = sys.modules.get("pulumi.runtime.config")
    if runtime_config is None:
        return {}
    return {key: runtime_config.get_config(key) for key in CONFIG_KEYS}
