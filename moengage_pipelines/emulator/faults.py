"""Fault injection: 5xx answers, latency, timeouts, connections lost after applying, 429 bursts.

Rules are set at start-up (settings, CLI ``--faults``) and changed at run time (Python
``emulator.faults`` or ``/_emulator/faults``). Draws come from one seeded generator per rule,
so a given sequence of requests meets the same faults on every run.

Kinds:

* ``error``: answer ``status`` (500 by default) in the endpoint's envelope; nothing applied.
* ``latency``: wait ``seconds`` before answering (adds up over rules).
* ``timeout``: never answer; nothing applied. The in-process transport raises
  ``httpx.ReadTimeout`` at once; the real server holds the request ``seconds`` (default
  60) and then drops the connection.
* ``reset``: apply the request, then lose the answer: the in-process transport raises
  ``httpx.ReadError``; the real server resets the connection. Only successful requests
  are reset.
* ``rate_limit``: answer the endpoint's 429 without spending budget, ``burst`` requests
  in a row once triggered.
* ``garbled``: answer 200 with an HTML page instead of MoEngage's JSON, as a proxy or a
  captive portal does; nothing applied, or, with ``apply=1``, applied first.
* ``echo_auth``: answer ``status`` (500 by default) in the endpoint's envelope, quoting the
  request's ``Authorization`` header and the credentials in it; nothing applied.

Compact text form (CLI): ``ENDPOINT:KIND[:key=value,...]`` joined by ``;``, e.g.
``transition:error:rate=0.1,status=503;*:latency:seconds=0.05;customer:reset:count=1``.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

import orjson

from moengage_pipelines.errors import ConfigError

__all__ = ["FaultDecision", "FaultInjector", "FaultKind", "FaultRule", "parse_faults"]

FaultKind = Literal["error", "latency", "timeout", "reset", "rate_limit", "garbled", "echo_auth"]
_KINDS = ("error", "latency", "timeout", "reset", "rate_limit", "garbled", "echo_auth")


@dataclass(frozen=True)
class FaultRule:
    """One fault rule.

    Attributes:
        endpoint: Endpoint name (``transition``, ``customer``, ``campaign_stats``...) or
            ``*`` for all.
        kind: See the module docstring.
        rate: Share of matching requests hit, 0..1.
        after: Matching requests let through before the rule may fire.
        count: Most times the rule fires (None: unlimited).
        status: HTTP status of ``error`` and ``echo_auth`` faults.
        seconds: Delay of ``latency``; hold time of ``timeout`` on the real server.
        burst: Consecutive requests answered 429 once a ``rate_limit`` fault fires.
        apply: ``garbled`` only: apply the request before answering the HTML page.
    """

    endpoint: str = "*"
    kind: FaultKind = "error"
    rate: float = 1.0
    after: int = 0
    count: int | None = None
    status: int = 500
    seconds: float = 0.0
    burst: int = 1
    apply: bool = False

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ConfigError(
                f"unknown fault kind {self.kind!r}; expected one of {', '.join(_KINDS)}"
            )
        if not 0.0 <= self.rate <= 1.0:
            raise ConfigError(f"fault rate must be within 0..1, got {self.rate!r}")
        if self.kind == "error" and not 500 <= self.status <= 599:
            raise ConfigError(f"error faults answer 5xx, got status {self.status!r}")
        if self.kind == "echo_auth" and not 400 <= self.status <= 599:
            raise ConfigError(f"echo_auth faults answer 4xx or 5xx, got status {self.status!r}")
        if self.after < 0 or (self.count is not None and self.count < 0) or self.burst < 1:
            raise ConfigError("fault after/count must be >= 0 and burst >= 1")

    def to_dict(self) -> dict[str, Any]:
        """Plain representation (inspection API)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FaultRule:
        """Build from a mapping, rejecting unknown keys.

        Raises:
            ConfigError: On unknown keys or bad values.
        """
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ConfigError(f"unknown fault setting(s): {', '.join(sorted(unknown))}")
        try:
            return cls(**data)
        except TypeError as exc:
            raise ConfigError(f"bad fault rule {dict(data)!r}: {exc}") from None


@dataclass(slots=True)
class FaultDecision:
    """Faults chosen for one request before it is handled."""

    error_status: int | None = None
    timeout: float | None = None
    rate_limited: bool = False
    delay: float = 0.0
    garbled: bool = False
    echo_auth_status: int | None = None

    @property
    def replaces_answer(self) -> bool:
        """Whether a fault already replaces the answer (one per request)."""
        return (
            self.error_status is not None
            or self.timeout is not None
            or self.rate_limited
            or self.garbled
            or self.echo_auth_status is not None
        )


@dataclass
class _RuleState:
    rule: FaultRule
    rng: random.Random
    seen: int = 0
    fired: int = 0
    burst_left: int = 0
    hits: dict[str, int] = field(default_factory=dict)


class FaultInjector:
    """Decides, deterministically for a seed, which requests meet which faults.

    Args:
        rules: Initial rules.
        seed: Seed of the draws.
    """

    def __init__(self, rules: Iterable[FaultRule] = (), seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._seed = seed
        self._states: list[_RuleState] = []
        self.set(rules)

    def _state(self, index: int, rule: FaultRule) -> _RuleState:
        return _RuleState(rule, random.Random(f"{self._seed}:{index}:{rule.endpoint}:{rule.kind}"))

    def set(self, rules: Iterable[FaultRule]) -> None:
        """Replace every rule (counters restart)."""
        with self._lock:
            self._states = [self._state(i, rule) for i, rule in enumerate(rules)]

    def add(self, rule: FaultRule) -> None:
        """Add one rule."""
        with self._lock:
            self._states.append(self._state(len(self._states), rule))

    def clear(self) -> None:
        """Remove every rule."""
        self.set(())

    def rules(self) -> list[FaultRule]:
        """The active rules."""
        with self._lock:
            return [state.rule for state in self._states]

    def describe(self) -> list[dict[str, Any]]:
        """Rules with how often each matched and fired."""
        with self._lock:
            return [
                {**state.rule.to_dict(), "matched": state.seen, "fired": state.fired}
                for state in self._states
            ]

    def _fires(self, state: _RuleState) -> bool:
        index = state.seen
        state.seen += 1
        draw = state.rng.random()
        if state.burst_left > 0:
            state.burst_left -= 1
            return True
        if index < state.rule.after:
            return False
        if state.rule.count is not None and state.fired >= state.rule.count:
            return False
        if draw >= state.rule.rate:
            return False
        state.fired += 1
        if state.rule.kind == "rate_limit":
            state.burst_left = state.rule.burst - 1
        return True

    def before(self, endpoint: str) -> FaultDecision:
        """Faults that act before a request is handled (error, timeout, 429, latency)."""
        decision = FaultDecision()
        if not self._states:
            return decision
        with self._lock:
            for state in self._states:
                rule = state.rule
                if _after_apply(rule) or rule.endpoint not in ("*", endpoint):
                    continue
                if not self._fires(state):
                    continue
                if rule.kind == "latency":
                    decision.delay += rule.seconds
                elif decision.replaces_answer:
                    continue  # one answer-replacing fault per request; the first rule wins
                elif rule.kind == "error":
                    decision.error_status = rule.status
                elif rule.kind == "timeout":
                    decision.timeout = rule.seconds or 60.0
                elif rule.kind == "garbled":
                    decision.garbled = True
                elif rule.kind == "echo_auth":
                    decision.echo_auth_status = rule.status
                else:
                    decision.rate_limited = True
        return decision

    def reset_after_apply(self, endpoint: str) -> bool:
        """Whether a successfully applied request loses its answer."""
        return self._fires_after_apply(endpoint, "reset")

    def garbled_after_apply(self, endpoint: str) -> bool:
        """Whether a successfully applied request is answered with an HTML page instead."""
        return self._fires_after_apply(endpoint, "garbled")

    def _fires_after_apply(self, endpoint: str, kind: FaultKind) -> bool:
        if not self._states:
            return False
        with self._lock:
            fired = False
            for state in self._states:
                rule = state.rule
                if rule.kind == kind and _after_apply(rule) and rule.endpoint in ("*", endpoint):
                    fired = self._fires(state) or fired
            return fired


def _after_apply(rule: FaultRule) -> bool:
    """Rules that act on the answer of a request already applied."""
    return rule.kind == "reset" or (rule.kind == "garbled" and bool(rule.apply))


def parse_faults(spec: str) -> list[FaultRule]:
    """Parse fault rules from JSON (a list of objects) or the compact text form.

    Raises:
        ConfigError: Naming the part that does not parse.
    """
    text = spec.strip()
    if not text:
        return []
    if text.startswith("["):
        try:
            items = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise ConfigError(f"fault rules are not valid JSON: {exc}") from None
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            raise ConfigError("fault rules in JSON must be a list of objects")
        return [FaultRule.from_dict(item) for item in items]
    rules = []
    for part in filter(None, (p.strip() for p in text.split(";"))):
        pieces = part.split(":", 2)
        if len(pieces) < 2:
            raise ConfigError(f"fault {part!r} must look like ENDPOINT:KIND[:key=value,...]")
        values: dict[str, Any] = {"endpoint": pieces[0].strip() or "*", "kind": pieces[1].strip()}
        for assignment in filter(
            None, (a.strip() for a in (pieces[2] if len(pieces) == 3 else "").split(","))
        ):
            key, sep, raw = assignment.partition("=")
            if not sep:
                raise ConfigError(f"fault setting {assignment!r} in {part!r} must be key=value")
            values[key.strip()] = _number(raw.strip(), part)
        rules.append(FaultRule.from_dict(values))
    return rules


def _number(raw: str, part: str) -> int | float | None:
    if raw.lower() == "none":
        return None
    try:
        return int(raw)
    except ValueError:
        pass
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"fault setting value {raw!r} in {part!r} is not a number") from None
