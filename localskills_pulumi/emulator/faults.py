"""Fault rules and the request log: the in-memory state behind ``/_emulator/``.

Nothing here touches HTTP or SQL; the server asks :class:`FaultBook` which rule (if any)
fires for a request and reports each finished request to :class:`RequestLog`.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import Any, TypeGuard

ACTIONS = ("status", "commit_then_status", "reset", "commit_then_reset", "delay")
_STATUS_ACTIONS = ("status", "commit_then_status")
_FIELDS = ("method", "path_prefix", "times", "action", "status", "retry_after", "delay_ms")
MAX_DELAY_MS = 600_000
MAX_LOG_ENTRIES = 100_000


class RuleError(ValueError):
    """A fault rule that cannot be used; the message names the field."""


@dataclass
class FaultRule:
    """One fault rule; ``times`` is what is left of it."""

    action: str
    times: int = 1
    method: str | None = None
    path_prefix: str | None = None
    status: int | None = None
    retry_after: int | None = None
    delay_ms: float | None = None

    def matches(self, method: str, path: str) -> bool:
        """Whether this rule applies to the request (ignoring ``times``)."""
        if self.method is not None and self.method != method.upper():
            return False
        return self.path_prefix is None or path.startswith(self.path_prefix)

    def to_json(self) -> dict[str, Any]:
        """The rule as ``GET /_emulator/faults`` shows it."""
        return {
            "method": self.method,
            "path_prefix": self.path_prefix,
            "times": self.times,
            "action": self.action,
            "status": self.status,
            "retry_after": self.retry_after,
            "delay_ms": self.delay_ms,
        }


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> TypeGuard[int | float]:
    return _is_int(value) or isinstance(value, float)


def parse_rule(raw: object, index: int) -> FaultRule:
    """Validate one rule from ``POST /_emulator/faults``; :class:`RuleError` names the field."""
    where = f"rules[{index}]"
    if not isinstance(raw, dict):
        raise RuleError(f"{where}: each rule must be a JSON object")
    for key in raw:
        if key not in _FIELDS:
            raise RuleError(f"{where}.{key}: unknown field")
    action = raw.get("action")
    if action not in ACTIONS:
        raise RuleError(f"{where}.action: must be one of {', '.join(ACTIONS)}")
    method = raw.get("method")
    if method is not None and (not isinstance(method, str) or not method.strip()):
        raise RuleError(f"{where}.method: must be a non-empty string or null")
    path_prefix = raw.get("path_prefix")
    if path_prefix is not None and (
        not isinstance(path_prefix, str) or not path_prefix.startswith("/")
    ):
        raise RuleError(f"{where}.path_prefix: must be a string starting with '/' or null")
    times = raw.get("times", 1)
    if not _is_int(times) or times < 1:
        raise RuleError(f"{where}.times: must be an integer >= 1")
    status = raw.get("status")
    retry_after = raw.get("retry_after")
    delay_ms = raw.get("delay_ms")
    if action in _STATUS_ACTIONS:
        if not _is_int(status) or not 200 <= status <= 599:
            raise RuleError(f"{where}.status: must be an integer from 200 to 599 for {action}")
        if retry_after is not None and (not _is_int(retry_after) or retry_after < 0):
            raise RuleError(f"{where}.retry_after: must be an integer >= 0 or null")
    else:
        if status is not None:
            raise RuleError(f"{where}.status: not used by action {action}")
        if retry_after is not None:
            raise RuleError(f"{where}.retry_after: not used by action {action}")
    if action == "delay":
        if not _is_number(delay_ms) or not 0 <= delay_ms <= MAX_DELAY_MS:
            raise RuleError(f"{where}.delay_ms: must be a number from 0 to {MAX_DELAY_MS}")
    elif delay_ms is not None:
        raise RuleError(f"{where}.delay_ms: not used by action {action}")
    return FaultRule(
        action=action,
        times=times,
        method=method.upper() if isinstance(method, str) else None,
        path_prefix=path_prefix,
        status=status,
        retry_after=retry_after,
        delay_ms=float(delay_ms) if delay_ms is not None else None,
    )


def parse_rules(raw: object) -> list[FaultRule]:
    """Validate the body of ``POST /_emulator/faults`` (a JSON list), all or nothing."""
    if not isinstance(raw, list):
        raise RuleError("rules: the body must be a JSON list of rules")
    return [parse_rule(item, index) for index, item in enumerate(raw)]


class FaultBook:
    """The active fault rules, consumed in order."""

    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self._lock = threading.Lock()

    def add(self, rules: list[FaultRule]) -> None:
        """Append rules after the active ones."""
        with self._lock:
            self._rules.extend(rules)

    def clear(self) -> None:
        """Drop every rule."""
        with self._lock:
            self._rules.clear()

    def active(self) -> list[dict[str, Any]]:
        """The rules with times left, in order."""
        with self._lock:
            return [rule.to_json() for rule in self._rules]

    def take(self, method: str, path: str) -> FaultRule | None:
        """The first matching rule, with its count dropped by one (a copy), or None."""
        with self._lock:
            for index, rule in enumerate(self._rules):
                if rule.matches(method, path):
                    rule.times -= 1
                    if rule.times <= 0:
                        del self._rules[index]
                    return FaultRule(**{**rule.__dict__, "times": 1})
        return None


class RequestLog:
    """API and SCIM requests served, plus the TCP connections that carried them.

    A connection counts once, when it carries its first API or SCIM request, and only if
    it was accepted after the last clear: connections used only for ``/_emulator/``
    calls are not counted, so introspecting does not disturb the count.
    """

    def __init__(self) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=MAX_LOG_ENTRIES)
        self._connections = 0
        self._epoch = 0
        self._lock = threading.Lock()

    @property
    def epoch(self) -> int:
        """Bumped by every clear; a connection remembers the epoch it was accepted in."""
        with self._lock:
            return self._epoch

    def count_connection(self, accepted_epoch: int) -> None:
        """Count a connection carrying its first API request."""
        with self._lock:
            if accepted_epoch == self._epoch:
                self._connections += 1

    def record(self, method: str, path: str, status: int, duration_ms: float) -> None:
        """Log one finished request (status 0: the connection was reset)."""
        entry = {
            "method": method,
            "path": path,
            "status": status,
            "duration_ms": round(duration_ms, 3),
        }
        with self._lock:
            self._entries.append(entry)

    def snapshot(self) -> dict[str, Any]:
        """The body of ``GET /_emulator/requests``."""
        with self._lock:
            return {"requests": list(self._entries), "connections": self._connections}

    def clear(self) -> None:
        """Forget the log and the connection count."""
        with self._lock:
            self._entries.clear()
            self._connections = 0
            self._epoch += 1
