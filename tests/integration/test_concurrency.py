"""Concurrency, rate budget, 429 pause, circuit breaker and operations endpoints, end to end:
gunicorn with several sync workers sharing one cache, against the sandbox over loopback."""

from __future__ import annotations

import math
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from sandbox.data import sample_ids
from tests.integration.conftest import SandboxControl
from tests.live import NO_FRESHNESS, PASSWORD, LiveApp, wait_until

pytestmark = pytest.mark.integration

SAMPLES = sample_ids()
BUDGET_PER_MINUTE = 30
BUDGET_WINDOW = 10  # orders/clopos/guard.py WINDOW
BUDGET_PER_WINDOW = math.floor(BUDGET_PER_MINUTE * BUDGET_WINDOW / (60 + BUDGET_WINDOW))  # 4
CIRCUIT_OPEN_SECONDS = 2


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def same_login(session: requests.Session) -> requests.Session:
    """A separate connection pool carrying the same logged-in cookies."""
    clone = requests.Session()
    clone.cookies.update(session.cookies)
    return clone


def circuit_state(panel_html: str) -> str:
    match = re.search(r"<span class=\"status [^\"]*\" data-circuit=\"([a-z-]+)\">", panel_html)
    assert match, panel_html
    return match.group(1)


def server_timing(response: requests.Response) -> dict[str, float]:
    """`Server-Timing: cache;dur=0.4, clopos;dur=12.5, …` as {"cache": 0.4, "clopos": 12.5, …}."""
    header = response.headers.get("Server-Timing", "")
    return {name: float(dur) for name, dur in re.findall(r"([a-z]+);dur=([0-9.]+)", header)}


def non_auth_calls(stats: dict) -> int:
    return sum(stats["requests"].values()) - stats["requests"].get("auth", 0)


def fresh_sandbox(sandbox_handle, app: LiveApp) -> SandboxControl:
    """What the `sandbox` fixture does for the session app, for a module's own deployment."""
    control = SandboxControl(sandbox_handle)
    control.reset()
    control.config(rate_limit=300, token_ttl=3600)
    app.clear_cache()
    return control


def start_app(sandbox_handle, template: LiveApp, tmp_path_factory, name: str, extra_env: dict[str, str]) -> LiveApp:
    """A separate deployment `name` (its own database and cache), prepared and started."""
    app = LiveApp(
        sandbox_url=sandbox_handle.base_url, tmp_dir=tmp_path_factory.mktemp(name), name=name, extra_env=extra_env
    )
    app.prepare_like(template)
    return app.start()


@pytest.fixture(scope="module")
def budget_app(sandbox_handle, live_app, tmp_path_factory):
    app = start_app(
        sandbox_handle,
        live_app,
        tmp_path_factory,
        "budget",
        # The per-user budget is set out of reach: this instance measures the shared budget alone
        # (tests/integration/test_user_budget.py covers the per-user one).
        NO_FRESHNESS
        | {
            "CLOPOS_RATE_BUDGET_PER_MINUTE": str(BUDGET_PER_MINUTE),
            "CLOPOS_USER_BUDGET_PER_WINDOW": "1000",
            "CLOPOS_USER_BUDGET_PER_MINUTE": "1000",
        },
    )
    yield app
    app.stop()


@pytest.fixture(scope="module")
def breaker_app(sandbox_handle, live_app, tmp_path_factory):
    app = start_app(
        sandbox_handle,
        live_app,
        tmp_path_factory,
        "breaker",
        NO_FRESHNESS | {"CLOPOS_CIRCUIT_FAILURES": "3", "CLOPOS_CIRCUIT_OPEN_SECONDS": str(CIRCUIT_OPEN_SECONDS)},
    )
    yield app
    app.stop()


# --- Single flight ----------------------------------------------------------------------------


@pytest.mark.parametrize("order_id", [4106, 5019])
def test_fifty_concurrent_cold_views_make_one_upstream_call(live_app, sandbox, order_id):
    assert live_app.workers >= 2
    logged_in = live_app.login("manager")
    url = f"{live_app.base_url}/orders/{order_id}/"
    count = 50
    sessions = [same_login(logged_in) for _ in range(count)]
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def view(index: int) -> None:
        barrier.wait(timeout=30)
        try:
            response = sessions[index].get(url, timeout=60, allow_redirects=False)
            results[index] = (response.status_code, f"Order {order_id}" in text_of(response.text))
        except requests.RequestException as exc:
            results[index] = exc

    threads = [threading.Thread(target=view, args=(i,)) for i in range(count)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    elapsed = time.monotonic() - started
    counts = {endpoint: n for endpoint, n in sandbox.stats()["requests"].items() if n}
    print(f"\n{count} concurrent cold views of order {order_id} in {elapsed:.2f} s: upstream calls {counts}")

    assert results == [(200, True)] * count
    assert counts["order"] == 1
    assert counts["auth"] == 1, "the workers share one token: one /v2/auth for the whole burst"


# --- Rate budget ------------------------------------------------------------------------------


def test_rate_budget_caps_a_burst(budget_app, sandbox_handle):
    control = fresh_sandbox(sandbox_handle, budget_app)
    logged_in = budget_app.login("manager")
    order_ids = sorted({oid for status in ("PENDING", "RECEIVED", "DELIVERED", "IGNORE") for oid in SAMPLES[status]})
    order_ids = order_ids[:40]
    assert len(order_ids) == 40

    def view(order_id: int) -> tuple[int, str | None, str]:
        response = same_login(logged_in).get(f"{budget_app.base_url}/orders/{order_id}/", timeout=30)
        return response.status_code, response.headers.get("Retry-After"), response.text

    before = control.stats()
    first_window = time.time() // BUDGET_WINDOW
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(view, order_ids))
    windows = int(time.time() // BUDGET_WINDOW - first_window) + 1
    after = control.stats()

    upstream = non_auth_calls(after) - non_auth_calls(before)
    ok = [a for a in answers if a[0] == 200]
    busy = [a for a in answers if a[0] == 503 and "Clopos is busy" in text_of(a[2])]
    print(
        f"\nbudget burst: {len(answers)} page requests, {upstream} upstream calls (auth excluded) in {windows} "
        f"window(s) of {BUDGET_PER_WINDOW}, {len(ok)} x 200, {len(busy)} x 503 busy, "
        f"per endpoint { ({k: v - before['requests'][k] for k, v in after['requests'].items() if v}) }"
    )

    assert all(status != 500 and "Traceback" not in text for status, _, text in answers)
    assert len(ok) + len(busy) == len(answers), sorted({status for status, _, _ in answers})
    # However long the burst took on this machine, no window let more than its share through.
    minutes = math.ceil(windows * BUDGET_WINDOW / 60)
    assert upstream <= BUDGET_PER_MINUTE * minutes
    assert upstream <= BUDGET_PER_WINDOW * windows
    assert ok, "the budget admits some views"
    assert busy, "the burst exceeds the budget"
    for _, retry_after, _ in busy:
        assert retry_after is not None
        assert 1 <= int(retry_after) <= BUDGET_WINDOW


# --- 429 pause --------------------------------------------------------------------------------


def test_429_pauses_every_call_until_the_reset(live_app, sandbox):
    session = live_app.login("manager")
    sandbox.fault("order", "rate_limit", count=1, reset=5)

    first = session.get(f"{live_app.base_url}/orders/4103/", timeout=10)
    assert first.status_code == 503
    assert first.headers.get("Retry-After") == "5"
    assert "Clopos is busy. Try again in 5 s." in text_of(first.text)
    calls = sandbox.calls("order")
    assert calls == 1

    other = session.get(f"{live_app.base_url}/orders/4105/", timeout=10)
    assert other.status_code == 503
    assert "Clopos is busy" in text_of(other.text)
    assert 1 <= int(other.headers["Retry-After"]) <= 5
    assert sandbox.calls("order") == calls, "no call while paused"

    # The pause ends at Clopos' reset; the status panel shows it until then.
    wait_until(
        lambda: "Paused by a 429" not in session.get(f"{live_app.base_url}/status/", timeout=10).text,
        timeout=20,
        interval=0.25,
        what="the end of the 429 pause",
    )
    after = session.get(f"{live_app.base_url}/orders/4105/", timeout=10)
    assert after.status_code == 200
    assert "Order 4105" in text_of(after.text)
    assert sandbox.calls("order") == calls + 1


# --- Circuit breaker and the status panel -----------------------------------------------------


def test_circuit_breaker_opens_probes_and_closes(breaker_app, sandbox_handle):
    control = fresh_sandbox(sandbox_handle, breaker_app)
    session = breaker_app.login("manager")
    page = f"{breaker_app.base_url}/orders/4103/"
    panel = f"{breaker_app.base_url}/status/"
    assert circuit_state(session.get(panel, timeout=10).text) == "closed"

    control.fault("order", "status", status=500)
    for attempt in range(1, 4):
        failed = session.get(page, timeout=10)
        assert failed.status_code == 503
        assert control.calls("order") == attempt

    started = time.monotonic()
    refused = session.get(page, timeout=10)
    elapsed = time.monotonic() - started
    assert refused.status_code == 503
    # Refused at once: no time spent on Clopos (the page's own Server-Timing), and no call made.
    assert server_timing(refused)["clopos"] == 0, refused.headers["Server-Timing"]
    assert control.calls("order") == 3, "an open circuit makes no call"
    assert "Clopos is unreachable right now." in text_of(refused.text)
    assert 1 <= int(refused.headers["Retry-After"]) <= CIRCUIT_OPEN_SECONDS
    assert circuit_state(session.get(panel, timeout=10).text) == "open"

    control.clear_faults()
    wait_until(
        lambda: circuit_state(session.get(panel, timeout=10).text) == "half-open",
        timeout=CIRCUIT_OPEN_SECONDS + 15,
        interval=0.25,
        what="the circuit going half-open",
    )
    probe = session.get(page, timeout=10)
    assert probe.status_code == 200
    assert control.calls("order") == 4
    assert circuit_state(session.get(panel, timeout=10).text) == "closed"

    following = session.get(page, timeout=10)
    assert following.status_code == 200
    assert control.calls("order") == 5, "a closed circuit lets calls through again"
    print(f"\ncircuit: 3 failures reached Clopos, the 4th was refused in {elapsed * 1000:.0f} ms, probe closed it")


def test_status_panel_is_for_managers_only(live_app, sandbox):
    manager = live_app.login("manager").get(f"{live_app.base_url}/status/", timeout=10)
    assert manager.status_code == 200
    assert circuit_state(manager.text) == "closed"
    support = live_app.login("support").get(f"{live_app.base_url}/status/", timeout=10)
    assert support.status_code == 403


# --- Health endpoints -------------------------------------------------------------------------


def test_healthz_and_readyz_without_login(live_app, sandbox, sandbox_handle):
    healthz = requests.get(f"{live_app.base_url}/healthz", timeout=10, allow_redirects=False)
    assert healthz.status_code == 200
    assert healthz.text.strip() == "ok"
    assert "gunicorn" not in healthz.headers.get("Server", "").lower()  # the server software is not advertised
    assert requests.head(f"{live_app.base_url}/readyz", timeout=10).status_code == 200

    # Anonymous callers (load balancers) learn ready or not; the details are for operators.
    anonymous = requests.get(f"{live_app.base_url}/readyz", timeout=10, allow_redirects=False)
    assert anonymous.status_code == 200
    assert anonymous.json() == {"status": "ready"}
    operator = live_app.login("manager")
    before = operator.get(f"{live_app.base_url}/readyz", timeout=10, allow_redirects=False)
    assert before.json()["clopos_token"] == "none"

    assert operator.get(f"{live_app.base_url}/orders/4103/", timeout=10).status_code == 200
    ready = operator.get(f"{live_app.base_url}/readyz", timeout=10, allow_redirects=False)
    assert ready.status_code == 200
    assert ready.headers["Content-Type"].startswith("application/json")
    checks = ready.json()
    assert checks["database"] == "ok"
    assert checks["cache"] == "ok"
    assert checks["clopos_token"] == "valid"
    # Only short state words: no token, no password, no secret, no host or URL.
    assert all(re.fullmatch(r"[a-z][a-z-]*", value) for value in checks.values()), checks
    with sandbox_handle.state.lock:
        tokens = list(sandbox_handle.state.tokens)
    assert tokens
    for secret in [*tokens, "sbx.", PASSWORD, "sandbox-secret", "sandbox-client", "://", "127.0.0.1", "sqlite"]:
        assert secret not in ready.text


# --- Server-Timing ----------------------------------------------------------------------------


def test_server_timing_on_pages_fragments_and_errors(live_app, sandbox):
    session = live_app.login("manager")
    base = live_app.base_url

    cold = session.get(f"{base}/orders/4103/", timeout=10)
    fragment = session.get(f"{base}/orders/4103/receipt/", headers={"HX-Request": "true"}, timeout=10)
    warm = session.get(f"{base}/orders/4103/", timeout=10)
    not_found = session.get(f"{base}/orders/999999/", timeout=10)
    sandbox.fault("order", "status", status=500, count=1)
    unavailable = session.get(f"{base}/orders/4105/", timeout=10)

    assert [r.status_code for r in (cold, fragment, warm, not_found, unavailable)] == [200, 200, 200, 404, 503]
    for response in (cold, fragment, warm, not_found, unavailable):
        header = response.headers.get("Server-Timing", "")
        assert "clopos;dur=" in header, header
        assert "cache;dur=" in header, header
        assert "total;dur=" in header, header
    # Every metric is always present (zero when unused); the durations tell what happened.
    for response in (cold, fragment, not_found, unavailable):
        assert server_timing(response)["clopos"] > 0, response.headers["Server-Timing"]
    assert server_timing(warm)["clopos"] == 0, "a warm view makes no call"
    assert server_timing(warm)["cache"] > 0
    print(f"\nServer-Timing cold page: {cold.headers['Server-Timing']}; warm: {warm.headers['Server-Timing']}")
