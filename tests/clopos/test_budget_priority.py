"""Who gets the last calls of the shared budget, and the per-user budget (issue 9).

The window keeps a reserve for managers' refreshes; best-effort calls (catalogue names,
background refreshes) stop earlier so that a cold start after a cache loss (a Redis restart)
spends the budget on what users opened, not on names. One user cannot spend it all.
"""

from __future__ import annotations

import pytest
import time_machine

from clopos import deadline
from clopos.deadline import Priority
from clopos.errors import CloposRateLimitedError, CloposThrottledError
from clopos.guard import ActorBudget, RateBudget

pytestmark = pytest.mark.django_db

T0 = 1_800_000_000  # a whole multiple of the 10 s window


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def fill(budget: RateBudget, priority: Priority) -> int:
    admitted = 0
    while True:
        try:
            budget.acquire(1, priority)
        except CloposRateLimitedError:
            return admitted
        admitted += 1


def test_the_defaults_split_the_window(settings):
    budget = RateBudget("scope", settings.CLOPOS_RATE_BUDGET_PER_MINUTE, settings.CLOPOS_RATE_RESERVE_PERCENT)

    assert budget.per_window == 34
    assert budget.reserve == 7
    assert (budget.limit(Priority.LOW), budget.limit(Priority.NORMAL), budget.limit(Priority.REFRESH)) == (20, 27, 34)


def test_best_effort_calls_leave_room_for_pages_and_pages_for_refreshes(clock):
    budget = RateBudget("scope", 240, 20)

    assert fill(budget, Priority.LOW) == 20
    assert fill(budget, Priority.NORMAL) == 7
    assert fill(budget, Priority.REFRESH) == 7
    assert fill(budget, Priority.REFRESH) == 0


def test_a_new_window_starts_empty_for_every_priority(clock):
    budget = RateBudget("scope", 240, 20)
    fill(budget, Priority.REFRESH)

    clock.shift(10)

    assert fill(budget, Priority.LOW) == 20


def test_priority_follows_what_the_call_is_for():
    timings = deadline.RequestTimings()
    assert timings.priority is Priority.NORMAL
    timings.upstream_reason = "refresh"
    assert timings.priority is Priority.REFRESH
    timings.upstream_reason = "revalidate"
    assert timings.priority is Priority.LOW
    assert deadline.RequestTimings(background=True).priority is Priority.LOW
    assert deadline.RequestTimings(low_priority=True).priority is Priority.LOW


def test_a_user_gets_their_window_then_is_throttled_alone(clock):
    budget = ActorBudget("scope", per_window=6, per_minute=20)
    for _ in range(6):
        budget.charge("user:1")

    with pytest.raises(CloposThrottledError) as excinfo:
        budget.charge("user:1")
    budget.charge("user:2")  # someone else is not affected

    assert excinfo.value.http_status == 429
    assert 1 <= excinfo.value.retry_after <= 10
    assert not excinfo.value.kind.is_failure and not excinfo.value.kind.opens_circuit


def test_the_per_minute_cap_holds_across_windows(clock):
    budget = ActorBudget("scope", per_window=6, per_minute=20)
    charged = 0
    for _ in range(6):  # six windows of one minute
        for _ in range(6):
            try:
                budget.charge("user:1")
                charged += 1
            except CloposThrottledError:
                break
        clock.shift(10)

    assert charged == 20


def test_a_refused_charge_is_not_counted(clock):
    budget = ActorBudget("scope", per_window=2, per_minute=20)
    budget.charge("user:1")
    budget.charge("user:1")
    for _ in range(5):
        with pytest.raises(CloposThrottledError):
            budget.charge("user:1")

    clock.shift(10)

    budget.charge("user:1")
    budget.charge("user:1")  # the refused ones did not eat into the minute
