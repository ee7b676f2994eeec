"""Stale-while-revalidate in a real gunicorn worker: the stale copy is served at once and a
background thread replaces it; the user never waits for Clopos."""

from __future__ import annotations

import re
import time

import pytest

from tests.live import LiveApp

pytestmark = pytest.mark.integration

FRESH_SECONDS = 2


@pytest.fixture(scope="module")
def swr_app(sandbox_handle, live_app, tmp_path_factory):
    ages = {
        f"CLOPOS_{age}_{kind}": value
        for age, value in (("TTL", str(FRESH_SECONDS)), ("STALE", "300"))
        for kind in ("ORDER_ACTIVE", "ORDER_FINAL", "RECEIPT_OPEN", "RECEIPT_CLOSED", "CATALOGUE")
    }
    app = LiveApp(
        sandbox_url=sandbox_handle.base_url, tmp_dir=tmp_path_factory.mktemp("swr"), name="swr", extra_env=ages
    )
    app.prepare_like(live_app)
    app.start()
    yield app
    app.stop()


def freshness(html: str) -> str:
    return re.search(r'class="freshness" data-source="(\w+)"', html).group(1)


def test_stale_copy_is_served_at_once_and_refreshed_in_the_background(swr_app, sandbox):
    swr_app.clear_cache()
    session = swr_app.login("manager")
    url = f"{swr_app.base_url}/orders/4102/"

    assert freshness(session.get(url, timeout=10).text) == "live"
    assert freshness(session.get(url, timeout=10).text) == "cached"
    assert sandbox.calls("order") == 1

    time.sleep(FRESH_SECONDS + 0.2)
    # Clopos is slow now: the stale copy must still come back at once.
    sandbox.fault("order", "latency", seconds=0.5)
    started = time.monotonic()
    stale = session.get(url, timeout=10)
    elapsed = time.monotonic() - started
    assert stale.status_code == 200
    assert freshness(stale.text) == "revalidating"
    assert "cached, refreshing" in stale.text
    assert elapsed < 0.4, f"the user waited {elapsed:.2f} s for the background refresh"

    deadline = time.monotonic() + 5
    while sandbox.calls("order") < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sandbox.calls("order") == 2, "one background refresh reached Clopos"
    time.sleep(0.7)  # the refresh lands once the slow answer arrives
    sandbox.clear_faults()
    assert freshness(session.get(url, timeout=10).text) == "cached"  # the new copy, fresh again
    assert sandbox.calls("order") == 2
