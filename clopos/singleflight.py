"""Cross-process single-flight on the shared Django cache.

Many gunicorn workers may need the same missing thing (the Clopos token, an uncached order) at
once. The first one to `cache.add` the lock key does the work; the others poll the cache for its
result for a bounded time instead of calling Clopos too. The lock expires by itself, so a worker
that dies holding it blocks the key for at most `lock_seconds`; callers size it from the
leader's worst case (`CloposConfig.lock_seconds`), so a live leader never loses it.

Round trips (issue 13: each is ~0.15 ms on the production profile, and a cold page made nine):
the leader takes the lock, reads the result key (and what its call reads first) and counts its
call's admission (`count_ahead`) in one, and stores its result, writes what its call recorded
meanwhile (`hold_writes`: the health record) and releases the lock in one; a waiter reads the
result and the lock in one per poll. The project's backends batch them
(clopos_admin/cache_backends.py); any other cache does them in turn, counts nothing ahead and
holds no writes.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache

from . import deadline, waiting
from .errors import CloposTimeoutError

POLL_INTERVAL = 0.05


@dataclass(frozen=True, slots=True)
class Produced[T]:
    """What a leader made: its result, and the value to cache at the result key for `seconds`
    (None: nothing to cache). Stored as the lock is released, before it is."""

    result: T
    cached: Any = None
    seconds: int = 0


@dataclass(slots=True)
class HeldWrites:
    """Counters `key: (delta, ttl)` and values `key: (value, ttl)` kept for the leader's release."""

    incr: dict[str, tuple[int, int]] = field(default_factory=dict)
    values: dict[str, tuple[Any, int]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.incr or self.values)


# The writes held for the release of the lock whose `produce` runs in this context (a thread's
# own: a background thread started inside starts with none).
_held: ContextVar[HeldWrites | None] = ContextVar("clopos_singleflight_held", default=None)


def hold_writes(incr: Mapping[str, tuple[int, int]], values: Mapping[str, tuple[Any, int]]) -> bool:
    """Keep these writes for the round trip that releases the lock of the leader running this
    code, instead of one of their own (a cold page made one for its call's health record);
    False when no leader runs here, and the caller writes them itself. Counters add up and a
    later value replaces an earlier one. Only what no one needs to read before the release
    belongs here: it lands a parse later, and is lost with the lock if the worker dies first."""
    held = _held.get()
    if held is None:
        return False
    for key, (delta, ttl) in incr.items():
        before = held.incr.get(key)
        held.incr[key] = (delta, ttl) if before is None else (before[0] + delta, max(before[1], ttl))
    held.values.update(values)
    return True


def _lock_timeout(lock_seconds: float) -> int:
    # Cache timeouts are whole seconds on some backends: round up so the lock never vanishes early.
    return max(1, int(lock_seconds + 0.999))


def acquire(lock_key: str, *, lock_seconds: float) -> str | None:
    """Take the lock; returns an owner token, or None when someone else holds it."""
    owner = uuid.uuid4().hex
    return owner if cache.add(lock_key, owner, timeout=_lock_timeout(lock_seconds)) else None


def acquire_reading(
    lock_key: str,
    read_keys: Sequence[str],
    *,
    lock_seconds: float,
    count: Mapping[str, tuple[int, int]] | None = None,
) -> tuple[str | None, dict[str, Any]]:
    """Take the lock and read `read_keys` as they are once the lock is taken: (owner or None,
    the keys found, as get_many gives them). One round trip on the project's Redis backend.
    `count` (counters `key: (delta, ttl)`) is added to only if the lock was taken, and the
    counts come with the keys read; a cache without the batched call counts nothing."""
    owner = uuid.uuid4().hex
    timeout = _lock_timeout(lock_seconds)
    add_and_get_many = getattr(cache, "add_and_get_many", None)
    if add_and_get_many is not None:
        added, values = add_and_get_many(lock_key, owner, timeout, read_keys, incr=count)
    else:
        added = cache.add(lock_key, owner, timeout=timeout)
        values = cache.get_many(read_keys) if added else {}
    return (owner if added else None), values


def release(
    lock_key: str, owner: str, *, store: tuple[str, Any, int] | None = None, held: HeldWrites | None = None
) -> None:
    """Release the lock (compare-and-delete: never drop a lock that expired and was re-taken by
    another). `store` (key, value, seconds) is cached first, and `held` written first of all, in
    the same round trip on the project's Redis backend, so a waiter that sees the lock gone
    finds the result."""
    set_and_release = getattr(cache, "set_and_delete_if_equal", None)
    if set_and_release is not None and (store is not None or held):
        set_and_release(store, lock_key, owner, incr=held.incr if held else None, values=held.values if held else None)
        return
    if store is not None:
        cache.set(store[0], store[1], timeout=store[2])
    delete_if_equal = getattr(cache, "delete_if_equal", None)
    if delete_if_equal is not None:
        delete_if_equal(lock_key, owner)  # atomic (one round trip on Redis, one transaction in SQL)
    elif cache.get(lock_key) == owner:  # best effort on any other cache
        cache.delete(lock_key)


def wait_for[T](read: Callable[[], T | None], *, seconds: float) -> T | None:
    """Poll `read` until it returns something or `seconds` pass."""
    until = time.monotonic() + seconds
    while True:
        value = read()
        if value is not None or time.monotonic() >= until:
            return value
        time.sleep(POLL_INTERVAL)


def fetch_or_wait[T](
    lock_key: str,
    *,
    result_key: str,
    produce: Callable[[Mapping[str, Any]], Produced[T]],
    ready: Callable[[Any], T | None],
    lock_seconds: float,
    read_ahead: Sequence[str] = (),
    count_ahead: Mapping[str, tuple[int, int]] | None = None,
) -> T:
    """`produce` in exactly one worker at a time; the others wait for its result.

    `ready` turns the raw value cached at `result_key` into the result (None while there is
    none). The leader reads it once more as it takes the lock, since another worker may have
    finished between the caller's read and the lock, and with it the keys in `read_ahead`, which
    it hands to `produce` (what the call it makes would read first), with the counts of the
    counters in `count_ahead` (what that call would count first: its rate-budget admission),
    counted only by a leader; it caches what `produce` made and releases the lock together,
    giving those counts back when it found the result without producing. A waiter that sees
    the lock released without a result (the leader failed) tries to lead itself. Waiting ends
    with the lock's lifetime or the request's own Clopos budget, whichever comes first: then
    CloposTimeoutError.
    """
    remaining = deadline.current().remaining()
    until = time.monotonic() + (lock_seconds if remaining is None else min(lock_seconds, remaining))
    while True:
        # Writes are held, and counts taken ahead, only where the release can carry them (and
        # give the counts back) in its own round trip.
        held = HeldWrites() if hasattr(cache, "set_and_delete_if_equal") else None
        count = count_ahead if held is not None else None
        with deadline.timed("cache"):
            owner, seen = acquire_reading(lock_key, [result_key, *read_ahead], lock_seconds=lock_seconds, count=count)
        if owner:
            stored = None
            holding = _held.set(held)
            try:
                found = ready(seen.get(result_key))
                if found is not None:
                    hold_writes({key: (-delta, ttl) for key, (delta, ttl) in (count or {}).items() if key in seen}, {})
                    return found
                produced = produce({key: seen[key] for key in [*read_ahead, *(count or ())] if key in seen})
                if produced.cached is not None:
                    stored = (result_key, produced.cached, produced.seconds)
                return produced.result
            finally:
                _held.reset(holding)
                with deadline.timed("cache"):
                    release(lock_key, owner, store=stored, held=held)

        def result_or_released() -> tuple[T] | tuple[()] | None:
            values = cache.get_many([result_key, lock_key])
            found = ready(values.get(result_key))
            if found is not None:
                return (found,)
            return () if values.get(lock_key) is None else None

        with deadline.timed("wait"), waiting.elsewhere(background=deadline.current().background):
            outcome = wait_for(result_or_released, seconds=max(0.0, until - time.monotonic()))
        if outcome is None:
            raise CloposTimeoutError("Timed out waiting for another worker's Clopos call")
        if outcome:
            return outcome[0]
        if time.monotonic() >= until:
            raise CloposTimeoutError("Timed out waiting for another worker's Clopos call")
