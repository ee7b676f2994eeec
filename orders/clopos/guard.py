"""Protections every Clopos call passes through, shared by all workers via the cache.

* RateBudget: our share of the brand's 300 requests/min. Fixed windows of WINDOW seconds, each
  allowed `per_minute * WINDOW / (60 + WINDOW)` calls: any sliding minute overlaps at most
  60/WINDOW + 1 windows, so no sliding minute exceeds `per_minute` (Clopos counts a sliding
  minute). Retries are reserved up front and refunded when unused.
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

from django.core.cache import cache

from orders import cache as keys

from .errors import CloposRateLimitedError, CloposUnavailableError

WINDOW = 10
FAILURE_BUCKET_SECONDS = 300
FAILURE_HISTORY_BUCKETS = 3  # the status panel shows the last 15 minutes


def _incr(key: str, delta: int, timeout: int) -> int:
    cache.add(key, 0, timeout=timeout)
    try:
        return cache.incr(key, delta)
    except ValueError:  # expired between add and incr
        cache.add(key, 0, timeout=timeout)
        return cache.incr(key, delta)


@dataclass(frozen=True, slots=True)
class RateBudget:
    scope: str
    per_minute: int

    @property
    def per_window(self) -> int:
        return max(1, math.floor(self.per_minute * WINDOW / (60 + WINDOW)))

    def _window(self) -> tuple[str, float]:
        index = int(time.time() // WINDOW)
        return keys.budget_key(self.scope, index), (index + 1) * WINDOW - time.time()

    def acquire(self, calls: int) -> None:
        """Reserve `calls` calls in this window, or raise CloposRateLimitedError."""
        key, left = self._window()
        used = _incr(key, calls, timeout=WINDOW * 3)
        if used > self.per_window:
            _incr(key, -calls, timeout=WINDOW * 3)
            raise CloposRateLimitedError("Our Clopos rate budget is spent", retry_after=max(1, math.ceil(left)))

    def refund(self, calls: int) -> None:
        if calls > 0:
            key, _ = self._window()
            _incr(key, -calls, timeout=WINDOW * 3)

    def remaining(self) -> int:
        key, _ = self._window()
        return max(0, self.per_window - (cache.get(key) or 0))


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

    def before_call(self) -> bool:
        """Raise while open; in half-open let one probe through. Returns True for a probe."""
        open_until = cache.get(keys.circuit_key(self.scope, "open-until"))
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

    def record(self, *, ok: bool, probe: bool) -> None:
        if ok:
            if probe or cache.get(keys.circuit_key(self.scope, "failures")):
                cache.delete_many([keys.circuit_key(self.scope, name) for name in ("failures", "open-until", "probe")])
            return
        failures = _incr(keys.circuit_key(self.scope, "failures"), 1, timeout=24 * 3600)
        if probe or failures >= self.threshold:
            cache.set(keys.circuit_key(self.scope, "open-until"), time.time() + self.open_seconds, timeout=24 * 3600)
        if probe:
            self.release_probe()


def health_record(scope: str, *, endpoint: str, failure_kind: str | None, headers: Mapping[str, str] | None) -> None:
    now = time.time()
    if failure_kind is None:
        cache.set(keys.health_key(scope, "last-success"), {"at": now, "endpoint": endpoint}, timeout=7 * 24 * 3600)
    else:
        bucket = int(now // FAILURE_BUCKET_SECONDS)
        _incr(keys.health_key(scope, f"failures:{failure_kind}:{bucket}"), 1, timeout=FAILURE_BUCKET_SECONDS * 4)
        cache.set(keys.health_key(scope, "last-failure"), {"at": now, "endpoint": endpoint, "kind": failure_kind})
    if headers and headers.get("RateLimit-Remaining") is not None:
        cache.set(
            keys.health_key(scope, "clopos-ratelimit"),
            {"remaining": headers.get("RateLimit-Remaining"), "limit": headers.get("RateLimit-Limit"), "at": now},
            timeout=3600,
        )


FAILURE_KINDS = ("timeout", "unavailable", "server_error", "rate_limited", "bad_response", "auth")


def health_snapshot(scope: str) -> dict:
    bucket = int(time.time() // FAILURE_BUCKET_SECONDS)
    buckets = range(bucket - FAILURE_HISTORY_BUCKETS + 1, bucket + 1)
    names = {kind: [keys.health_key(scope, f"failures:{kind}:{b}") for b in buckets] for kind in FAILURE_KINDS}
    counts = cache.get_many([name for kind_names in names.values() for name in kind_names])
    failures = {kind: sum(counts.get(name, 0) for name in kind_names) for kind, kind_names in names.items()}
    return {
        "last_success": cache.get(keys.health_key(scope, "last-success")),
        "last_failure": cache.get(keys.health_key(scope, "last-failure")),
        "failures": failures,
        "clopos_ratelimit": cache.get(keys.health_key(scope, "clopos-ratelimit")),
    }
