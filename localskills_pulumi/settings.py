"""Every setting of localskills-pulumi, in one table (:data:`SETTINGS`), each resolved from an
explicit argument, else the stack config, else the environment, else its default."""

from __future__ import annotations

import contextlib
import difflib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .errors import ConfigError, CredentialsError
from .identifiers import api_token_problem

DEFAULT_BASE_URL = "https://localskills.sh"
_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")


@dataclass(frozen=True)
class Setting:
    """A setting: its name (a :class:`Settings` field), kind, default and range. Its keys follow
    from the name: ``max_retries`` is ``localskills:maxRetries``, ``LOCALSKILLS_MAX_RETRIES``."""

    name: str
    kind: type[Any]
    default: Any
    low: float = 0
    high: float = 0
    unit: str = ""

    @property
    def config_key(self) -> str:
        head, *rest = self.name.split("_")
        return "localskills:" + head + "".join(word.title() for word in rest)

    @property
    def env_key(self) -> str:
        return "LOCALSKILLS_" + self.name.upper()

    def check(self, raw: Any, source: str) -> Any:
        """``raw`` (a number may be text) as this kind, else a ConfigError."""
        if self.kind is str:
            return str(raw).strip()
        allowed = "true or false"
        if self.kind is bool:
            word = str(raw).strip().lower()
            if word in _TRUE + _FALSE:
                return word in _TRUE
        else:
            value = raw
            if isinstance(raw, str):
                with contextlib.suppress(ValueError):
                    value = float(raw)
            if (
                isinstance(value, (int, float))
                and not isinstance(value, bool)
                and self.low <= value <= self.high  # False for NaN too
                and (self.kind is float or value == int(value))
            ):
                return self.kind(value)
            kind = "a whole number" if self.kind is int else "a number"
            allowed = f"{kind} from {self.low:g} to {self.high:g}{self.unit}"
        raise ConfigError(f"{source} must be {allowed}, got {raw!r}.")


SETTINGS = {
    setting.name: setting
    for setting in (
        Setting("api_token", str, None),
        Setting("base_url", str, DEFAULT_BASE_URL),
        Setting("request_timeout", float, 30.0, 0.1, 600.0, " seconds"),
        Setting("max_retries", int, 3, 0, 10),
        Setting("listing_cache_seconds", float, 300.0, 0.0, 3600.0, " seconds"),
        Setting("check_liveness", bool, True),
    )
}

CONFIG_KEYS = tuple(setting.config_key for setting in SETTINGS.values())
ENV_KEYS = tuple(setting.env_key for setting in SETTINGS.values())
CONFIG_API_TOKEN = SETTINGS["api_token"].config_key
CONFIG_BASE_URL = SETTINGS["base_url"].config_key
CONFIG_REQUEST_TIMEOUT = SETTINGS["request_timeout"].config_key
CONFIG_MAX_RETRIES = SETTINGS["max_retries"].config_key
ENV_API_TOKEN = SETTINGS["api_token"].env_key
ENV_BASE_URL = SETTINGS["base_url"].env_key


@dataclass(frozen=True)
class Credentials:
    """An API token (never shown by ``repr``; refused with a CredentialsError unless the package
    would send it), the API's base URL (no trailing ``/``), and where each came from."""

    api_token: str = field(repr=False)
    base_url: str
    token_source: str
    base_url_source: str = ""

    def __post_init__(self) -> None:
        problem = api_token_problem(self.api_token)
        if problem:
            raise CredentialsError(f"The localskills API token from {self.token_source} {problem}.")

    @property
    def refused_message(self) -> str:
        """What to tell the user when the API refuses the token (401)."""
        message = f"The API token was refused: check the token from {self.token_source}."
        if self.token_source.startswith("stack config"):
            message += (
                " `pulumi refresh` and `pulumi destroy` use the stack config of the last "
                f"`pulumi up`: if {CONFIG_API_TOKEN} was changed since, run `pulumi up` first."
            )
        return message


@dataclass(frozen=True)
class Settings:
    """Every setting, checked: the credentials, the seconds a request may take (answer
    included), the retries after the first attempt, the seconds reads of a tenant share one
    listing (0: never), and whether a plan replaces a token revoked outside Pulumi."""

    credentials: Credentials
    request_timeout: float = SETTINGS["request_timeout"].default
    max_retries: int = int(SETTINGS["max_retries"].default)
    listing_cache_seconds: float = SETTINGS["listing_cache_seconds"].default
    check_liveness: bool = SETTINGS["check_liveness"].default


def _resolve(
    name: str,
    explicit: Any,
    config: Mapping[str, Any] | None,
    environ: Mapping[str, str] | None,
    argument: str = "",
) -> tuple[Any, str]:
    setting = SETTINGS[name]
    env = os.environ if environ is None else environ
    for raw, source in (
        (explicit, argument or f"the {name} argument"),
        ((config or {}).get(setting.config_key), f"stack config {setting.config_key}"),
        (env.get(setting.env_key), f"environment variable {setting.env_key}"),
    ):
        if raw is not None and str(raw).strip():
            return setting.check(raw, source), source
    return setting.default, "the default"


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
    """Resolve and check every setting; an explicit argument wins over the rest.

    :param config: The stack configuration, keys namespaced (``localskills:apiToken``).
    :param environ: The environment; ``os.environ`` when omitted.
    :param context: ``"cli"`` for the command line: messages speak of the environment only.
    :raises CredentialsError: no API token, or a malformed token or base URL.
    :raises ConfigError: a setting not of its kind, or out of its range (named with its source).
    """
    explicit = {
        "request_timeout": request_timeout,
        "max_retries": max_retries,
        "listing_cache_seconds": listing_cache_seconds,
        "check_liveness": check_liveness,
    }
    return Settings(
        resolve_credentials(api_token, base_url, config=config, environ=environ, context=context),
        **{name: _resolve(name, value, config, environ)[0] for name, value in explicit.items()},
    )


def resolve_credentials(
    api_token: str | None = None,
    base_url: str | None = None,
    *,
    config: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    context: str = "program",
) -> Credentials:
    """Resolve the API token and base URL, as :func:`resolve_settings` does."""
    token, source = _resolve("api_token", api_token, config, environ)
    if token is None:
        way = f"{CONFIG_API_TOKEN} (`pulumi config set --secret {CONFIG_API_TOKEN} lsk_...`) or "
        raise CredentialsError(
            f"No localskills API token is configured: set {'' if context == 'cli' else way}the "
            f"{ENV_API_TOKEN} environment variable to an lsk_... API token of a member of the "
            "tenant."
        )
    argument = "the --base-url option" if context == "cli" else ""
    url, url_source = _resolve("base_url", base_url, config, environ, argument)
    problem = base_url_problem(url)
    if problem:
        raise CredentialsError(
            f"The localskills base URL from {url_source} {problem}: it must look like "
            f"'https://host' or 'http://127.0.0.1:8080', got {url!r}."
        )
    return Credentials(token, url.rstrip("/"), source, base_url_source=url_source)


def check_liveness_setting(config: Mapping[str, Any] | None = None) -> bool:
    """Just the liveness switch, which a plan needs without credentials (see
    :func:`resolve_settings`)."""
    return bool(_resolve("check_liveness", None, config, None)[0])


def _closest(name: str, known: tuple[str, ...]) -> str:
    """`` (did you mean X?)`` for the known name closest to ``name``, case ignored, or ``""``."""
    by_lower = {k.lower(): k for k in known}
    match = difflib.get_close_matches(name.lower(), list(by_lower), n=1, cutoff=0.6)
    return f" (did you mean {by_lower[match[0]]}?)" if match else ""


def unknown_config_keys(config: Mapping[str, Any]) -> str | None:
    """What is wrong with the ``localskills:`` keys the package does not read, or None: a
    misspelt ``localskills:baseURL`` would send the API token to the default base URL."""
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
