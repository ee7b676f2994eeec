"""A single-flight lock outlives its leader's longest legitimate call, end to end (gunicorn, the
shared cache, the sandbox).

A cold view of an order takes the order's lock, then fetches the token and the order under it.
Here both answers drip their bodies for DRIP seconds each: slower than the old lock lifetime
(connect + read + 1 s), yet every body arrives within its read timeout, so the leader succeeds.
A second view of the same order arrives while the first is dripping: it must wait for the
leader's result (one upstream call, both pages 200), not find the lock expired and fetch again,
or give up. The lock now lives `CloposConfig.lock_seconds` = the worst case (clopos.timeouts) + 1.
"""

from __future__ import annotations

import re
import threading

import pytest
import requests

from clopos.timeouts import from_environ
from tests.integration.conftest import SandboxControl
from tests.live import LiveApp, wait_until

pytestmark = pytest.mark.integration

ORDER_ID = 4103
CONNECT, READ, BUDGET = 0.5, 6.0, 30.0
DRIP = 5.0  # each body: a full second under the read timeout, so neither call times out
ENV = {
    "CLOPOS_CONNECT_TIMEOUT": str(CONNECT),
    "CLOPOS_READ_TIMEOUT": str(READ),
    "CLOPOS_MAX_RETRIES": "0",
    # Room for both drips inside one request's Clopos budget (the default 10 s would cut the second).
    "CLOPOS_REQUEST_BUDGET_SECONDS": str(BUDGET),
}


def old_lock_lifetime() -> float:
    """The longest the lock could live under the old formula: connect + read + 1, rounded up to
    whole cache seconds, plus the database cache's up-to-one-second expiry granularity."""
    return -(-(CONNECT + READ + 1) // 1) + 1


@pytest.fixture(scope="module")
def flight_app(sandbox_handle, live_app, tmp_path_factory):
    app = LiveApp(
        sandbox_url=sandbox_handle.base_url, tmp_dir=tmp_path_factory.mktemp("flight"), name="flight", extra_env=ENV
    )
    app.prepare_like(live_app)
    app.start()
    yield app
    app.stop()


@pytest.fixture
def control(sandbox_handle, flight_app):
    control = SandboxControl(sandbox_handle)
    control.reset()
    control.config(rate_limit=300, token_ttl=3600)
    flight_app.clear_cache()
    yield control
    control.clear_faults()


def data_source(html: str) -> str | None:
    match = re.search(r'class="freshness" data-source="(\w+)"', html)
    return match.group(1) if match else None


def test_the_parameters_would_have_broken_the_old_lock():
    timeouts = from_environ(ENV)

    assert DRIP < READ, "each body arrives within the read timeout: the leader succeeds"
    assert old_lock_lifetime() < 2 * DRIP, "the old lock expires while the leader still reads"
    assert timeouts.worst_case_seconds + 1 > 2 * DRIP + 5, "the new one outlives the leader with room"


def test_a_waiter_gets_the_leaders_result_after_a_slow_drip(flight_app, control):
    logged_in = flight_app.login("manager")
    sessions = []
    for _ in range(2):
        session = requests.Session()
        session.cookies.update(logged_in.cookies)
        sessions.append(session)
    url = f"{flight_app.base_url}/orders/{ORDER_ID}/"
    control.fault("auth", "drip", count=1, seconds=DRIP)
    control.fault("order", "drip", count=1, seconds=DRIP)
    results: dict[str, requests.Response | BaseException] = {}

    def view(name: str, session: requests.Session) -> None:
        try:
            results[name] = session.get(url, timeout=60, allow_redirects=False)
        except requests.RequestException as exc:
            results[name] = exc

    leader = threading.Thread(target=view, args=("leader", sessions[0]))
    leader.start()
    # The leader holds the order's lock and its token call is dripping: now the second view.
    wait_until(lambda: control.calls("auth") == 1, timeout=20, what="the leader's /v2/auth call")
    assert "leader" not in results, "the leader must still be in flight"
    waiter = threading.Thread(target=view, args=("waiter", sessions[1]))
    waiter.start()
    leader.join(timeout=90)
    waiter.join(timeout=90)

    first, second = results["leader"], results["waiter"]
    assert isinstance(first, requests.Response), first
    assert isinstance(second, requests.Response), second
    assert (first.status_code, second.status_code) == (200, 200), second.text[:500]
    stats = control.stats()["requests"]
    assert stats["order"] == 1, "one upstream call for both views: the lock outlived the leader"
    assert stats["auth"] == 1
    assert data_source(first.text) == "live"
    assert data_source(second.text) == "cached", "the waiter served the leader's copy"
    for page in (first, second):
        assert f"Order {ORDER_ID}" in re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.text))
