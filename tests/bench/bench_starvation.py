"""Starvation benchmark (issue 9): does a cached page stay fast while the server is under abuse?

`make bench-starvation` starts the sandbox and the app under gunicorn four times in one sitting:
the old worker model (5 sync workers, keep-alive 2 s, no login throttle), the shipped one
(gthread with the accept gate, upstream slots, login throttle, audit journal), and the shipped
one with the audit journal off, and with the accept gate off. For each it measures the cached
order page's latency with a light, closed-loop probe (wrk -t1 -c2: two users clicking, not a
saturating load), alone and while:

(a) 3 slowloris sockets send one header line every 5 s and never finish;
(b) Clopos takes 8 s to answer, and 10 users keep opening uncached orders;
(c) 12 threads flood the login form with random usernames.

The profile follows the environment (tests/live.py): DATABASE_URL and REDIS_URL set measure the
production profile. Password hashing at low priority (staff/hashers.py) is in the code, not an
environment switch: every configuration here has it.

It prints p50/p99 per scenario and the goal (p99 < 100 ms). A benchmark, not a test.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sandbox import start_sandbox  # noqa: E402
from tests.live import LiveApp, csrf_token  # noqa: E402

SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
ORDER = 4103

CONFIGS = {
    "before: sync x5, keep-alive 2 s, no login throttle, audit rows straight to the table": {
        "GUNICORN_WORKERS": "5",
        "GUNICORN_THREADS": "1",
        "GUNICORN_KEEPALIVE": "2",
        "LOGIN_RATE_PER_IP": "100000/m",
        "CLOPOS_UPSTREAM_CONCURRENCY": "1000",
        "AUDIT_JOURNAL_DIR": "",
    },
    # One lever off: on SQLite, a row inserted straight into the audit table waits for the one
    # write lock behind the flood's cache writes (the throttle's counters, the budget's).
    "ablation: shipped, but audit rows straight to the table": {"AUDIT_JOURNAL_DIR": ""},
    # The accept gate off: gunicorn's own gthread worker, which takes every connection it can.
    "ablation: shipped, but no accept gate (GUNICORN_ACCEPT_GATE=0)": {"GUNICORN_ACCEPT_GATE": "0"},
    "after: shipped defaults (gthread, upstream slots, login throttle, journal, niced hashing)": {},
}


def probe(url: str, cookie: str) -> dict[str, float]:
    out = subprocess.run(
        ["wrk", "-t1", "-c2", f"-d{SECONDS}s", "--latency", "-H", f"Cookie: {cookie}", "-H", "Connection: close", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    def latency(label: str) -> float:
        value, unit = re.search(rf"{label}\s+([\d.]+)(us|ms|s)\b", out).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    requests_done = int(re.search(r"(\d+) requests in", out).group(1))
    return {
        "p50": latency("50%"),
        "p99": latency("99%"),
        "requests": requests_done,
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
    }


@contextmanager
def running(target: Callable[[threading.Event], None], count: int) -> Iterator[None]:
    stop = threading.Event()
    threads = [threading.Thread(target=target, args=(stop,), daemon=True) for _ in range(count)]
    for thread in threads:
        thread.start()
    time.sleep(1.5)  # let the attack take hold before measuring
    try:
        yield
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=15)


def slowloris(app: LiveApp) -> Callable[[threading.Event], None]:
    def attack(stop: threading.Event) -> None:
        with socket.create_connection(("127.0.0.1", app.port)) as sock:
            sock.sendall(b"GET /accounts/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            while not stop.wait(5):
                try:
                    sock.sendall(f"X-Slow-{uuid.uuid4().hex[:6]}: 1\r\n".encode())
                except OSError:
                    return

    return attack


def slow_clopos_views(app: LiveApp, cookie: dict[str, str]) -> Callable[[threading.Event], None]:
    counter = iter(range(10**6))
    lock = threading.Lock()

    def attack(stop: threading.Event) -> None:
        while not stop.is_set():
            with lock:
                n = next(counter)
            # Generated orders 5001-5240, each at most once: always a cold view.
            order_id = 5001 + n % 240
            with suppress(requests.RequestException):
                requests.get(f"{app.base_url}/orders/{order_id}/", cookies=cookie, timeout=30)

    return attack


def login_flood(app: LiveApp) -> Callable[[threading.Event], None]:
    def attack(stop: threading.Event) -> None:
        session = requests.Session()
        session.get(f"{app.base_url}/accounts/login/", timeout=10)
        token = csrf_token(session)
        while not stop.is_set():
            with suppress(requests.RequestException):
                session.post(
                    f"{app.base_url}/accounts/login/",
                    data={"username": uuid.uuid4().hex[:10], "password": "guess", "csrfmiddlewaretoken": token},
                    headers={"Referer": f"{app.base_url}/accounts/login/"},
                    timeout=30,
                )

    return attack


def measure(config: dict[str, str], sandbox, tmp: Path) -> dict[str, dict[str, float]]:
    app = LiveApp(sandbox_url=sandbox.base_url, tmp_dir=tmp, name="starve", extra_env=config)
    app.prepare()
    app.clear_cache()  # on Redis, the previous configuration's login throttle counts would remain
    app.start()
    try:
        manager = app.login("manager")
        manager.get(f"{app.base_url}/orders/{ORDER}/", timeout=30).raise_for_status()
        cookie = "; ".join(f"{k}={v}" for k, v in manager.cookies.get_dict().items())
        url = f"{app.base_url}/orders/{ORDER}/"
        results = {"alone": probe(url, cookie)}
        with running(slowloris(app), 3):
            results["(a) 3 slowloris sockets"] = probe(url, cookie)
        control = f"{sandbox.control_url}"
        requests.post(f"{control}/faults", json={"endpoint": "order", "fault": "latency", "seconds": 8}, timeout=5)
        try:
            viewer = app.login("admin")
            with running(slow_clopos_views(app, viewer.cookies.get_dict()), 10):
                results["(b) Clopos 8 s slow, 10 cold views"] = probe(url, cookie)
        finally:
            requests.delete(f"{control}/faults", timeout=5)
        with running(login_flood(app), 12):
            results["(c) login flood, 12 threads"] = probe(url, cookie)
        return results
    finally:
        app.stop()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp_dir:
        sandbox = start_sandbox(port=0, auth_rate_limit=100_000)
        try:
            requests.post(f"{sandbox.control_url}/config", json={"rate_limit": 100_000}, timeout=5)
            for name, config in CONFIGS.items():
                results = measure(config, sandbox, Path(tempfile.mkdtemp(dir=tmp_dir)))
                print(f"\n{name}\n  cached order {ORDER}, wrk -t1 -c2 -d{SECONDS}s, Connection: close")
                print(f"  {'scenario':40} {'p50 ms':>8} {'p99 ms':>8} {'requests':>9} {'non-2xx':>8}  goal p99<100")
                for scenario, r in results.items():
                    verdict = "ok" if r["p99"] < 100 else "MISSED"
                    figures = f"{r['p50']:8.1f} {r['p99']:8.1f} {r['requests']:9d} {r['non2xx']:8d}"
                    print(f"  {scenario:40} {figures}  {verdict}")
        finally:
            sandbox.stop()


if __name__ == "__main__":
    main()
