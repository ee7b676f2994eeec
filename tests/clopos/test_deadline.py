"""clopos.deadline: the per-request Clopos budget and the timings behind Server-Timing."""

from __future__ import annotations

import re
import threading

import pytest

from clopos import deadline
from clopos.deadline import METRICS, RequestTimings


@pytest.fixture
def request_scope():
    """One request's timings, as the middleware begins and ends them."""
    tokens = []

    def begin(**kwargs) -> RequestTimings:
        tokens.append(deadline.begin(**kwargs))
        return deadline.current()

    yield begin
    for token in reversed(tokens):
        deadline.end(token)


def test_outside_a_request_there_is_no_deadline():
    assert deadline.current().remaining() is None
    assert deadline.current() is deadline.current()  # one throwaway per context, reused


def test_a_request_gets_its_budget(request_scope):
    timings = request_scope(budget_seconds=60.0)

    assert timings.deadline is not None
    assert 30 < timings.remaining() <= 60.0


@pytest.mark.parametrize("budget", [None, 0])
def test_no_budget_means_no_deadline(request_scope, budget):
    assert request_scope(budget_seconds=budget).remaining() is None


def test_end_restores_what_was_current_before():
    outer = deadline.current()
    token = deadline.begin(budget_seconds=5)
    inner = deadline.current()
    deadline.end(token)

    assert inner is not outer
    assert deadline.current() is outer


def test_each_thread_has_its_own_timings(request_scope):
    mine = request_scope(budget_seconds=5)
    seen = []
    thread = threading.Thread(target=lambda: seen.append(deadline.current()))
    thread.start()
    thread.join()

    assert seen[0] is not mine
    assert seen[0].remaining() is None  # a background refresh begins its own budget


def test_timed_adds_up_per_kind(request_scope):
    timings = request_scope(budget_seconds=None)

    with deadline.timed("cache"):
        pass
    with deadline.timed("cache"):
        pass
    timings.add("clopos", 0.25)
    timings.add("clopos", 0.5)

    assert timings.durations["clopos"] == 0.75
    assert timings.durations["cache"] >= 0
    assert set(timings.durations) == {"cache", "clopos"}


def test_timed_counts_even_when_the_block_raises(request_scope):
    timings = request_scope(budget_seconds=None)

    with pytest.raises(RuntimeError), deadline.timed("render"):
        raise RuntimeError

    assert "render" in timings.durations


def test_server_timing_always_names_every_metric(request_scope):
    """Present even when zero: a metric's presence must not tell whether Clopos was called."""
    timings = request_scope(budget_seconds=None)
    timings.add("clopos", 0.0123)

    header = timings.server_timing()

    metrics = dict(re.findall(r"([a-z]+);dur=([0-9.]+)", header))
    assert list(metrics) == [*METRICS, "total"]
    assert metrics["clopos"] == "12.3"
    assert metrics["cache"] == metrics["wait"] == metrics["render"] == "0.0"
    assert float(metrics["total"]) >= 0


def test_upstream_reason_nests_and_restores(request_scope):
    timings = request_scope(budget_seconds=None)
    assert timings.upstream_reason == "miss"

    with deadline.upstream_reason("refresh"):
        assert timings.upstream_reason == "refresh"
        with pytest.raises(RuntimeError), deadline.upstream_reason("expired"):
            assert timings.upstream_reason == "expired"
            raise RuntimeError
        assert timings.upstream_reason == "refresh"

    assert timings.upstream_reason == "miss"
