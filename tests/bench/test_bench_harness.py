"""The benchmark's own rules (issue 13, "Done means"): it reads wrk's report right, and it refuses
a ratio for a run with non-2xx answers or socket errors, or for a page that is not the real one.
Unit tests: no wrk, no server; `make bench` itself is never run by `make test`."""

from __future__ import annotations

from typing import Any

import pytest

from tests.bench import bench_pages
from tests.bench.bench_pages import check_page, parse_wrk, ratio, tail_ratio

# A report as `wrk -t2 -c32 -d10s --latency` prints it (wrk 4.1), with errors.
REPORT = """Running 10s test @ http://127.0.0.1:8000/orders/4103/
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    52.95ms   13.21ms 145.12ms   80.12%
    Req/Sec   301.47    120.33   450.00     72.00%
  Latency Distribution
     50%   50.60ms
     75%   58.01ms
     90%   66.22ms
     99%    1.20s
  6012 requests in 10.07s, 64.67MB read
  Socket errors: connect 0, read 3, write 1, timeout 2
  Non-2xx or 3xx responses: 12
Requests/sec:    597.11
Transfer/sec:      6.42MB
"""
CLEAN_REPORT = REPORT.replace("  Socket errors: connect 0, read 3, write 1, timeout 2\n", "").replace(
    "  Non-2xx or 3xx responses: 12\n", ""
)


def test_the_report_is_read_with_its_units_and_errors() -> None:
    result = parse_wrk(REPORT)
    # p50 from the distribution, not the thread stats' average; 1.20s is 1,200 ms.
    assert result == {"rps": 597.11, "p50": 50.6, "p99": 1200.0, "non2xx": 12, "errors": 6}
    assert parse_wrk(CLEAN_REPORT) | {"p99": 0} == {"rps": 597.11, "p50": 50.6, "p99": 0, "non2xx": 0, "errors": 0}


def test_a_report_without_figures_is_an_error_not_a_zero() -> None:
    with pytest.raises(AssertionError, match="in wrk.s report"):
        parse_wrk("unable to connect to 127.0.0.1:8000 Connection refused\n")


def test_no_ratio_for_a_run_with_non_2xx_answers_or_socket_errors() -> None:
    clean = parse_wrk(CLEAN_REPORT)
    base = clean | {"rps": 300.0}
    assert ratio(clean, base) == "1.99"
    assert ratio(clean | {"non2xx": 1}, base) == "n/a"
    assert ratio(clean | {"errors": 1}, base) == "n/a"
    assert ratio(clean, base | {"non2xx": 5}) == "n/a"  # nor against a baseline that had them


def test_the_tail_ratio_is_the_median_of_the_rounds() -> None:
    rounds = [{"p50": 10.0, "p99": 15.0}, {"p50": 10.0, "p99": 30.0}, {"p50": 20.0, "p99": 32.0}]
    assert tail_ratio(rounds) == pytest.approx(1.6)


class Answer:
    def __init__(self, status_code: int, text: str) -> None:
        self.status_code, self.text = status_code, text


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[Answer]:
    """What the page under test answers (requests.get replaced: no server)."""
    answers: list[Answer] = []

    def get(url: str, **kwargs: Any) -> Answer:
        assert kwargs["allow_redirects"] is False  # a redirect to the login page must show as one
        return answers.pop(0)

    monkeypatch.setattr(bench_pages.requests, "get", get)
    return answers


def test_the_real_page_passes_the_check(served: list[Answer]) -> None:
    served.append(Answer(200, '<h1 id="order-title">Order 4103</h1>'))
    check_page("http://127.0.0.1/orders/4103/", "sessionid=x", 'id="order-title"')


@pytest.mark.parametrize(
    "answer",
    [
        Answer(302, ""),  # wrk counts a redirect to the login page as a success ("Non-2xx or 3xx")
        Answer(200, '<form><input name="password"></form> id="order-title"'),  # a login page
        Answer(200, "<h1>Something else</h1>"),  # not the page
        Answer(503, '<h1 id="order-title">'),
    ],
)
def test_a_page_that_is_not_the_real_one_stops_the_benchmark(served: list[Answer], answer: Answer) -> None:
    served.append(answer)
    with pytest.raises(AssertionError):
        check_page("http://127.0.0.1/orders/4103/", "sessionid=x", 'id="order-title"')


def test_the_cold_summary_is_the_median_overhead_over_all_and_over_the_order_only_pages() -> None:
    samples = [
        bench_pages.ColdSample(page=0.010, direct=0.002, one_call=True),
        bench_pages.ColdSample(page=0.020, direct=0.003, one_call=False),  # also fetched products
        bench_pages.ColdSample(page=0.012, direct=0.001, one_call=True),
    ]

    summary = bench_pages.cold_summary(samples)

    assert summary["page_p50"] == pytest.approx(12.0)
    assert summary["overhead_p50"] == pytest.approx(12.0 - 2.0)  # median page minus median direct
    assert summary["one_call_overhead_p50"] == pytest.approx(11.0 - 1.5)
    assert (summary["n"], summary["one_call_n"]) == (3, 2)


def test_the_cold_summary_has_no_order_only_figure_without_such_pages() -> None:
    summary = bench_pages.cold_summary([bench_pages.ColdSample(page=0.01, direct=0.002, one_call=False)])

    assert summary["one_call_n"] == 0
    assert summary["one_call_overhead_p50"] != summary["one_call_overhead_p50"]  # NaN, not a zero
