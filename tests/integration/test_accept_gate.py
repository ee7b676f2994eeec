"""GUNICORN_ACCEPT_GATE end to end (clopos_admin/gunicorn_worker.py, issue 13): a gated worker
serves pages as the shipped one does, and takes no new connection while its gate is full: the
trade-off the README states (a request waiting on a slow Clopos holds the gate; the shipped
worker keeps serving beside it)."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from tests.integration.conftest import SandboxControl
from tests.live import LiveApp, wait_until

pytestmark = pytest.mark.integration

DRIP = 2.5  # the slow order's body takes this long, within the read timeout
ENV = {"CLOPOS_CONNECT_TIMEOUT": "0.5", "CLOPOS_READ_TIMEOUT": "6.0", "CLOPOS_MAX_RETRIES": "0"}


@pytest.fixture(scope="module", params=["1", ""], ids=["gate 1", "shipped"])
def one_worker(request, sandbox_handle, live_app, tmp_path_factory):
    gate = request.param
    app = LiveApp(
        sandbox_url=sandbox_handle.base_url,
        tmp_dir=tmp_path_factory.mktemp("gate"),
        name=f"gate{gate or 'off'}",
        workers=1,
        extra_env=ENV | {"GUNICORN_ACCEPT_GATE": gate},
    )
    app.prepare_like(live_app)
    app.start()
    yield gate, app
    app.stop()


@pytest.fixture
def control(sandbox_handle, one_worker):
    control = SandboxControl(sandbox_handle)
    control.reset()
    control.config(rate_limit=300, token_ttl=3600)
    one_worker[1].clear_cache()
    yield control
    control.clear_faults()


def test_a_page_beside_a_slow_clopos_call_waits_only_behind_the_gate(one_worker, control):
    gate, app = one_worker
    manager = app.login("manager")
    assert manager.get(f"{app.base_url}/orders/4103/", timeout=10).status_code == 200  # warms the token
    control.fault("order", "drip", count=1, seconds=DRIP)
    slow: dict[str, requests.Response] = {}
    thread = threading.Thread(
        target=lambda: slow.setdefault("page", manager.get(f"{app.base_url}/orders/4104/", timeout=30))
    )
    thread.start()
    wait_until(lambda: control.calls("order") >= 2, what="the slow order call under way")
    started = time.monotonic()
    beside = requests.get(f"{app.base_url}/healthz", timeout=30)
    waited = time.monotonic() - started
    thread.join(timeout=30)

    assert beside.status_code == 200
    assert slow["page"].status_code == 200
    if gate:
        # The one thread the gate allows is waiting on Clopos: the next connection stays in the
        # kernel's queue until that page is answered.
        assert waited > DRIP / 2, waited
    else:
        assert waited < DRIP / 2, waited
