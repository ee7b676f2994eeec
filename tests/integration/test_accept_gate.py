"""The accept gate end to end (clopos_admin/gunicorn_worker.py, issue 13): a worker takes no new
connection while GUNICORN_ACCEPT_GATE of its threads run Python, but a thread waiting on a slow
Clopos or on a slow client does not hold the gate (issue 9's headroom). One worker, so that a
closed gate would leave the next connection in the kernel's queue, with nobody else to take it.
"""

from __future__ import annotations

import re
import socket
import threading
import time
import uuid

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
        name=f"gate{gate or 'shipped'}",
        workers=1,
        extra_env=ENV | {"GUNICORN_ACCEPT_GATE": gate, "GUNICORN_LOGLEVEL": "info"},  # info: the worker class
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


def test_the_worker_is_the_gated_one(one_worker):
    _, app = one_worker
    log = next(app.tmp_dir.glob(f"gunicorn-{app.port}.log")).read_text()
    assert "Using worker: clopos_admin.gunicorn_worker.GatedThreadWorker" in log


def test_a_page_beside_a_slow_clopos_call_does_not_wait_for_it(one_worker, control):
    _, app = one_worker
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
    beside = manager.get(f"{app.base_url}/orders/4103/", timeout=30)  # a cached page
    waited = time.monotonic() - started
    thread.join(timeout=30)

    assert beside.status_code == 200
    assert slow["page"].status_code == 200
    # Even with a gate of 1, the one thread that was running Python is waiting on Clopos: the
    # worker takes the next connection at once.
    assert waited < DRIP / 2, waited


def test_slow_clients_do_not_close_the_gate(one_worker):
    _, app = one_worker
    stop = threading.Event()

    def slowloris() -> None:
        # Headers that never end: the thread reading them runs no Python of ours.
        with socket.create_connection(("127.0.0.1", app.port)) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            while not stop.wait(0.2):
                try:
                    sock.sendall(b"X-Slow: 1\r\n")
                except OSError:
                    return

    clients = [threading.Thread(target=slowloris, daemon=True) for _ in range(3)]
    for client in clients:
        client.start()
    try:
        time.sleep(0.5)  # every slow client is in a thread, past its grace
        started = time.monotonic()
        answer = requests.get(f"{app.base_url}/healthz", timeout=10)
        waited = time.monotonic() - started
    finally:
        stop.set()
        for client in clients:
            client.join(timeout=5)

    assert answer.status_code == 200
    assert waited < 1.0, waited


def test_a_login_flood_does_not_close_the_gate(one_worker):
    # Each wrong password costs a full PBKDF2 hash (about half a second of niced CPU here), and
    # the login thread only waits for it (staff/hashers.py): three at once must not keep the
    # next visitor out of a worker whose gate is one or two threads.
    _, app = one_worker
    forms = []
    for _ in range(3):
        session = requests.Session()
        page = session.get(f"{app.base_url}/accounts/login/", timeout=10)
        forms.append((session, re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)))
    finished: list[float] = []

    def wrong_password(session: requests.Session, token: str) -> None:
        session.post(
            f"{app.base_url}/accounts/login/",
            data={"username": f"flood-{uuid.uuid4().hex[:8]}", "password": "wrong", "csrfmiddlewaretoken": token},
            headers={"Referer": f"{app.base_url}/accounts/login/"},
            timeout=30,
        )
        finished.append(time.monotonic())

    logins = [threading.Thread(target=wrong_password, args=form) for form in forms]
    for login in logins:
        login.start()
    time.sleep(0.2)  # the three hashes are under way
    started = time.monotonic()
    answer = requests.get(f"{app.base_url}/healthz", timeout=30)
    answered = time.monotonic()
    for login in logins:
        login.join(timeout=30)

    assert answer.status_code == 200
    assert len(finished) == 3 and answered < min(finished)  # served while every login was hashing
    assert answered - started < 0.3, answered - started
