"""Fault rules: what each action means, how a rule is validated, and the book of active rules.

An action is defined once, in :data:`ACTIONS`: which fields it takes and what it does to a
request. The server asks :class:`FaultBook` which rule (if any) fires for a request and lets
the rule :meth:`~FaultRule.apply` itself to the work. Nothing here touches sockets or SQL.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import LocalskillsError
from .messages import ErrorFactory, Response, is_int, is_number

MAX_DELAY_MS = 600_000
_FIELDS = ("method", "path_prefix", "times", "action", "status", "retry_after", "delay_ms")

Work = Callable[[], Response]
"""Serves the request for real: the route's answer (the work is done when it is called)."""
Reply = Response | None
"""The answer to write, or None: abort the connection with a TCP reset, answering nothing."""


class RuleError(LocalskillsError, ValueError):
    """A fault rule that cannot be used; the message names the field."""


@dataclass(frozen=True)
class Action:
    """One fault action: the fields it takes, and what it does with the request's work."""

    perform: Callable[[FaultRule, Work, ErrorFactory], Reply]
    takes_status: bool = False
    """Requires ``status`` (200 to 599) and allows ``retry_after``."""
    takes_delay: bool = False
    """Requires ``delay_ms``."""


def _status(rule: FaultRule, work: Work, error: ErrorFactory) -> Reply:
    return rule.injected_error(error)  # the work is not done


def _commit_then_status(rule: FaultRule, work: Work, error: ErrorFactory) -> Reply:
    work()  # done, and its answer is lost: the ambiguous failure
    return rule.injected_error(error)


def _reset(rule: FaultRule, work: Work, error: ErrorFactory) -> Reply:
    return None  # the work is not done


def _commit_then_reset(rule: FaultRule, work: Work, error: ErrorFactory) -> Reply:
    work()
    return None


def _delay(rule: FaultRule, work: Work, error: ErrorFactory) -> Reply:
    time.sleep((rule.delay_ms or 0) / 1000)  # the work happens after the delay, answered late
    return work()


ACTIONS: dict[str, Action] = {
    "status": Action(_status, takes_status=True),
    "commit_then_status": Action(_commit_then_status, takes_status=True),
    "reset": Action(_reset),
    "commit_then_reset": Action(_commit_then_reset),
    "delay": Action(_delay, takes_delay=True),
}


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

    def apply(self, work: Work, error: ErrorFactory) -> Reply:
        """Serve a request this rule fired for; ``error`` renders the API's error envelope."""
        return ACTIONS[self.action].perform(self, work, error)

    def injected_error(self, error: ErrorFactory) -> Response:
        """The answer of a ``status`` action, in the envelope of the API that was called."""
        status = self.status or 500
        headers = [("Retry-After", str(self.retry_after))] if self.retry_after is not None else []
        return error(status, f"Injected fault: status {status}", headers)

    def to_json(self) -> dict[str, Any]:
        """The rule as ``GET /_emulator/faults`` shows it."""
        return {name: getattr(self, name) for name in _FIELDS}


def parse_rule(raw: object, index: int) -> FaultRule:
    """Validate one rule from ``POST /_emulator/faults``; :class:`RuleError` names the field."""
    where = f"rules[{index}]"
    if not isinstance(raw, dict):
        raise RuleError(f"{where}: each rule must be a JSON object")
    for key in raw:
        if key not in _FIELDS:
            raise RuleError(f"{where}.{key}: unknown field")
    name = raw.get("action")
    if not isinstance(name, str) or name not in ACTIONS:
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
    if not is_int(times) or times < 1:
        raise RuleError(f"{where}.times: must be an integer >= 1")
    status = raw.get("status")
    retry_after = raw.get("retry_after")
    delay_ms = raw.get("delay_ms")
    action = ACTIONS[name]
    if action.takes_status:
        if not is_int(status) or not 200 <= status <= 599:
            raise RuleError(f"{where}.status: must be an integer from 200 to 599 for {name}")
        if retry_after is not None and (not is_int(retry_after) or retry_after < 0):
            raise RuleError(f"{where}.retry_after: must be an integer >= 0 or null")
    else:
        for unused in ("status", "retry_after"):
            if raw.get(unused) is not None:
                raise RuleError(f"{where}.{unused}: not used by action {name}")
    if action.takes_delay:
        if not is_number(delay_ms) or not 0 <= delay_ms <= MAX_DELAY_MS:
            raise RuleError(f"{where}.delay_ms: must be a number from 0 to {MAX_DELAY_MS}")
    elif delay_ms is not None:
        raise RuleError(f"{where}.delay_ms: not used by action {name}")
    return FaultRule(
        action=name,
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
