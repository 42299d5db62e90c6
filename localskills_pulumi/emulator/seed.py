"""Seed files: the tenants and API tokens an emulator starts with (YAML, validated strictly)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from ..errors import LocalskillsError
from ..identifiers import api_token_problem, id_problem
from .store import Store

DEMO_SEED_NAME = "demo_seed.yaml"


class SeedError(LocalskillsError):
    """A seed file that cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class Tenant:
    """A tenant of the seed."""

    id: str
    name: str


@dataclass(frozen=True)
class ApiToken:
    """An API token of the seed and the tenants it may act on."""

    token: str
    tenants: tuple[str, ...]


@dataclass(frozen=True)
class Seed:
    """A validated seed."""

    source: str
    tenants: tuple[Tenant, ...] = field(default_factory=tuple)
    api_tokens: tuple[ApiToken, ...] = field(default_factory=tuple)


def _type_name(value: object) -> str:
    names = {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    return names.get(type(value), type(value).__name__)


def _mapping(value: object, where: str, required: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SeedError(f"{where}: must be a mapping, not {_type_name(value)}")
    missing = sorted(required - value.keys())
    if missing:
        raise SeedError(f"{where}: missing key {missing[0]!r}")
    unknown = sorted(str(key) for key in value.keys() - required)
    if unknown:
        raise SeedError(f"{where}: unknown key {unknown[0]!r}")
    return value


def _list(value: object, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise SeedError(f"{where}: must be a list, not {_type_name(value)}")
    return value


def _entries(value: object, where: str, keys: set[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(where, mapping)`` for each item of a list of mappings with exactly ``keys``."""
    for index, item in enumerate(_list(value, where)):
        at = f"{where}[{index}]"
        yield at, _mapping(item, at, keys)


def _check(problem: str | None, where: str) -> None:
    if problem:
        raise SeedError(f"{where}: {problem}")


def parse_seed(data: object, source: str) -> Seed:
    """Validate a loaded YAML document; raises :class:`SeedError` (without the file name)."""
    top = _mapping(data, "top level", {"tenants", "api_tokens"})
    tenants: list[Tenant] = []
    seen: set[str] = set()
    for where, entry in _entries(top["tenants"], "tenants", {"id", "name"}):
        _check(id_problem(entry["id"]), f"{where}.id")
        name = entry["name"]
        if not isinstance(name, str) or not name.strip():
            raise SeedError(f"{where}.name: must be a non-blank string")
        if entry["id"] in seen:
            raise SeedError(f"{where}.id: duplicate tenant id {entry['id']!r}")
        seen.add(entry["id"])
        tenants.append(Tenant(entry["id"], name))
    tokens: list[ApiToken] = []
    for where, entry in _entries(top["api_tokens"], "api_tokens", {"token", "tenants"}):
        _check(api_token_problem(entry["token"], exact=True), f"{where}.token")
        members = _list(entry["tenants"], f"{where}.tenants")
        for position, tenant_id in enumerate(members):
            if not isinstance(tenant_id, str):
                raise SeedError(
                    f"{where}.tenants[{position}]: must be a string, not {_type_name(tenant_id)}"
                )
            if tenant_id not in seen:
                raise SeedError(f"{where}.tenants[{position}]: unknown tenant {tenant_id!r}")
        tokens.append(ApiToken(entry["token"], tuple(members)))
    return Seed(source=source, tenants=tuple(tenants), api_tokens=tuple(tokens))


def load_seed(path: str | os.PathLike[str]) -> Seed:
    """Read and validate a seed file; every problem is a :class:`SeedError` naming the file."""
    name = os.fspath(path)
    try:
        text = Path(name).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SeedError(f"seed file {name}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SeedError(f"seed file {name}: cannot read it ({exc})") from None
    return _parse_text(text, name)


def load_demo_seed() -> Seed:
    """The packaged demo seed (tenant ``engineering``, the documented demo API token)."""
    text = resources.files(__package__).joinpath(DEMO_SEED_NAME).read_text(encoding="utf-8")
    return _parse_text(text, f"<demo seed {DEMO_SEED_NAME}>")


def _parse_text(text: str, name: str) -> Seed:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise SeedError(f"seed file {name}: invalid YAML{where}: {problem}") from None
    try:
        return parse_seed(data, name)
    except SeedError as exc:
        raise SeedError(f"seed file {name}: {exc}") from None


def apply_seed(store: Store, seed: Seed) -> None:
    """Upsert the seed's tenants, API tokens and memberships (loading twice is harmless)."""
    for tenant in seed.tenants:
        store.upsert_tenant(tenant.id, tenant.name)
    for token in seed.api_tokens:
        store.grant_api_token(token.token, token.tenants)
