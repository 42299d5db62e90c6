"""Every setting of localskills-pulumi, resolved in one place.

A setting comes from, in order: an explicit argument, the stack configuration (as the engine
hands it to the provider's ``configure``, keys namespaced ``localskills:...``), the environment,
the default. The provider, :func:`~localskills_pulumi.get_scim_tokens` and the command line all
resolve their settings here, so the same key means the same thing everywhere.

============================  ======================================  ==========  ============
stack config                  environment                             default     allowed
============================  ======================================  ==========  ============
``localskills:apiToken``      ``LOCALSKILLS_API_TOKEN``               (none)      ``lsk_...``
``localskills:baseUrl``       ``LOCALSKILLS_BASE_URL``                localskills ``http(s)://``
``localskills:requestTimeout`` ``LOCALSKILLS_REQUEST_TIMEOUT``        30          0.1 to 600 s
``localskills:maxRetries``    ``LOCALSKILLS_MAX_RETRIES``             3           0 to 10
``localskills:listingCacheSeconds`` ``LOCALSKILLS_LISTING_CACHE_SECONDS`` 300     0 to 3600 s
``localskills:checkLiveness`` ``LOCALSKILLS_CHECK_LIVENESS``          true        true, false
============================  ======================================  ==========  ============
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .errors import ConfigError, CredentialsError
from .identifiers import api_token_problem

__all__ = [
    "CONFIG_KEYS",
    "DEFAULT_BASE_URL",
    "LISTING_CACHE",
    "MAX_RETRIES",
    "REQUEST_TIMEOUT",
    "Credentials",
    "NumberSetting",
    "Settings",
    "base_url_problem",
    "check_liveness_setting",
    "resolve_credentials",
    "resolve_settings",
    "unknown_config_keys",
    "unknown_environment_variables",
]

DEFAULT_BASE_URL = "https://localskills.sh"

CONFIG_API_TOKEN = "localskills:apiToken"
CONFIG_BASE_URL = "localskills:baseUrl"
CONFIG_REQUEST_TIMEOUT = "localskills:requestTimeout"
CONFIG_MAX_RETRIES = "localskills:maxRetries"
CONFIG_LISTING_CACHE = "localskills:listingCacheSeconds"
CONFIG_CHECK_LIVENESS = "localskills:checkLiveness"
CONFIG_KEYS = (
    CONFIG_API_TOKEN,
    CONFIG_BASE_URL,
    CONFIG_REQUEST_TIMEOUT,
    CONFIG_MAX_RETRIES,
    CONFIG_LISTING_CACHE,
    CONFIG_CHECK_LIVENESS,
)
"""Every stack config key the package reads."""

ENV_API_TOKEN = "LOCALSKILLS_API_TOKEN"
ENV_BASE_URL = "LOCALSKILLS_BASE_URL"
ENV_REQUEST_TIMEOUT = "LOCALSKILLS_REQUEST_TIMEOUT"
ENV_MAX_RETRIES = "LOCALSKILLS_MAX_RETRIES"
ENV_LISTING_CACHE = "LOCALSKILLS_LISTING_CACHE_SECONDS"
ENV_CHECK_LIVENESS = "LOCALSKILLS_CHECK_LIVENESS"

ENV_KEYS = (
    ENV_API_TOKEN,
    ENV_BASE_URL,
    ENV_REQUEST_TIMEOUT,
    ENV_MAX_RETRIES,
    ENV_LISTING_CACHE,
    ENV_CHECK_LIVENESS,
)
"""Every environment variable the package reads."""


@dataclass(frozen=True)
class NumberSetting:
    """A numeric setting: its stack config key, environment variable, default and range."""

    config_key: str
    env_key: str
    default: float
    low: float
    high: float
    whole: bool = False
    unit: str = ""

    @property
    def allowed(self) -> str:
        kind = "a whole number" if self.whole else "a number"
        return f"{kind} from {self.low:g} to {self.high:g}{self.unit}"

    def check(self, raw: Any, source: str, *, text: bool = True) -> float:
        """``raw`` (a number, or with ``text`` its text from config or the environment) as a
        number.

        :raises ConfigError: naming ``source`` and the allowed range.
        """
        value: float | None = None
        if isinstance(raw, (int, float)) and not isinstance(raw, bool):
            value = float(raw)
        elif isinstance(raw, str) and text:
            try:
                value = float(raw.strip())
            except ValueError:
                value = None
        if (
            value is None
            or not self.low <= value <= self.high  # False for NaN too
            or (self.whole and value != int(value))
        ):
            raise ConfigError(f"{source} must be {self.allowed}, got {raw!r}.")
        return value


REQUEST_TIMEOUT = NumberSetting(
    CONFIG_REQUEST_TIMEOUT, ENV_REQUEST_TIMEOUT, 30.0, 0.1, 600.0, unit=" seconds"
)
MAX_RETRIES = NumberSetting(CONFIG_MAX_RETRIES, ENV_MAX_RETRIES, 3, 0, 10, whole=True)
LISTING_CACHE = NumberSetting(
    CONFIG_LISTING_CACHE, ENV_LISTING_CACHE, 300.0, 0.0, 3600.0, unit=" seconds"
)

_STACK_CONFIG_SOURCE = "stack config"


@dataclass(frozen=True)
class Credentials:
    """A resolved API token and base URL, with where the token came from.

    :param api_token: The API token (never shown by ``repr``).
    :param base_url: The API's base URL, without a trailing ``/``.
    :param token_source: Where the token was found, for messages, e.g. ``stack config
           localskills:apiToken``.
    :param refused_hint: What to tell the user when the API refuses the token (401).
    :param base_url_source: Where the base URL was found, for messages, e.g. ``environment
           variable LOCALSKILLS_BASE_URL``.
    """

    api_token: str = field(repr=False)
    base_url: str
    token_source: str
    refused_hint: str = ""
    base_url_source: str = ""

    @property
    def refused_message(self) -> str:
        """What to tell the user when the API refuses the token (401)."""
        return self.refused_hint or (
            f"The API token was refused: check the token from {self.token_source}."
        )


@dataclass(frozen=True)
class Settings:
    """Everything the package needs to talk to the API, resolved and checked.

    :param credentials: The API token and base URL.
    :param request_timeout: Seconds a request may take, answer included.
    :param max_retries: Retries after the first attempt.
    :param listing_cache_seconds: How long reads of one tenant share one listing (0: never).
    :param check_liveness: Whether a plan looks each token up in its tenant's listing, and
           replaces one revoked outside Pulumi.
    """

    credentials: Credentials
    request_timeout: float = REQUEST_TIMEOUT.default
    max_retries: int = int(MAX_RETRIES.default)
    listing_cache_seconds: float = LISTING_CACHE.default
    check_liveness: bool = True


def resolve_settings(
    *,
    config: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    api_token: str | None = None,
    base_url: str | None = None,
    request_timeout: float | None = None,
    max_retries: int | None = None,
    listing_cache_seconds: float | None = None,
    check_liveness: bool | None = None,
    context: str = "program",
) -> Settings:
    """Resolve and check every setting.

    :param config: The stack configuration, keys namespaced (``localskills:apiToken``).
    :param environ: The environment; ``os.environ`` when omitted.
    :param api_token: An explicit API token; wins over everything else.
    :param base_url: An explicit base URL; wins over everything else.
    :param request_timeout: An explicit timeout in seconds; wins over config and environment.
    :param max_retries: An explicit retry count; wins over config and environment.
    :param listing_cache_seconds: An explicit listing cache time; wins over the rest.
    :param check_liveness: An explicit liveness switch; wins over the rest.
    :param context: ``"program"`` (a Pulumi program or provider: messages speak of stack
           config) or ``"cli"`` (the command line: messages speak of the environment only).
    :raises CredentialsError: no API token, or a malformed token or base URL.
    :raises ConfigError: a number that is not a number, or out of its range.
    """
    credentials = resolve_credentials(
        api_token, base_url, config=config, environ=environ, context=context
    )
    config = config or {}
    env = os.environ if environ is None else environ
    timeout, retries, cache = (
        _number(explicit, config, env, setting)
        for explicit, setting in (
            (request_timeout, REQUEST_TIMEOUT),
            (max_retries, MAX_RETRIES),
            (listing_cache_seconds, LISTING_CACHE),
        )
    )
    return Settings(
        credentials=credentials,
        request_timeout=timeout,
        max_retries=int(retries),
        listing_cache_seconds=cache,
        check_liveness=_switch(
            check_liveness, config, env, CONFIG_CHECK_LIVENESS, ENV_CHECK_LIVENESS, True
        ),
    )


def resolve_credentials(
    api_token: str | None = None,
    base_url: str | None = None,
    *,
    config: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    context: str = "program",
) -> Credentials:
    """Resolve the API token and base URL (see :func:`resolve_settings`).

    :raises CredentialsError: no token anywhere, a token that is not ``lsk_...`` (or holds
            characters no token has), or a base URL that is not an ``http(s)://host`` URL.
    """
    config = config or {}
    env = os.environ if environ is None else environ
    token, source = _first(
        (api_token, "the api_token argument"),
        (config.get(CONFIG_API_TOKEN), f"{_STACK_CONFIG_SOURCE} {CONFIG_API_TOKEN}"),
        (env.get(ENV_API_TOKEN), f"environment variable {ENV_API_TOKEN}"),
    )
    if token is None:
        if context == "cli":
            raise CredentialsError(
                f"No localskills API token is configured: set the {ENV_API_TOKEN} "
                "environment variable to an lsk_... API token of a member of the tenant."
            )
        raise CredentialsError(
            "No localskills API token is configured. Set it with "
            f"`pulumi config set --secret {CONFIG_API_TOKEN} lsk_...` "
            f"or the {ENV_API_TOKEN} environment variable."
        )
    problem = api_token_problem(token)
    if problem:
        raise CredentialsError(f"The localskills API token from {source} {problem}.")

    url, url_source = _first(
        (base_url, "the --base-url option" if context == "cli" else "the base_url argument"),
        (config.get(CONFIG_BASE_URL), f"{_STACK_CONFIG_SOURCE} {CONFIG_BASE_URL}"),
        (env.get(ENV_BASE_URL), f"environment variable {ENV_BASE_URL}"),
        (DEFAULT_BASE_URL, "the default"),
    )
    assert url is not None  # the default is never blank
    problem = base_url_problem(url)
    if problem:
        raise CredentialsError(
            f"The localskills base URL from {url_source} {problem}: it must look like "
            f"'https://host' or 'http://127.0.0.1:8080', got {url!r}."
        )
    refused_hint = f"The API token was refused: check the token from {source}."
    if source.startswith(_STACK_CONFIG_SOURCE):
        refused_hint += (
            " `pulumi refresh` and `pulumi destroy` use the stack config of the last "
            f"`pulumi up`: if {CONFIG_API_TOKEN} was changed since, run `pulumi up` first."
        )
    return Credentials(
        api_token=token,
        base_url=url.rstrip("/"),
        token_source=source,
        refused_hint=refused_hint,
        base_url_source=url_source,
    )


def _closest(name: str, known: tuple[str, ...]) -> str:
    """`` (did you mean X?)`` for the known name closest to ``name``, case ignored, or ``""``."""
    by_lower = {k.lower(): k for k in known}
    match = difflib.get_close_matches(name.lower(), list(by_lower), n=1, cutoff=0.6)
    return f" (did you mean {by_lower[match[0]]}?)" if match else ""


def unknown_config_keys(config: Mapping[str, Any]) -> str | None:
    """What is wrong with the ``localskills:`` keys of a stack config that the package does
    not read, or ``None``: a misspelt key (``localskills:baseURL``) would otherwise be ignored
    and the API token sent to the default base URL."""
    unknown = sorted(k for k in config if k.startswith("localskills:") and k not in CONFIG_KEYS)
    if not unknown:
        return None
    named = "; ".join(f"{key}{_closest(key, CONFIG_KEYS)}" for key in unknown)
    return (
        f"unknown stack config key {named}: remove it (`pulumi config rm {unknown[0]}`) and "
        f"set the right key; the keys localskills-pulumi reads are {', '.join(CONFIG_KEYS)}."
    )


def unknown_environment_variables(environ: Mapping[str, str] | None = None) -> list[str]:
    """One warning per ``LOCALSKILLS_*`` variable of the environment that the package does not
    read, naming the closest one it does."""
    env = os.environ if environ is None else environ
    return [
        f"the environment variable {name} is not one localskills-pulumi reads"
        f"{_closest(name, ENV_KEYS)}; it is ignored."
        for name in sorted(env)
        if name.startswith("LOCALSKILLS_") and name not in ENV_KEYS
    ]


def base_url_problem(url: str) -> str | None:
    """Why ``url`` cannot be the API's base URL (``http(s)://host[:port][/path]``), or None."""
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises on a port that is not a number
    except ValueError:
        return "does not parse"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "is not an http(s) URL with a host"
    if parts.username is not None or parts.password is not None:
        return "holds a user name or password (put the API token in its own setting)"
    if parts.query or parts.fragment:
        return "holds a query or fragment"
    if any(ch.isspace() or not ch.isprintable() for ch in url):
        return "holds white space or control characters"
    return None


def _first(*candidates: tuple[Any, str]) -> tuple[str | None, str]:
    """The first candidate that is a non-blank string, with its source."""
    for value, source in candidates:
        if isinstance(value, str) and value.strip():
            return value.strip(), source
    return None, ""


def check_liveness_setting(
    config: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> bool:
    """Just the liveness switch (a plan may run without credentials; this needs none).

    :raises ConfigError: a value that is not true or false.
    """
    env = os.environ if environ is None else environ
    return _switch(None, config or {}, env, CONFIG_CHECK_LIVENESS, ENV_CHECK_LIVENESS, True)


_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")


def _given(
    explicit: Any, config: Mapping[str, Any], env: Mapping[str, str], config_key: str, env_key: str
) -> tuple[Any, str] | None:
    """The first value set for a key, with where it came from: argument, config, environment."""
    candidates: tuple[tuple[Any, str], ...] = (
        (explicit, "the argument"),
        (config.get(config_key), f"{_STACK_CONFIG_SOURCE} {config_key}"),
        (env.get(env_key), f"environment variable {env_key}"),
    )
    for raw, source in candidates:
        if raw is not None and not (isinstance(raw, str) and not raw.strip()):
            return raw, source
    return None


def _switch(
    explicit: bool | None,
    config: Mapping[str, Any],
    env: Mapping[str, str],
    config_key: str,
    env_key: str,
    default: bool,
) -> bool:
    given = _given(explicit, config, env, config_key, env_key)
    if given is None:
        return default
    raw, source = given
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConfigError(f"{source} must be true or false, got {raw!r}.")


def _number(
    explicit: float | None,
    config: Mapping[str, Any],
    env: Mapping[str, str],
    setting: NumberSetting,
) -> float:
    given = _given(explicit, config, env, setting.config_key, setting.env_key)
    return setting.default if given is None else setting.check(*given)
