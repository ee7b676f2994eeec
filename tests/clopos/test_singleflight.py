"""clopos.singleflight: one worker fetches, the others wait for its result.

"Other workers" are simulated in one thread: the lock is taken under another owner token, and
`ready` plays the cache as the other worker would fill it (tests/clopos/test_store.py and
tests/integration run real concurrent workers).
"""

from __future__ import annotations

import time

import pytest
import time_machine
from django.core.cache import cache

from clopos import deadline, singleflight
from clopos.errors import CloposTimeoutError, CloposUnavailableError
from tests.conftest import cache_expiry_follows_time_machine

pytestmark = pytest.mark.django_db

LOCK = "clopos:test:thing:lock"


class Produce:
    """A `produce` callable that counts its calls."""

    def __init__(self, value="fetched", error: Exception | None = None):
        self.value, self.error, self.calls = value, error, 0

    def __call__(self):
        self.calls += 1
        if self.error is not None:
            raise self.error
        return self.value


class Ready:
    """A `ready` callable answering from a script: one value per call, the last one repeating.
    A callable in the script runs (another worker acting) and its result is the answer."""

    def __init__(self, *script):
        self.script, self.calls = list(script), 0

    def __call__(self):
        self.calls += 1
        step = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        return step() if callable(step) else step


# --- acquire / release ------------------------------------------------------------------------


def test_only_one_owner_at_a_time():
    owner = singleflight.acquire(LOCK, lock_seconds=10)

    assert owner
    assert singleflight.acquire(LOCK, lock_seconds=10) is None
    singleflight.release(LOCK, owner)
    assert singleflight.acquire(LOCK, lock_seconds=10)


def test_owner_tokens_are_unique():
    first = singleflight.acquire(LOCK, lock_seconds=10)
    singleflight.release(LOCK, first)

    assert singleflight.acquire(LOCK, lock_seconds=10) != first


def test_release_by_someone_else_keeps_the_lock():
    """A leader whose lock expired and was re-taken must not drop the new owner's lock."""
    owner = singleflight.acquire(LOCK, lock_seconds=10)

    singleflight.release(LOCK, "a-stale-owner-token")

    assert cache.get(LOCK) == owner
    assert singleflight.acquire(LOCK, lock_seconds=10) is None


@cache_expiry_follows_time_machine
def test_the_lock_expires_by_itself_never_early():
    with time_machine.travel(1_800_000_000, tick=False) as clock:
        assert singleflight.acquire(LOCK, lock_seconds=1.2)  # cached for 2 whole seconds

        clock.shift(1.9)
        assert singleflight.acquire(LOCK, lock_seconds=1.2) is None
        clock.shift(1.2)  # the database cache counts expiry in whole seconds
        assert singleflight.acquire(LOCK, lock_seconds=1.2)


# --- wait_for ---------------------------------------------------------------------------------


def test_wait_for_returns_as_soon_as_there_is_a_value():
    read = Ready(None, None, "value")

    assert singleflight.wait_for(read, seconds=30) == "value"
    assert read.calls == 3


def test_wait_for_gives_up_after_its_time():
    read = Ready(None)

    assert singleflight.wait_for(read, seconds=0.15) is None
    assert 2 <= read.calls <= 6  # polled every POLL_INTERVAL, not spun


def test_wait_for_with_no_time_reads_once():
    read = Ready(None)

    assert singleflight.wait_for(read, seconds=0) is None
    assert read.calls == 1


# --- fetch_or_wait ----------------------------------------------------------------------------


def test_the_leader_produces_once_and_releases_the_lock():
    produce = Produce("value")

    assert singleflight.fetch_or_wait(LOCK, produce=produce, ready=Ready(None), lock_seconds=10) == "value"

    assert produce.calls == 1
    assert cache.get(LOCK) is None


def test_the_leader_uses_a_result_stored_just_before_it_took_the_lock():
    produce = Produce()

    result = singleflight.fetch_or_wait(LOCK, produce=produce, ready=Ready("stored"), lock_seconds=10)

    assert result == "stored"
    assert produce.calls == 0
    assert cache.get(LOCK) is None


def test_a_failing_leader_releases_the_lock_and_raises():
    produce = Produce(error=CloposUnavailableError("down"))

    with pytest.raises(CloposUnavailableError):
        singleflight.fetch_or_wait(LOCK, produce=produce, ready=Ready(None), lock_seconds=10)

    assert cache.get(LOCK) is None


def test_a_waiter_gets_the_leaders_result_without_producing():
    singleflight.acquire(LOCK, lock_seconds=10)  # the leader, in another worker
    produce = Produce()
    ready = Ready(None, None, "the leader's result")

    result = singleflight.fetch_or_wait(LOCK, produce=produce, ready=ready, lock_seconds=10)

    assert result == "the leader's result"
    assert produce.calls == 0


def test_a_waiter_leads_when_the_leader_fails():
    other = singleflight.acquire(LOCK, lock_seconds=10)
    produce = Produce("mine")

    def leader_fails():
        singleflight.release(LOCK, other)  # gave up without storing anything
        return None

    result = singleflight.fetch_or_wait(LOCK, produce=produce, ready=Ready(None, leader_fails, None), lock_seconds=10)

    assert result == "mine"
    assert produce.calls == 1
    assert cache.get(LOCK) is None


def test_a_waiter_times_out_with_the_lock_lifetime():
    singleflight.acquire(LOCK, lock_seconds=30)  # a leader that never finishes
    produce = Produce()

    with pytest.raises(CloposTimeoutError):
        singleflight.fetch_or_wait(LOCK, produce=produce, ready=Ready(None), lock_seconds=0.2)

    assert produce.calls == 0


def test_a_waiter_never_waits_past_the_requests_own_budget(monkeypatch):
    singleflight.acquire(LOCK, lock_seconds=30)
    waits = []
    real_wait_for = singleflight.wait_for

    def spy(read, *, seconds):
        waits.append(seconds)
        return real_wait_for(read, seconds=seconds)

    monkeypatch.setattr(singleflight, "wait_for", spy)
    token = deadline.begin(budget_seconds=0.2)
    try:
        with pytest.raises(CloposTimeoutError):
            singleflight.fetch_or_wait(LOCK, produce=Produce(), ready=Ready(None), lock_seconds=30)
        waited = deadline.current().durations.get("wait", 0.0)
    finally:
        deadline.end(token)

    assert waits and max(waits) <= 0.2
    assert 0 < waited < 30  # reported in Server-Timing as "wait"


def test_waiting_is_timed_as_wait():
    singleflight.acquire(LOCK, lock_seconds=10)
    token = deadline.begin(budget_seconds=None)
    try:
        singleflight.fetch_or_wait(LOCK, produce=Produce(), ready=Ready(None, "done"), lock_seconds=10)
        timings = deadline.current()
    finally:
        deadline.end(token)

    assert timings.durations["wait"] >= singleflight.POLL_INTERVAL * 0.5
    assert time.monotonic() - timings.started >= timings.durations["wait"]
