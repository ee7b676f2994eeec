"""clopos.guard: the shared rate budget (fixed windows, refunds), the circuit breaker (open,
half-open, one probe at a time, probe release) and the health counters, on the shared cache.

Clocks are pinned with time_machine (the database cache's expiry follows them).
"""

from __future__ import annotations

import math

import pytest
import time_machine
from django.core.cache import cache

from clopos import guard, keys
from clopos.errors import FAILURE_KINDS, CloposRateLimitedError, CloposUnavailableError, FailureKind
from clopos.guard import WINDOW, CircuitBreaker, RateBudget, health_record, health_snapshot
from tests.conftest import cache_expiry_follows_time_machine

pytestmark = pytest.mark.django_db

# Half a second into a budget window (and into a failure bucket), so nothing crosses a boundary
# unless a test moves the clock on purpose.
START = 1_800_000_000.5
assert START % WINDOW == 0.5 and START % guard.FAILURE_BUCKET_SECONDS == 0.5


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


# --- RateBudget -------------------------------------------------------------------------------


@pytest.mark.parametrize(("per_minute", "per_window"), [(240, 34), (300, 42), (30, 4), (7, 1), (1, 1)])
def test_per_window_share(per_minute, per_window):
    assert RateBudget("s", per_minute).per_window == per_window


@pytest.mark.parametrize("per_minute", [7, 30, 60, 100, 240, 300, 1000])
def test_no_sliding_minute_exceeds_the_budget(per_minute):
    """Any 60 s overlaps at most 60/WINDOW + 1 windows, each filled to per_window."""
    windows_touched = 60 // WINDOW + 1
    assert RateBudget("s", per_minute).per_window * windows_touched <= per_minute


def test_a_window_admits_its_share_then_refuses_until_the_next(clock):
    budget = RateBudget("brand:integrator", 30)  # 4 per window
    for _ in range(budget.per_window):
        budget.acquire(1)
    assert budget.remaining() == 0

    with pytest.raises(CloposRateLimitedError) as refused:
        budget.acquire(1)

    assert refused.value.retry_after == math.ceil(WINDOW - 0.5)  # the rest of this window
    assert budget.remaining() == 0  # the refused call took nothing
    clock.shift(WINDOW)
    assert budget.remaining() == budget.per_window
    budget.acquire(budget.per_window)


def test_a_reservation_larger_than_what_is_left_is_refused_whole(clock):
    budget = RateBudget("s", 30)
    budget.acquire(3)

    with pytest.raises(CloposRateLimitedError):
        budget.acquire(2)  # a GET reserves its retry too

    assert budget.remaining() == 1
    budget.acquire(1)


def test_unused_retries_are_refunded(clock):
    budget = RateBudget("s", 30)
    budget.acquire(2)  # one call and its retry, reserved up front
    budget.refund(1)  # answered at the first attempt

    assert budget.remaining() == budget.per_window - 1
    budget.refund(0)
    assert budget.remaining() == budget.per_window - 1


def test_budgets_of_different_scopes_are_separate(clock):
    first, second = RateBudget("brand-a:i", 30), RateBudget("brand-b:i", 30)
    first.acquire(first.per_window)

    second.acquire(1)

    assert first.remaining() == 0
    assert second.remaining() == second.per_window - 1


def test_the_window_counter_is_shared_through_the_cache(clock):
    """Another worker's budget object (same scope) sees the same window."""
    RateBudget("s", 30).acquire(3)

    assert RateBudget("s", 30).remaining() == 1
    assert cache.get(keys.budget_key("s", int(START // WINDOW))) == 3


# --- CircuitBreaker ---------------------------------------------------------------------------


@pytest.fixture
def breaker() -> CircuitBreaker:
    return CircuitBreaker("brand:integrator", threshold=3, open_seconds=30, probe_seconds=5)


def fail(breaker: CircuitBreaker, times: int) -> None:
    for _ in range(times):
        assert breaker.before_call() is False
        breaker.record(ok=False, probe=False)


def test_closed_until_threshold_consecutive_failures(clock, breaker):
    fail(breaker, breaker.threshold - 1)
    assert breaker.state() == "closed"

    fail(breaker, 1)

    assert breaker.state() == "open"
    with pytest.raises(CloposUnavailableError) as refused:
        breaker.before_call()
    assert refused.value.retry_after == 30


def test_a_success_resets_the_consecutive_count(clock, breaker):
    fail(breaker, breaker.threshold - 1)
    breaker.record(ok=True, probe=False)
    fail(breaker, breaker.threshold - 1)

    assert breaker.state() == "closed"
    assert cache.get(keys.circuit_key(breaker.scope, "failures")) == breaker.threshold - 1


def test_half_open_lets_exactly_one_probe_through(clock, breaker):
    fail(breaker, breaker.threshold)
    clock.shift(30)

    assert breaker.state() == "half-open"
    assert breaker.before_call() is True
    with pytest.raises(CloposUnavailableError) as second:
        breaker.before_call()
    assert second.value.retry_after == 1


def test_a_successful_probe_closes_the_circuit(clock, breaker):
    fail(breaker, breaker.threshold)
    clock.shift(30)
    assert breaker.before_call() is True

    breaker.record(ok=True, probe=True)

    assert breaker.state() == "closed"
    assert breaker.before_call() is False
    fail(breaker, breaker.threshold - 1)  # counting starts again from zero
    assert breaker.state() == "closed"


def test_a_failed_probe_opens_the_circuit_again_and_frees_the_probe(clock, breaker):
    fail(breaker, breaker.threshold)
    clock.shift(30)
    assert breaker.before_call() is True

    breaker.record(ok=False, probe=True)

    assert breaker.state() == "open"
    clock.shift(29)
    assert breaker.state() == "open"
    clock.shift(1)
    assert breaker.before_call() is True  # the failed probe did not keep the slot


def test_a_released_probe_lets_the_next_request_probe(clock, breaker):
    """A probe refused before it reached Clopos (say, by the budget) proves nothing."""
    fail(breaker, breaker.threshold)
    clock.shift(30)
    assert breaker.before_call() is True

    breaker.release_probe()

    assert breaker.state() == "half-open"
    assert breaker.before_call() is True


@cache_expiry_follows_time_machine
def test_a_probe_whose_worker_died_expires_after_probe_seconds(clock, breaker):
    fail(breaker, breaker.threshold)
    clock.shift(30)
    assert breaker.before_call() is True  # and never records: the worker was killed

    clock.shift(breaker.probe_seconds - 1)
    with pytest.raises(CloposUnavailableError):
        breaker.before_call()
    clock.shift(2)
    assert breaker.before_call() is True


def test_the_breaker_is_shared_through_the_cache(clock, breaker):
    fail(breaker, breaker.threshold)

    other_worker = CircuitBreaker(breaker.scope, breaker.threshold, breaker.open_seconds, breaker.probe_seconds)

    assert other_worker.state() == "open"
    assert CircuitBreaker("other:scope", 3, 30, 5).state() == "closed"


# --- Health counters --------------------------------------------------------------------------


def test_failures_are_counted_by_kind(clock):
    for kind in (FailureKind.AUTH, FailureKind.AUTH, FailureKind.TIMEOUT):
        health_record("s", endpoint="order", failure_kind=kind, headers=None)

    snapshot = health_snapshot("s")

    assert list(snapshot["failures"]) == [kind.value for kind in FAILURE_KINDS]
    assert snapshot["failures"]["auth"] == 2
    assert snapshot["failures"]["timeout"] == 1
    assert sum(snapshot["failures"].values()) == 3
    assert snapshot["last_failure"] == {"at": START, "endpoint": "order", "kind": "timeout"}
    assert snapshot["last_success"] is None


def test_a_success_is_remembered_with_its_endpoint(clock):
    health_record("s", endpoint="auth", failure_kind=None, headers=None)

    snapshot = health_snapshot("s")

    assert snapshot["last_success"] == {"at": START, "endpoint": "auth"}
    assert set(snapshot["failures"].values()) == {0}


def test_failures_stay_counted_for_15_minutes(clock):
    health_record("s", endpoint="order", failure_kind=FailureKind.SERVER_ERROR, headers=None)

    clock.shift(guard.FAILURE_BUCKET_SECONDS * (guard.FAILURE_HISTORY_BUCKETS - 1))

    assert health_snapshot("s")["failures"]["server_error"] == 1


def test_failures_older_than_15_minutes_drop_out(clock):
    health_record("s", endpoint="order", failure_kind=FailureKind.SERVER_ERROR, headers=None)
    clock.shift(guard.FAILURE_BUCKET_SECONDS * guard.FAILURE_HISTORY_BUCKETS)

    health_record("s", endpoint="order", failure_kind=FailureKind.SERVER_ERROR, headers=None)

    assert health_snapshot("s")["failures"]["server_error"] == 1


def test_clopos_rate_limit_headers_are_kept(clock):
    health_record(
        "s", endpoint="order", failure_kind=None, headers={"RateLimit-Remaining": "57", "RateLimit-Limit": "60"}
    )

    assert health_snapshot("s")["clopos_ratelimit"] == {"remaining": "57", "limit": "60", "at": START}


def test_health_is_per_scope(clock):
    health_record("a", endpoint="order", failure_kind=FailureKind.AUTH, headers=None)

    assert health_snapshot("b")["failures"]["auth"] == 0
    assert health_snapshot("b")["last_failure"] is None
