"""The fault matrix, end to end: every way Clopos can fail × {order page, receipt fragment} ×
{no previous copy, a previous good copy}, through gunicorn and the sandbox over loopback.

The "faults" deployment sets every freshness age to 0, so every request goes to Clopos, yet the
previous good copy is kept (CLOPOS_STALE_IF_ERROR_SECONDS) for stale-if-error. A second instance
of the same deployment (same database and cache) points at a closed port for "connection
refused". One dict of expectations per fault drives every case.
"""

from __future__ import annotations

import re
import sqlite3
import time
from urllib.parse import urlsplit

import pytest
import requests

from clopos import keys
from clopos.timeouts import from_environ as timeouts_from_environ
from sandbox.data import RECEIPT_BY_ORDER
from tests.integration.conftest import SandboxControl
from tests.live import NO_FRESHNESS, LiveApp, free_port

pytestmark = pytest.mark.integration

ORDER_ID = 4103  # DELIVERED, with the closed receipt 20855
RECEIPT_ID = RECEIPT_BY_ORDER[ORDER_ID]
# The sandbox's demo credentials (settings.py, CLOPOS_DEMO=1): the scope of the 429 pause.
PAUSE_KEY = keys.rate_pause_key("kohnesheher", "sandbox-integrator")

STALE_BANNER = "Showing the copy from"
FRESHNESS_STALE = r"as of \d\d:\d\d( \S+)? · stale"  # HH:MM, then the time zone if shown
UNREACHABLE = "Clopos is unreachable right now."
TOO_SLOW = "Clopos did not answer in time."
BUSY_7 = "Clopos is busy. Try again in 7 s."
UNREADABLE = "Clopos sent a response we could not read."

# kind/params: the sandbox rule on the endpoint under test (None: the instance with a closed port).
# status/message/retry_after: the answer without a previous copy. calls: requests the sandbox
# receives on that endpoint for the failing view (urllib3 retries a GET once on 502/503/504).
FAULTS: dict[str, dict] = {
    "latency": {"kind": "latency", "params": {"seconds": 3}, "status": 503, "message": TOO_SLOW, "calls": 1},
    "refused": {"kind": None, "status": 503, "message": UNREACHABLE, "calls": 0},
    "500": {"kind": "status", "params": {"status": 500}, "status": 503, "message": UNREACHABLE, "calls": 1},
    "502": {"kind": "status", "params": {"status": 502}, "status": 503, "message": UNREACHABLE, "calls": 2},
    "503": {"kind": "status", "params": {"status": 503}, "status": 503, "message": UNREACHABLE, "calls": 2},
    "504": {"kind": "status", "params": {"status": 504}, "status": 503, "message": TOO_SLOW, "calls": 2},
    "429": {
        "kind": "rate_limit",
        "params": {"reset": 7},
        "status": 503,
        "message": BUSY_7,
        "retry_after": "7",
        "calls": 1,
    },
    # One 401: the client re-authenticates once and retries; the user never notices.
    "token_expired": {"kind": "token_expired", "count": 1, "status": 200, "calls": 2, "extra_auth": 1},
    "success_false": {"kind": "success_false", "status": 502, "message": UNREADABLE, "calls": 1},
    "malformed": {"kind": "malformed", "status": 502, "message": UNREADABLE, "calls": 1},
    "html": {"kind": "html", "params": {"status": 502}, "status": 503, "message": UNREACHABLE, "calls": 2},
    "truncated": {"kind": "truncated", "status": 503, "message": UNREACHABLE, "calls": 1},
    "drip": {"kind": "drip", "params": {"seconds": 3}, "status": 503, "message": TOO_SLOW, "calls": 1},
}


def wall_bound(app: LiveApp) -> float:
    """The slowest a faulted view may be: one Clopos call with every attempt timing out and the
    backoff between them (`clopos.timeouts`, the client's own arithmetic), plus 1.5 s for the
    rest of the page."""
    return timeouts_from_environ(app.env()).call_seconds + 1.5


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def freshness_line(html: str) -> str | None:
    match = re.search(r'<p class="freshness"[^>]*>(.*?)</p>', html, re.S)
    return text_of(match.group(1)) if match else None


def receipt_error(html: str) -> str | None:
    match = re.search(r'<div class="receipt-error"[^>]*>(.*?)</div>', html, re.S)
    return match.group(1) if match else None


def delete_cache_key(app: LiveApp, key: str) -> None:
    """Delete one entry from the app's shared cache (Django's `prefix:version:key` layout)."""
    full_key = f"{app.cache_prefix}:1:{key}"
    if app.redis_url:
        import redis

        redis.Redis.from_url(app.redis_url).delete(full_key)
        return
    with sqlite3.connect(urlsplit(app.database_url).path, timeout=20) as conn:
        conn.execute("DELETE FROM clopos_admin_cache WHERE cache_key = ?", (full_key,))


# --- Deployments and fixtures -----------------------------------------------------------------


@pytest.fixture(scope="module")
def faults_app(sandbox_handle, live_app, tmp_path_factory):
    app = LiveApp(
        sandbox_url=sandbox_handle.base_url,
        tmp_dir=tmp_path_factory.mktemp("faults"),
        name="faults",
        extra_env=dict(NO_FRESHNESS),
    )
    app.prepare_like(live_app)
    app.start()
    yield app
    app.stop()


@pytest.fixture(scope="module")
def refused_app(faults_app):
    """Another instance of the same deployment (same database, same cache: it sees the cached
    copies and the token) whose Clopos is a closed port on 127.0.0.1."""
    app = LiveApp(
        sandbox_url=f"http://127.0.0.1:{free_port()}/open-api",
        tmp_dir=faults_app.tmp_dir,
        name=faults_app.name,
        workers=1,
        extra_env=dict(faults_app.extra_env),
    )
    app.start()
    yield app
    app.stop()


@pytest.fixture(scope="module")
def sessions(faults_app, refused_app):
    return {faults_app.port: faults_app.login("manager"), refused_app.port: refused_app.login("manager")}


@pytest.fixture
def control(sandbox_handle, faults_app):
    control = SandboxControl(sandbox_handle)
    control.reset()
    control.config(rate_limit=300, token_ttl=3600)
    faults_app.clear_cache()
    yield control
    control.clear_faults()


def fetch(app: LiveApp, session: requests.Session, path: str, *, fragment: bool) -> tuple[requests.Response, float]:
    """One view, timed; whatever Clopos did, never a 500 and never a traceback."""
    headers = {"HX-Request": "true"} if fragment else {}
    started = time.monotonic()
    response = session.get(f"{app.base_url}{path}", headers=headers, timeout=20, allow_redirects=False)
    elapsed = time.monotonic() - started
    assert response.status_code != 500, response.text[:500]
    assert "Traceback" not in response.text
    if fragment:
        assert "<html" not in response.text, "htmx must get the bare fragment"
    return response, elapsed


def assert_fine(response: requests.Response, *, fragment: bool) -> None:
    """A good, live view: nothing stale, nothing broken left behind."""
    assert response.status_code == 200
    assert STALE_BANNER not in response.text
    assert freshness_line(response.text) is not None
    assert freshness_line(response.text).endswith("· live"), freshness_line(response.text)
    if fragment:
        assert receipt_error(response.text) is None
        assert f"Receipt id {RECEIPT_ID}" in text_of(response.text)
    else:
        assert f"Order {ORDER_ID}" in text_of(response.text)
        assert "cannot be shown right now" not in response.text


# --- The matrix -------------------------------------------------------------------------------


def _cases():
    for fault in FAULTS:
        for view in ("page", "receipt"):
            for cached in (False, True):
                case_id = f"{fault}-{view}-{'cached' if cached else 'nocache'}"
                yield pytest.param(fault, view, cached, id=case_id)


@pytest.mark.parametrize(("fault", "view", "cached"), list(_cases()))
def test_fault_matrix(faults_app, refused_app, sessions, control, fault, view, cached):
    spec = FAULTS[fault]
    fragment = view == "receipt"
    endpoint = "receipt" if fragment else "order"
    path = f"/orders/{ORDER_ID}/receipt/" if fragment else f"/orders/{ORDER_ID}/"
    good = sessions[faults_app.port]

    if cached:
        warm, _ = fetch(faults_app, good, path, fragment=fragment)
        assert_fine(warm, fragment=fragment)
    target = refused_app if fault == "refused" else faults_app
    if spec["kind"]:
        control.fault(endpoint, spec["kind"], count=spec.get("count"), **spec.get("params", {}))

    before = control.stats()["requests"]
    response, elapsed = fetch(target, sessions[target.port], path, fragment=fragment)
    after = control.stats()["requests"]
    calls = after[endpoint] - before[endpoint]
    print(
        f"\n{fault:>13} {view:>7} {'cached' if cached else 'nocache':>7}: HTTP {response.status_code}, "
        f"{calls} {endpoint} call(s), {elapsed:.2f} s, Server-Timing {response.headers.get('Server-Timing')}"
    )

    assert elapsed < wall_bound(target), f"{elapsed:.2f} s"
    assert calls == spec["calls"]
    expected_message = None
    if fault == "token_expired":
        # The first view of a cold cache authenticates once anyway; the 401 adds exactly one more.
        assert after["auth"] - before["auth"] == spec["extra_auth"] + (0 if cached else 1)
        assert_fine(response, fragment=fragment)
    elif cached:
        # The previous good copy, flagged: the banner and a "stale" freshness line.
        assert response.status_code == 200
        assert STALE_BANNER in response.text
        # The banner says what happened (busy, too slow, unreachable, unreadable), not just "down".
        assert spec["message"].split(" Try again")[0] in text_of(response.text)
        assert re.fullmatch(FRESHNESS_STALE, freshness_line(response.text) or ""), freshness_line(response.text)
        if fragment:
            assert f"Receipt id {RECEIPT_ID}" in text_of(response.text)
            assert receipt_error(response.text) is None
        else:
            assert f"Order {ORDER_ID}" in text_of(response.text)
    else:
        assert response.status_code == spec["status"]
        assert response.headers.get("Retry-After") == spec.get("retry_after")
        if fragment:
            error = receipt_error(response.text)
            assert error is not None, response.text
            assert re.search(rf'<button[^>]*hx-get="/orders/{ORDER_ID}/receipt/"[^>]*>Retry</button>', error)
            expected_message = (spec["message"], text_of(error))
        else:
            text = text_of(response.text)
            assert f"Order {ORDER_ID} cannot be shown right now" in text
            assert "Try again" in text
            expected_message = (spec["message"], text)

    # Nothing bad was cached: once Clopos recovers the next view is good and live. The 429 pause is
    # deliberate shared state (checked in test_concurrency); drop it rather than wait 7 s.
    control.clear_faults()
    if fault == "429":
        delete_cache_key(faults_app, PAUSE_KEY)
    before_follow_up = control.calls(endpoint)
    follow_up, follow_up_elapsed = fetch(faults_app, good, path, fragment=fragment)
    assert_fine(follow_up, fragment=fragment)
    assert follow_up_elapsed < wall_bound(faults_app)
    if not cached:
        assert control.calls(endpoint) == before_follow_up + 1, "the failure must not have been cached"

    # Last, so that a wrong message is the only thing an expected failure can hide.
    if expected_message:
        message, shown = expected_message
        assert message in shown
