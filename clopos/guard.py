"""Protections every Clopos call passes through, shared by all workers via the cache.

* RateBudget: our share of the brand's 300 requests/min. Fixed windows of WINDOW seconds, each
  allowed `per_minute * WINDOW / (60 + WINDOW)` calls: any sliding minute overlaps at most
  60/WINDOW + 1 windows, so no sliding minute exceeds `per_minute` (Clopos counts a sliding
  minute). Retries are reserved up front and refunded when unused.
  A reserve of the window is kept for managers' refreshes, and best-effort calls (catalogue
  names, background refreshes) may use only what is left above twice the reserve.
* ActorBudget: upstream-causing requests per user, well under the brand's budget, so one user
  (or a script with their session) cannot starve everyone else.
* CircuitBreaker: after `threshold` consecutive failures (no answer, 5xx, unreadable body) no
  call is made for `open_seconds`; then one probe at a time is let through until one succeeds.
* Health: last success, recent failures by kind and Clopos' own RateLimit-Remaining, for the
  status panel and /readyz. Nothing here stores a secret.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache

from . import keys, singleflight
from .deadline import Priority
from .errors import FAILURE_KINDS, CloposRateLimitedError, CloposThrottledError, CloposUnavailableError, FailureKind

WINDOW = 10
FAILURE_BUCKET_SECONDS = 300
FAILURE_HISTORY_BUCKETS = 3  # the status panel shows the last 15 minutes


def _incr(key: str, delta: int, timeout: int) -> int:
    return _incr_many({key: (delta, timeout)})[key]


def _incr_many(items: Mapping[str, tuple[int, int]]) -> dict[str, int]:
    """Counters by `key: (delta, ttl)`, created with their ttl when missing. The project's cache
    backends do it in one round trip (clopos_admin/cache_backends.py); any other Django cache
    gets add() then incr() per key."""
    batched = getattr(cache, "incr_many", None)
    if batched is not None:
        return dict(batched(items))
    results = {}
    for key, (delta, ttl) in items.items():
        cache.add(key, 0, timeout=ttl)
        try:
            results[key] = cache.incr(key, delta)
        except ValueError:  # expired between add and incr
            cache.add(key, 0, timeout=ttl)
            results[key] = cache.incr(key, delta)
    return results


def _write_many(incr: Mapping[str, tuple[int, int]], values: Mapping[str, tuple[Any, int]]) -> None:
    """Counters and plain values together: one round trip on the project's backends."""
    batched = getattr(cache, "write_many", None)
    if batched is not None:
        batched(incr, values)
        return
    if incr:
        _incr_many(incr)
    for key, (value, ttl) in values.items():
        cache.set(key, value, timeout=ttl)


def _windowed(per_minute: int) -> int:
    """Calls per WINDOW so that no sliding minute exceeds `per_minute` (see the module docstring)."""
    return max(1, math.floor(per_minute * WINDOW / (60 + WINDOW)))


@dataclass(frozen=True, slots=True)
class RateBudget:
    scope: str
    per_minute: int
    reserve_percent: int = 0

    @property
    def per_window(self) -> int:
        return _windowed(self.per_minute)

    @property
    def reserve(self) -> int:
        return math.ceil(self.per_window * self.reserve_percent / 100)

    def limit(self, priority: Priority) -> int:
        """How much of the window calls of this priority may fill."""
        if priority is Priority.REFRESH:
            return self.per_window
        if priority is Priority.NORMAL:
            return max(1, self.per_window - self.reserve)
        return max(1, self.per_window - 2 * self.reserve)

    def _window(self) -> tuple[str, float]:
        index = int(time.time() // WINDOW)
        return keys.budget_key(self.scope, index), (index + 1) * WINDOW - time.time()

    def acquire(self, calls: int, priority: Priority = Priority.NORMAL) -> None:
        """Reserve `calls` calls in this window, or raise CloposRateLimitedError."""
        admit(self, None, None, calls, priority)

    def refund(self, calls: int) -> None:
        if calls > 0:
            key, _ = self._window()
            _incr(key, -calls, timeout=WINDOW * 3)

    def remaining(self) -> int:
        key, _ = self._window()
        return max(0, self.per_window - (cache.get(key) or 0))


@dataclass(frozen=True, slots=True)
class ActorBudget:
    """Upstream-causing requests one actor (a user) may make: `per_window` in any WINDOW seconds
    and `per_minute` in any minute; cached pages cost nothing."""

    scope: str
    per_window: int
    per_minute: int

    def counters(self, actor: str, now: float) -> list[tuple[str, int, int]]:
        """(key, limit, span) of the actor's window and minute counters."""
        return [
            (keys.actor_budget_key(self.scope, actor, f"w{int(now // WINDOW)}"), self.per_window, WINDOW),
            (keys.actor_budget_key(self.scope, actor, f"m{int(now // 60)}"), self.per_minute, 60),
        ]

    def charge(self, actor: str) -> None:
        """Count one request, or raise CloposThrottledError for this actor alone."""
        admit(None, self, actor, 0, Priority.NORMAL)


def admit(
    budget: RateBudget | None, actor_budget: ActorBudget | None, actor: str | None, calls: int, priority: Priority
) -> None:
    """Count one upstream-causing request for `actor` and reserve `calls` of the shared budget,
    in one round trip; on refusal undo every count and raise: CloposThrottledError when the actor
    is over their own budget (that user alone), CloposRateLimitedError when the window is spent."""
    Admission.of(budget, actor_budget, actor, calls, priority).count()


@dataclass(frozen=True, slots=True)
class Admission:
    """The counters one call's admission adds to (`key: (delta, ttl)`) and the limits they are
    judged by. Counted by `admit`, or ahead of the call in a round trip of the caller's own (a
    cold fill counts them as it takes its lock: clopos.singleflight)."""

    counters: dict[str, tuple[int, int]]
    checks: tuple[tuple[str, int, int, bool], ...]  # key, limit, span, is the actor's
    at: float
    actor: str | None = None

    @classmethod
    def of(
        cls,
        budget: RateBudget | None,
        actor_budget: ActorBudget | None,
        actor: str | None,
        calls: int,
        priority: Priority,
    ) -> Admission:
        now = time.time()
        checks: list[tuple[str, int, int, bool]] = []
        counters: dict[str, tuple[int, int]] = {}
        if actor_budget is not None and actor is not None:
            for key, limit, span in actor_budget.counters(actor, now):
                checks.append((key, limit, span, True))
                counters[key] = (1, span * 2)
        if budget is not None and calls:
            key = keys.budget_key(budget.scope, int(now // WINDOW))
            checks.append((key, budget.limit(priority), WINDOW, False))
            counters[key] = (calls, WINDOW * 3)
        return cls(counters, tuple(checks), now, actor)

    def count(self) -> None:
        """Count it now, in one round trip, and judge the counts (see `admit`)."""
        if self.counters:
            self.judge(_incr_many(self.counters))

    def judge(self, counts: Mapping[str, int]) -> None:
        """Go on when every count is within its limit; else undo them all and raise."""
        over = [check for check in self.checks if counts[check[0]] > check[1]]
        if not over:
            return
        self.give_back()
        _key, limit, span, own = next((check for check in over if check[3]), over[0])
        retry_after = max(1, math.ceil(span - self.at % span))
        if own:
            raise CloposThrottledError(
                f"{self.actor}: over {limit} upstream requests per {span} s", retry_after=retry_after
            )
        raise CloposRateLimitedError("Our Clopos rate budget is spent", retry_after=retry_after)

    def give_back(self) -> None:
        """Take the counts back: with a single-flight leader's release when one runs here."""
        undo = {key: (-delta, ttl) for key, (delta, ttl) in self.counters.items()}
        if not singleflight.hold_writes(undo, {}):
            _incr_many(undo)


@dataclass(frozen=True, slots=True)
class CircuitBreaker:
    scope: str
    threshold: int
    open_seconds: int
    probe_seconds: float

    def state(self) -> str:
        open_until = cache.get(keys.circuit_key(self.scope, "open-until"))
        if not open_until:
            return "closed"
        return "open" if time.time() < open_until else "half-open"

    def state_keys(self) -> list[str]:
        """What a caller reads, with its other keys, before a call (see `before_call`/`record`)."""
        return [keys.circuit_key(self.scope, "open-until"), keys.circuit_key(self.scope, "failures")]

    def before_call(self, seen: Mapping[str, Any] | None = None) -> bool:
        """Raise while open; in half-open let one probe through. Returns True for a probe.
        `seen`: the state keys read ahead by the caller, in one round trip with its own."""
        key = keys.circuit_key(self.scope, "open-until")
        open_until = seen.get(key) if seen is not None else cache.get(key)
        if not open_until:
            return False
        now = time.time()
        if now < open_until:
            raise CloposUnavailableError(
                "Circuit open after repeated failures", retry_after=math.ceil(open_until - now)
            )
        if not cache.add(keys.circuit_key(self.scope, "probe"), 1, timeout=math.ceil(self.probe_seconds)):
            raise CloposUnavailableError("Circuit half-open, a probe is in flight", retry_after=1)
        return True

    def release_probe(self) -> None:
        cache.delete(keys.circuit_key(self.scope, "probe"))

    def record(self, *, ok: bool, probe: bool, seen: Mapping[str, Any] | None = None) -> None:
        if ok:
            failures_key = keys.circuit_key(self.scope, "failures")
            failures = seen.get(failures_key) if seen is not None else cache.get(failures_key)
            if probe or failures:
                cache.delete_many([keys.circuit_key(self.scope, name) for name in ("failures", "open-until", "probe")])
            return
        failures = _incr(keys.circuit_key(self.scope, "failures"), 1, timeout=24 * 3600)
        if probe or failures >= self.threshold:
            cache.set(keys.circuit_key(self.scope, "open-until"), time.time() + self.open_seconds, timeout=24 * 3600)
        if probe:
            self.release_probe()


def health_record(
    scope: str,
    *,
    endpoint: str,
    failure_kind: FailureKind | None,
    headers: Mapping[str, str] | None,
    refund: tuple[RateBudget, int] | None = None,
) -> None:
    """Record a call's outcome for the status panel (and return unused reserved calls to the
    budget, `refund`), in one round trip: the one that releases the lock when the call is a
    single-flight leader's (a cold fill), else its own."""
    now = time.time()
    incr: dict[str, tuple[int, int]] = {}
    values: dict[str, tuple[Any, int]] = {}
    if refund is not None and refund[1] > 0:
        budget, calls = refund
        incr[keys.budget_key(budget.scope, int(now // WINDOW))] = (-calls, WINDOW * 3)
    if failure_kind is None:
        values[keys.health_key(scope, "last-success")] = ({"at": now, "endpoint": endpoint}, 7 * 24 * 3600)
    else:
        bucket = int(now // FAILURE_BUCKET_SECONDS)
        incr[keys.health_key(scope, f"failures:{failure_kind}:{bucket}")] = (1, FAILURE_BUCKET_SECONDS * 4)
        values[keys.health_key(scope, "last-failure")] = (
            {"at": now, "endpoint": endpoint, "kind": failure_kind.value},
            7 * 24 * 3600,
        )
    if headers and headers.get("RateLimit-Remaining") is not None:
        values[keys.health_key(scope, "clopos-ratelimit")] = (
            {"remaining": headers.get("RateLimit-Remaining"), "limit": headers.get("RateLimit-Limit"), "at": now},
            3600,
        )
    if not singleflight.hold_writes(incr, values):
        _write_many(incr, values)


def health_snapshot(scope: str) -> dict[str, Any]:
    bucket = int(time.time() // FAILURE_BUCKET_SECONDS)
    buckets = range(bucket - FAILURE_HISTORY_BUCKETS + 1, bucket + 1)
    names = {kind: [keys.health_key(scope, f"failures:{kind}:{b}") for b in buckets] for kind in FAILURE_KINDS}
    counts = cache.get_many([name for kind_names in names.values() for name in kind_names])
    failures = {kind.value: sum(counts.get(name, 0) for name in kind_names) for kind, kind_names in names.items()}
    return {
        "last_success": cache.get(keys.health_key(scope, "last-success")),
        "last_failure": cache.get(keys.health_key(scope, "last-failure")),
        "failures": failures,
        "clopos_ratelimit": cache.get(keys.health_key(scope, "clopos-ratelimit")),
    }
