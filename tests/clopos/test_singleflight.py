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

from clopos import deadline, guard, singleflight
from clopos.errors import CloposTimeoutError, CloposUnavailableError
from tests.conftest import cache_expiry_follows_time_machine

pytestmark = pytest.mark.django_db

LOCK = "clopos:test:thing:lock"
RESULT = "clopos:test:thing"


class Produce:
    """A `produce` callable that counts its calls."""

    def __init__(self, value="fetched", error: Exception | None = None, cached=None, seconds=0):
        self.value, self.error, self.calls = value, error, 0
        self.cached, self.seconds = cached, seconds

    def __call__(self, read_ahead):
        self.calls += 1
        self.read_ahead = read_ahead
        if self.error is not None:
            raise self.error
        return singleflight.Produced(self.value, self.cached, self.seconds)


class Ready:
    """A `ready` (or `wait_for` read) callable answering from a script, whatever the cache holds:
    one value per call, the last one repeating. A callable in the script runs (another worker
    acting) and its result is the answer."""

    def __init__(self, *script):
        self.script, self.calls = list(script), 0

    def __call__(self, _raw=None):
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

    assert (
        singleflight.fetch_or_wait(LOCK, result_key=RESULT, produce=produce, ready=Ready(None), lock_seconds=10)
        == "value"
    )

    assert produce.calls == 1
    assert cache.get(LOCK) is None


def test_the_leader_uses_a_result_stored_just_before_it_took_the_lock():
    produce = Produce()

    result = singleflight.fetch_or_wait(
        LOCK, result_key=RESULT, produce=produce, ready=Ready("stored"), lock_seconds=10
    )

    assert result == "stored"
    assert produce.calls == 0
    assert cache.get(LOCK) is None


def test_a_failing_leader_releases_the_lock_and_raises():
    produce = Produce(error=CloposUnavailableError("down"))

    with pytest.raises(CloposUnavailableError):
        singleflight.fetch_or_wait(LOCK, result_key=RESULT, produce=produce, ready=Ready(None), lock_seconds=10)

    assert cache.get(LOCK) is None


def test_a_waiter_gets_the_leaders_result_without_producing():
    singleflight.acquire(LOCK, lock_seconds=10)  # the leader, in another worker
    produce = Produce()
    ready = Ready(None, None, "the leader's result")

    result = singleflight.fetch_or_wait(LOCK, result_key=RESULT, produce=produce, ready=ready, lock_seconds=10)

    assert result == "the leader's result"
    assert produce.calls == 0


def test_a_waiter_leads_when_the_leader_fails():
    other = singleflight.acquire(LOCK, lock_seconds=10)
    produce = Produce("mine")

    def leader_fails():
        singleflight.release(LOCK, other)  # gave up without storing anything
        return None

    result = singleflight.fetch_or_wait(
        LOCK, result_key=RESULT, produce=produce, ready=Ready(None, leader_fails, None), lock_seconds=10
    )

    assert result == "mine"
    assert produce.calls == 1
    assert cache.get(LOCK) is None


def test_a_waiter_times_out_with_the_lock_lifetime():
    singleflight.acquire(LOCK, lock_seconds=30)  # a leader that never finishes
    produce = Produce()

    with pytest.raises(CloposTimeoutError):
        singleflight.fetch_or_wait(LOCK, result_key=RESULT, produce=produce, ready=Ready(None), lock_seconds=0.2)

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
            singleflight.fetch_or_wait(LOCK, result_key=RESULT, produce=Produce(), ready=Ready(None), lock_seconds=30)
        waited = deadline.current().durations.get("wait", 0.0)
    finally:
        deadline.end(token)

    assert waits and max(waits) <= 0.2
    assert 0 < waited < 30  # reported in Server-Timing as "wait"


def test_waiting_is_timed_as_wait():
    singleflight.acquire(LOCK, lock_seconds=10)
    token = deadline.begin(budget_seconds=None)
    try:
        singleflight.fetch_or_wait(
            LOCK, result_key=RESULT, produce=Produce(), ready=Ready(None, "done"), lock_seconds=10
        )
        timings = deadline.current()
    finally:
        deadline.end(token)

    assert timings.durations["wait"] >= singleflight.POLL_INTERVAL * 0.5
    assert time.monotonic() - timings.started >= timings.durations["wait"]


# --- round trips: the leader's two cache calls, a waiter's one per poll -------------------------


@pytest.fixture(params=["batched", "one at a time"])
def cache_calls(request, monkeypatch):
    """The cache calls single-flight makes, by name: on the project's backends (which batch the
    lock with the result), and on a cache without the batched calls."""
    from django.core.cache import caches

    backend_class = type(caches["default"])
    if request.param == "one at a time":
        monkeypatch.delattr(backend_class, "add_and_get_many")
        monkeypatch.delattr(backend_class, "set_and_delete_if_equal")
    calls = []
    depth = [0]  # a backend's batched call made of its own calls counts once
    for name in [
        "add",
        "get",
        "get_many",
        "set",
        "delete",
        "delete_if_equal",
        "add_and_get_many",
        "set_and_delete_if_equal",
        "write_many",
    ]:
        original = getattr(backend_class, name, None)
        if original is None:
            continue

        def spy(self, *args, _name=name, _original=original, **kwargs):
            if not depth[0]:
                calls.append(_name)
            depth[0] += 1
            try:
                return _original(self, *args, **kwargs)
            finally:
                depth[0] -= 1

        monkeypatch.setattr(backend_class, name, spy)
    return request.param, calls, depth


def test_the_leader_stores_its_result_and_releases_the_lock_in_one_call(cache_calls):
    how, calls, _ = cache_calls
    produce = Produce("parsed", cached={"raw": 1}, seconds=120)

    result = singleflight.fetch_or_wait(
        LOCK, result_key=RESULT, produce=produce, ready=lambda raw: raw, lock_seconds=10
    )

    assert result == "parsed"
    assert cache.get_many([RESULT, LOCK]) == {RESULT: {"raw": 1}}  # stored, and the lock is gone
    if how == "batched":
        assert calls[:2] == ["add_and_get_many", "set_and_delete_if_equal"]
    else:
        assert calls[:4] == ["add", "get_many", "set", "delete_if_equal"]


def test_the_leader_reads_the_result_as_it_takes_the_lock(cache_calls):
    how, calls, _ = cache_calls
    cache.set(RESULT, {"raw": "another worker's"}, timeout=60)
    calls.clear()
    produce = Produce()

    result = singleflight.fetch_or_wait(
        LOCK, result_key=RESULT, produce=produce, ready=lambda raw: raw, lock_seconds=10
    )

    assert result == {"raw": "another worker's"}
    assert produce.calls == 0
    assert cache.get(LOCK) is None
    assert calls[: 2 if how == "batched" else 3] == (
        ["add_and_get_many", "delete_if_equal"] if how == "batched" else ["add", "get_many", "delete_if_equal"]
    )


def test_a_leader_with_nothing_to_cache_only_releases():
    produce = Produce("short-lived")  # cached=None: nothing to keep

    assert singleflight.fetch_or_wait(LOCK, result_key=RESULT, produce=produce, ready=Ready(None), lock_seconds=10)
    assert cache.get_many([RESULT, LOCK]) == {}


def test_a_failing_leader_stores_nothing():
    produce = Produce(error=CloposUnavailableError("down"), cached={"raw": 1}, seconds=60)

    with pytest.raises(CloposUnavailableError):
        singleflight.fetch_or_wait(LOCK, result_key=RESULT, produce=produce, ready=Ready(None), lock_seconds=10)

    assert cache.get_many([RESULT, LOCK]) == {}


def test_a_waiter_reads_the_result_and_the_lock_in_one_call_per_poll(cache_calls):
    _, calls, depth = cache_calls
    other = singleflight.acquire(LOCK, lock_seconds=10)  # the leader, in another worker
    polls = []

    def ready(raw):
        polls.append(raw)
        if len(polls) == 3:  # the leader finishes between two polls (its calls are not this worker's)
            depth[0] += 1
            singleflight.release(LOCK, other, store=(RESULT, "the leader's", 60))
            depth[0] -= 1
        return raw

    calls.clear()
    result = singleflight.fetch_or_wait(LOCK, result_key=RESULT, produce=Produce(), ready=ready, lock_seconds=10)

    assert result == "the leader's"
    assert polls == [None, None, None, "the leader's"]
    assert calls == ["add_and_get_many" if "add_and_get_many" in calls else "add"] + ["get_many"] * 4


def test_acquire_reading_reads_nothing_when_the_lock_is_taken():
    cache.set(RESULT, "value", timeout=60)
    assert singleflight.acquire(LOCK, lock_seconds=10)

    owner, _ = singleflight.acquire_reading(LOCK, [RESULT], lock_seconds=10)

    assert owner is None  # the caller does not lead: what it read is not used


def test_the_leader_hands_produce_what_it_read_ahead_with_the_lock(cache_calls):
    how, calls, _ = cache_calls
    cache.set_many({"t:pause": 12.5, "t:token": {"token": "t"}}, timeout=60)
    calls.clear()
    produce = Produce("made")

    result = singleflight.fetch_or_wait(
        LOCK,
        result_key=RESULT,
        produce=produce,
        ready=Ready(None),
        lock_seconds=10,
        read_ahead=["t:pause", "t:token", "t:missing"],
    )

    assert result == "made"
    assert produce.read_ahead == {"t:pause": 12.5, "t:token": {"token": "t"}}  # as get_many gives them
    assert calls[0] == ("add_and_get_many" if how == "batched" else "add")  # read with the lock, not after


# --- writes held for the release: a leader's health record rides in its release's round trip ---


def test_a_leaders_health_record_is_written_with_its_release(cache_calls):
    how, calls, _ = cache_calls

    def produce(_read_ahead):
        guard.health_record("s", endpoint="order", failure_kind=None, headers={"RateLimit-Remaining": "7"})
        return singleflight.Produced("parsed", {"raw": 1}, 120)

    result = singleflight.fetch_or_wait(
        LOCK, result_key=RESULT, produce=produce, ready=lambda raw: raw, lock_seconds=10
    )
    made = list(calls)

    assert result == "parsed"
    health = guard.health_snapshot("s")
    assert health["last_success"]["endpoint"] == "order"
    assert health["clopos_ratelimit"]["remaining"] == "7"
    assert cache.get_many([RESULT, LOCK]) == {RESULT: {"raw": 1}}
    if how == "batched":
        assert made == ["add_and_get_many", "set_and_delete_if_equal"]  # no round trip of its own
    else:  # a cache that cannot carry it: written when recorded, as before
        assert made == ["add", "get_many", "write_many", "set", "delete_if_equal"]


def test_held_writes_add_up_and_land_when_the_leader_fails():
    def produce(_read_ahead):
        assert singleflight.hold_writes({"t:n": (2, 60)}, {"t:v": ("first", 60)})
        assert singleflight.hold_writes({"t:n": (3, 60)}, {"t:v": ("second", 60)})
        assert cache.get_many(["t:n", "t:v"]) == {}  # held, not written yet
        raise CloposUnavailableError("down")

    with pytest.raises(CloposUnavailableError):
        singleflight.fetch_or_wait(LOCK, result_key=RESULT, produce=produce, ready=Ready(None), lock_seconds=10)

    assert cache.get_many(["t:n", "t:v", LOCK, RESULT]) == {"t:n": 5, "t:v": "second"}


def test_writes_are_held_only_inside_a_leaders_produce():
    assert singleflight.hold_writes({"t:n": (1, 60)}, {}) is False  # no leader here: the caller writes

    singleflight.fetch_or_wait(LOCK, result_key=RESULT, produce=Produce(), ready=Ready(None), lock_seconds=10)

    assert singleflight.hold_writes({"t:n": (1, 60)}, {}) is False  # and none once it has released


def test_a_nested_leader_writes_its_own_held_writes_with_its_own_release():
    inner_lock, inner_result = f"{LOCK}:inner", f"{RESULT}:inner"

    def inner(_read_ahead):
        singleflight.hold_writes({}, {"t:inner": ("token call", 60)})
        return singleflight.Produced("token")

    def outer(_read_ahead):
        singleflight.fetch_or_wait(
            inner_lock, result_key=inner_result, produce=inner, ready=Ready(None), lock_seconds=10
        )
        assert cache.get_many(["t:inner", inner_lock]) == {"t:inner": "token call"}  # released, with its writes
        singleflight.hold_writes({}, {"t:outer": ("order call", 60)})
        assert cache.get("t:outer") is None
        return singleflight.Produced("order")

    assert singleflight.fetch_or_wait(LOCK, result_key=RESULT, produce=outer, ready=Ready(None), lock_seconds=10)
    assert cache.get_many(["t:inner", "t:outer", LOCK]) == {"t:inner": "token call", "t:outer": "order call"}


# --- counts taken ahead: a leader's call's admission, counted as it takes the lock -------------


def test_the_leader_counts_ahead_with_the_lock_and_hands_produce_the_counts(cache_calls):
    how, calls, _ = cache_calls
    cache.set("t:budget", 4, timeout=60)
    calls.clear()
    produce = Produce("made")

    singleflight.fetch_or_wait(
        LOCK, result_key=RESULT, produce=produce, ready=Ready(None), lock_seconds=10, count_ahead={"t:budget": (3, 30)}
    )

    if how == "batched":
        assert produce.read_ahead == {"t:budget": 7}
        assert cache.get("t:budget") == 7  # kept: produce's call used them
        assert calls[0] == "add_and_get_many"
    else:  # a cache without the batched calls counts nothing ahead: the call counts for itself
        assert produce.read_ahead == {}
        assert cache.get("t:budget") == 4


def test_a_waiter_counts_nothing_ahead():
    other = singleflight.acquire(LOCK, lock_seconds=10)

    def ready(raw):
        singleflight.release(LOCK, other, store=(RESULT, "the leader's", 60))  # another worker finishes
        return raw

    result = singleflight.fetch_or_wait(
        LOCK, result_key=RESULT, produce=Produce(), ready=ready, lock_seconds=10, count_ahead={"t:budget": (3, 30)}
    )

    assert result == "the leader's"
    assert cache.get("t:budget") is None


def test_a_leader_that_finds_the_result_gives_its_counts_back():
    cache.set_many({RESULT: "stored meanwhile", "t:budget": 4}, timeout=60)
    produce = Produce()

    result = singleflight.fetch_or_wait(
        LOCK,
        result_key=RESULT,
        produce=produce,
        ready=lambda raw: raw,
        lock_seconds=10,
        count_ahead={"t:budget": (3, 30)},
    )

    assert (result, produce.calls) == ("stored meanwhile", 0)
    assert cache.get_many(["t:budget", LOCK]) == {"t:budget": 4}
