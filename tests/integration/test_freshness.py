"""Stale-while-revalidate in a real gunicorn worker: the stale copy is served at once and a
background thread replaces it; the user never waits for Clopos.

No wall-clock bound: that the user did not wait is read from the page's own Server-Timing (no
Clopos time, no single-flight wait), and the refresh landing from the page's data-source.
"""

from __future__ import annotations

import re
import time

import pytest

from tests.live import LiveApp, wait_until

pytestmark = pytest.mark.integration

# Long enough that two page views in a row fall inside it on a loaded machine.
FRESH_SECONDS = 5


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


def server_timing(response) -> dict[str, float]:
    """`Server-Timing: cache;dur=0.4, clopos;dur=12.5, …` as {"cache": 0.4, "clopos": 12.5, …}."""
    return {name: float(dur) for name, dur in re.findall(r"([a-z]+);dur=([0-9.]+)", response.headers["Server-Timing"])}


def test_stale_copy_is_served_at_once_and_refreshed_in_the_background(swr_app, sandbox):
    swr_app.clear_cache()
    session = swr_app.login("manager")
    url = f"{swr_app.base_url}/orders/4102/"

    assert freshness(session.get(url, timeout=10).text) == "live"
    assert freshness(session.get(url, timeout=10).text) == "cached"
    assert sandbox.calls("order") == 1

    time.sleep(FRESH_SECONDS + 0.2)  # a lower bound: past the fresh age, far inside the stale one
    # Clopos is slow now: the stale copy must still come back at once.
    sandbox.fault("order", "latency", seconds=0.5)
    stale = session.get(url, timeout=10)
    assert stale.status_code == 200
    assert freshness(stale.text) == "revalidating"
    assert "cached, refreshing" in stale.text
    timing = server_timing(stale)
    assert timing["clopos"] == 0, f"the user waited for the background refresh: {stale.headers['Server-Timing']}"
    assert timing["wait"] == 0, stale.headers["Server-Timing"]

    wait_until(lambda: sandbox.calls("order") >= 2, timeout=15, what="the background refresh reaching Clopos")
    assert sandbox.calls("order") == 2, "one background refresh reached Clopos"
    # The refresh lands once the slow answer arrives: then the page is the new copy, fresh again.
    # (Views in between are served the stale copy and start no second refresh.)
    wait_until(
        lambda: freshness(session.get(url, timeout=10).text) == "cached",
        timeout=15,
        interval=0.1,
        what="the refreshed copy in the cache",
    )
    sandbox.clear_faults()
    assert sandbox.calls("order") == 2
