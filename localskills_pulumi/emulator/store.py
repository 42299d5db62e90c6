"""The emulator's state: tenants, API tokens, SCIM tokens and SCIM users, in SQLite.

This module knows nothing about HTTP. Every public method takes one lock, so the store is
safe to share between the server's threads and no write is lost. Secrets (API tokens and
SCIM token secrets) are never stored: only their SHA-256 hex digests are.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ..errors import LocalskillsError
from ..identifiers import MAX_DAYS

SCHEMA_VERSION = 1
EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
"""The earliest time the emulator's clock may show."""
LATEST = dt.datetime(9999, 1, 1, tzinfo=dt.timezone.utc) - dt.timedelta(days=MAX_DAYS)
"""The latest time the emulator's clock may show: a token of the longest lifetime issued then
still expires in 9998."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tenants (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS api_tokens (
    token_sha256 TEXT PRIMARY KEY
);
CREATE TABLE IF NOT EXISTS memberships (
    token_sha256 TEXT NOT NULL REFERENCES api_tokens (token_sha256),
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    PRIMARY KEY (token_sha256, tenant_id)
);
CREATE TABLE IF NOT EXISTS scim_tokens (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    name TEXT NOT NULL,
    secret_sha256 TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    expires_at TEXT,
    last_used_at TEXT
);
CREATE TABLE IF NOT EXISTS scim_users (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    user_name TEXT NOT NULL COLLATE NOCASE,
    attributes TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_modified TEXT NOT NULL,
    UNIQUE (tenant_id, user_name)
);
"""


class StoreError(LocalskillsError):
    """The database cannot be opened or has an unexpected layout."""


class Conflict(LocalskillsError):
    """A write would break a uniqueness rule (an existing tenant, a taken userName)."""


def sha256_hex(value: str) -> str:
    """The SHA-256 hex digest of a string's UTF-8 bytes: how every secret is kept."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def format_time(moment: dt.datetime) -> str:
    """ISO 8601 UTC with second precision and a ``Z``: ``2024-01-01T00:00:00Z``."""
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> dt.datetime:
    """The inverse of :func:`format_time`."""
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)


class ClockRangeError(LocalskillsError, ValueError):
    """A clock move that would leave :data:`EARLIEST` to :data:`LATEST`; the clock is unchanged."""


class Clock:
    """Wall-clock time plus an offset (``POST /_emulator/clock``). It may move back too, so
    that tokens can be created as if long ago (an import of a token due for rotation).

    It stays from :data:`EARLIEST` to :data:`LATEST`, so that every date the emulator
    computes from it (a token's expiry included) is a valid four-digit-year timestamp.
    """

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> dt.datetime:
        """The emulator's current time, UTC."""
        with self._lock:
            offset = self._offset
        return dt.datetime.fromtimestamp(time.time() + offset, tz=dt.timezone.utc)

    def advance(self, seconds: float) -> dt.datetime:
        """Move the clock by ``seconds`` (negative: back); returns the new time.

        :raises ClockRangeError: the new time would be before :data:`EARLIEST` or after
                :data:`LATEST` (the clock does not move).
        """
        with self._lock:
            moved = time.time() + self._offset + seconds
            if not EARLIEST.timestamp() <= moved <= LATEST.timestamp():
                raise ClockRangeError(
                    f"the clock must stay from {format_time(EARLIEST)} to {format_time(LATEST)}"
                )
            self._offset += seconds
        return self.now()


@dataclass(frozen=True)
class ScimAuth:
    """The outcome of checking a SCIM bearer secret."""

    ok: bool
    tenant_id: str = ""
    token_id: str = ""
    reason: str = ""


class Store:
    """All emulator state behind one lock; ``path=None`` keeps it in memory."""

    def __init__(self, path: str | os.PathLike[str] | None = None, clock: Clock | None = None):
        self.clock = clock or Clock()
        self._lock = threading.Lock()
        self._closed = False
        target = os.fspath(path) if path is not None else ":memory:"
        try:
            self._conn = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
            self._conn.row_factory = sqlite3.Row
            self._conn.execute("PRAGMA foreign_keys = ON")
            if path is not None:
                self._conn.execute("PRAGMA journal_mode = WAL")
                self._conn.execute("PRAGMA busy_timeout = 5000")
            version = int(self._conn.execute("PRAGMA user_version").fetchone()[0])
            if version not in (0, SCHEMA_VERSION):
                raise StoreError(
                    f"unsupported schema version {version} (expected {SCHEMA_VERSION})"
                )
            self._conn.executescript(_SCHEMA)
            self._conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except sqlite3.Error as exc:
            raise StoreError(str(exc)) from exc

    # -- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        """Close the database; later calls raise :class:`StoreError`. Idempotent."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._conn.close()

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """Under the lock: ``BEGIN IMMEDIATE``, then ``COMMIT``, or ``ROLLBACK`` on any error."""
        with self._lock:
            self._check_open()
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError("the store is closed")

    def _now(self) -> str:
        return format_time(self.clock.now())

    # -- tenants and API tokens ------------------------------------------------------------

    def upsert_tenant(self, tenant_id: str, name: str) -> None:
        """Create a tenant or rename an existing one (seed loading)."""
        with self._lock:
            self._check_open()
            self._conn.execute(
                "INSERT INTO tenants (id, name) VALUES (?, ?) "
                "ON CONFLICT (id) DO UPDATE SET name = excluded.name",
                (tenant_id, name),
            )

    def create_tenant(self, tenant_id: str, name: str, api_tokens: Iterable[str]) -> None:
        """Create a new tenant and grant API tokens membership; :class:`Conflict` if it exists."""
        with self._transaction():
            exists = self._conn.execute(
                "SELECT 1 FROM tenants WHERE id = ?", (tenant_id,)
            ).fetchone()
            if exists:
                raise Conflict(f"Tenant {tenant_id} already exists")
            self._conn.execute("INSERT INTO tenants (id, name) VALUES (?, ?)", (tenant_id, name))
            for token in api_tokens:
                self._grant(token, tenant_id)

    def grant_api_token(self, token: str, tenant_ids: Iterable[str]) -> None:
        """Register an API token (hash only) and make it a member of the tenants (upsert)."""
        with self._transaction():
            self._conn.execute(
                "INSERT OR IGNORE INTO api_tokens (token_sha256) VALUES (?)", (sha256_hex(token),)
            )
            for tenant_id in tenant_ids:
                self._grant(token, tenant_id)

    def _grant(self, token: str, tenant_id: str) -> None:
        digest = sha256_hex(token)
        self._conn.execute("INSERT OR IGNORE INTO api_tokens (token_sha256) VALUES (?)", (digest,))
        self._conn.execute(
            "INSERT OR IGNORE INTO memberships (token_sha256, tenant_id) VALUES (?, ?)",
            (digest, tenant_id),
        )

    def api_token_known(self, token: str) -> bool:
        """Whether this API token was ever registered."""
        with self._lock:
            self._check_open()
            row = self._conn.execute(
                "SELECT 1 FROM api_tokens WHERE token_sha256 = ?", (sha256_hex(token),)
            ).fetchone()
        return row is not None

    def tenant_exists(self, tenant_id: str) -> bool:
        """Whether the tenant exists."""
        with self._lock:
            self._check_open()
            row = self._conn.execute("SELECT 1 FROM tenants WHERE id = ?", (tenant_id,)).fetchone()
        return row is not None

    def is_member(self, token: str, tenant_id: str) -> bool:
        """Whether the API token may act on the tenant."""
        with self._lock:
            self._check_open()
            row = self._conn.execute(
                "SELECT 1 FROM memberships WHERE token_sha256 = ? AND tenant_id = ?",
                (sha256_hex(token), tenant_id),
            ).fetchone()
        return row is not None

    # -- SCIM tokens -----------------------------------------------------------------------

    def list_scim_tokens(self, tenant_id: str) -> list[dict[str, Any]]:
        """The tenant's SCIM tokens in creation order, without secrets."""
        with self._lock:
            self._check_open()
            rows = self._conn.execute(
                "SELECT id, name, created_at, last_used_at, expires_at FROM scim_tokens "
                "WHERE tenant_id = ? ORDER BY seq",
                (tenant_id,),
            ).fetchall()
        return [
            {
                "id": row["id"],
                "name": row["name"],
                "createdAt": row["created_at"],
                "lastUsedAt": row["last_used_at"],
                "expiresAt": row["expires_at"],
            }
            for row in rows
        ]

    def create_scim_token(
        self, tenant_id: str, name: str, expires_in_days: int | None
    ) -> dict[str, Any]:
        """Issue a SCIM token; the returned dict holds the raw secret, which is not kept."""
        token_id = secrets.token_hex(16)
        secret = "lsk_scim_" + secrets.token_hex(32)
        created = self.clock.now().replace(microsecond=0)
        expires = (
            format_time(created + dt.timedelta(days=expires_in_days))
            if expires_in_days is not None
            else None
        )
        with self._lock:
            self._check_open()
            self._conn.execute(
                "INSERT INTO scim_tokens (id, tenant_id, name, secret_sha256, created_at, "
                "expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                (token_id, tenant_id, name, sha256_hex(secret), format_time(created), expires),
            )
        return {
            "id": token_id,
            "name": name,
            "token": secret,
            "createdAt": format_time(created),
            "expiresAt": expires,
        }

    def delete_scim_token(self, tenant_id: str, token_id: str) -> bool:
        """Revoke (delete) a token of this tenant; False when there is none."""
        return self._delete("scim_tokens", tenant_id, token_id)

    def _delete(self, table: str, tenant_id: str, row_id: str) -> bool:
        """Delete a row of the tenant from ``table`` (a constant of this module) by id."""
        with self._lock:
            self._check_open()
            cursor = self._conn.execute(
                f"DELETE FROM {table} WHERE tenant_id = ? AND id = ?", (tenant_id, row_id)
            )
        return cursor.rowcount > 0

    def authenticate_scim(self, secret: str) -> ScimAuth:
        """Check a SCIM bearer secret by its hash; on success record ``lastUsedAt``."""
        now = self.clock.now()
        with self._lock:
            self._check_open()
            row = self._conn.execute(
                "SELECT id, tenant_id, expires_at FROM scim_tokens WHERE secret_sha256 = ?",
                (sha256_hex(secret),),
            ).fetchone()
            if row is None:
                return ScimAuth(ok=False, reason="Invalid or revoked SCIM token")
            if row["expires_at"] is not None and now >= parse_time(row["expires_at"]):
                return ScimAuth(ok=False, reason="SCIM token expired")
            self._conn.execute(
                "UPDATE scim_tokens SET last_used_at = ? WHERE id = ?",
                (format_time(now), row["id"]),
            )
        return ScimAuth(ok=True, tenant_id=row["tenant_id"], token_id=row["id"])

    # -- SCIM users ------------------------------------------------------------------------

    @staticmethod
    def _user(row: sqlite3.Row) -> dict[str, Any]:
        attributes: dict[str, Any] = json.loads(row["attributes"])
        return {
            "id": row["id"],
            "attributes": attributes,
            "created": row["created_at"],
            "lastModified": row["last_modified"],
        }

    def create_user(
        self, tenant_id: str, user_name: str, attributes: dict[str, Any]
    ) -> dict[str, Any]:
        """Store a SCIM user; :class:`Conflict` when the userName is taken in the tenant."""
        user_id = secrets.token_hex(16)
        now = self._now()
        with self._lock:
            self._check_open()
            try:
                self._conn.execute(
                    "INSERT INTO scim_users (id, tenant_id, user_name, attributes, created_at, "
                    "last_modified) VALUES (?, ?, ?, ?, ?, ?)",
                    (user_id, tenant_id, user_name, json.dumps(attributes), now, now),
                )
            except sqlite3.IntegrityError as exc:
                raise Conflict(f"userName {user_name!r} is already taken") from exc
        return {"id": user_id, "attributes": attributes, "created": now, "lastModified": now}

    def list_users(
        self, tenant_id: str, user_name: str | None, start_index: int, count: int
    ) -> tuple[int, list[dict[str, Any]]]:
        """(total matching, one page) of the tenant's users; ``start_index`` is 1-based."""
        where = "tenant_id = ?"
        params: list[Any] = [tenant_id]
        if user_name is not None:
            where += " AND user_name = ?"
            params.append(user_name)
        with self._lock:
            self._check_open()
            total = int(
                self._conn.execute(
                    f"SELECT COUNT(*) FROM scim_users WHERE {where}", params
                ).fetchone()[0]
            )
            rows = self._conn.execute(
                f"SELECT * FROM scim_users WHERE {where} ORDER BY seq LIMIT ? OFFSET ?",
                [*params, count, start_index - 1],
            ).fetchall()
        return total, [self._user(row) for row in rows]

    def get_user(self, tenant_id: str, user_id: str) -> dict[str, Any] | None:
        """One user of the tenant, or None (users of other tenants are invisible)."""
        with self._lock:
            self._check_open()
            row = self._conn.execute(
                "SELECT * FROM scim_users WHERE tenant_id = ? AND id = ?", (tenant_id, user_id)
            ).fetchone()
        return self._user(row) if row is not None else None

    def delete_user(self, tenant_id: str, user_id: str) -> bool:
        """Delete a user of the tenant; False when there is none."""
        return self._delete("scim_users", tenant_id, user_id)
