"""Cross-process single-flight on the shared Django cache.

Many gunicorn workers may need the same missing thing (the Clopos token, an uncached order) at
once. The first one to `cache.add` the lock key does the work; the others poll the cache for its
result for a bounded time instead of calling Clopos too. The lock expires by itself, so a worker
that dies holding it blocks the key for at most `lock_seconds`; callers size it from the
leader's worst case (`CloposConfig.lock_seconds`), so a live leader never loses it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from django.core.cache import cache

from . import deadline
from .errors import CloposTimeoutError

POLL_INTERVAL = 0.05


def acquire(lock_key: str, *, lock_seconds: float) -> str | None:
    """Take the lock; returns an owner token, or None when someone else holds it."""
    owner = uuid.uuid4().hex
    # Cache timeouts are whole seconds on some backends: round up so the lock never vanishes early.
    return owner if cache.add(lock_key, owner, timeout=max(1, int(lock_seconds + 0.999))) else None


def release(lock_key: str, owner: str) -> None:
    # Compare-and-delete: never drop a lock that expired and was re-taken by another. Atomic and
    # one round trip on the project's Redis backend; get-then-delete (best effort) elsewhere.
    delete_if_equal = getattr(cache, "delete_if_equal", None)
    if delete_if_equal is not None:
        delete_if_equal(lock_key, owner)
    elif cache.get(lock_key) == owner:
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
    produce: Callable[[], T],
    ready: Callable[[], T | None],
    lock_seconds: float,
) -> T:
    """`produce` in exactly one worker at a time; the others wait for its result.

    `ready` reads the result from the cache (None while there is none). The leader checks it
    once more under the lock, since another worker may have finished between the caller's read
    and the lock. A waiter that sees the lock released without a result (the leader failed)
    tries to lead itself. Waiting ends with the lock's lifetime or the request's own Clopos
    budget, whichever comes first: then CloposTimeoutError.
    """
    remaining = deadline.current().remaining()
    until = time.monotonic() + (lock_seconds if remaining is None else min(lock_seconds, remaining))
    while True:
        owner = acquire(lock_key, lock_seconds=lock_seconds)
        if owner:
            try:
                found = ready()
                return found if found is not None else produce()
            finally:
                release(lock_key, owner)

        def result_or_released() -> tuple[T] | tuple[()] | None:
            found = ready()
            if found is not None:
                return (found,)
            return () if cache.get(lock_key) is None else None

        with deadline.timed("wait"):
            outcome = wait_for(result_or_released, seconds=max(0.0, until - time.monotonic()))
        if outcome is None:
            raise CloposTimeoutError("Timed out waiting for another worker's Clopos call")
        if outcome:
            return outcome[0]
        if time.monotonic() >= until:
            raise CloposTimeoutError("Timed out waiting for another worker's Clopos call")
