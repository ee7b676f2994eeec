"""Benchmarks: figures and ratios against baselines measured in the same run (`make bench`).

This machine is shared and noisy, so absolute numbers mean little; each figure is printed with
a baseline taken in the same sitting (see ../shared/perf-baselines.md for the method):

* throughput of the cached order page and receipt fragment against a trivial view (/healthz),
  with wrk against gunicorn sync workers (which close every connection: no keep-alive skew);
* the cost of the audit write per page view, in-process, page with vs without it;
* start-up time and resident memory per gunicorn worker.

The profile follows the environment: DATABASE_URL + REDIS_URL give the production profile.
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sandbox import start_sandbox  # noqa: E402
from tests.live import LiveApp  # noqa: E402

WRK_SECONDS = int(os.environ.get("BENCH_SECONDS", "8"))


def wrk(url: str, cookie: str | None = None) -> dict[str, float]:
    header = ["-H", f"Cookie: {cookie}"] if cookie else []
    subprocess.run(["wrk", "-t2", "-c32", "-d2s", *header, url], capture_output=True, check=True)  # warm-up
    out = subprocess.run(
        ["wrk", "-t2", "-c32", f"-d{WRK_SECONDS}s", "--latency", *header, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)

    def latency(label: str) -> float:
        value, unit = re.search(rf"{label}\s+([\d.]+)(us|ms|s)", out).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    return {"rps": rps, "p50": latency("50%"), "p99": latency("99%"), "non2xx": int(non2xx.group(1)) if non2xx else 0}


def worker_memory_mb(master_pid: int) -> list[float]:
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    sizes = []
    for pid in children:
        status = Path(f"/proc/{pid}/status").read_text()
        sizes.append(int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024)
    return sizes


def audit_cost(app: LiveApp) -> dict[str, float]:
    """In-process medians through Django's WSGI handler, as gunicorn calls it: the time until the
    response is ready (what the user waits for) and until it is closed (when the audit row is
    written), for the cached order page, with and without the audit."""
    code = r"""
import statistics, time
from unittest import mock
from django.conf import settings
from django.contrib.auth.models import User
from django.core.handlers.wsgi import WSGIHandler
from django.test import Client, RequestFactory
client = Client(HTTP_HOST="127.0.0.1")
client.force_login(User.objects.get(username="manager"))
cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
handler = WSGIHandler()

def view():
    environ = RequestFactory()._base_environ(PATH_INFO="/orders/4103/", HTTP_COOKIE=cookie, HTTP_HOST="127.0.0.1")
    started = time.perf_counter()
    response = handler(environ, lambda status, headers: None)
    ready = time.perf_counter()
    response.close()
    return (ready - started) * 1e6, (time.perf_counter() - started) * 1e6

view()  # warm the cache

def medians(n=300):
    samples = [view() for _ in range(n)]
    return statistics.median(r for r, _ in samples), statistics.median(c for _, c in samples)

rounds = []
for _ in range(3):
    ready_with, closed_with = medians()
    with mock.patch("orders.views.audit_record"):
        ready_without, closed_without = medians()
    rounds.append((ready_with, closed_with, ready_without, closed_without))
from staff.models import AuditEntry
samples = []
for _ in range(300):
    entry = AuditEntry(username="bench", action="view_order", order_id=4103, venue_id=3, ip_address="127.0.0.1")
    started = time.perf_counter()
    AuditEntry.objects.bulk_create([entry])
    samples.append((time.perf_counter() - started) * 1e6)
print("RESULT", *[",".join(f"{v:.0f}" for v in r) for r in rounds], f"{statistics.median(samples):.0f}")
"""
    out = app.manage("shell", "--no-imports", "-c", code)
    fields = out.strip().splitlines()[-1].split()[1:]
    rounds = [tuple(map(float, f.split(","))) for f in fields[:-1]]
    return {
        "ready_with_audit_us": statistics.median(r[0] for r in rounds),
        "closed_with_audit_us": statistics.median(r[1] for r in rounds),
        "ready_without_audit_us": statistics.median(r[2] for r in rounds),
        "closed_without_audit_us": statistics.median(r[3] for r in rounds),
        "audit_insert_us": float(fields[-1]),
    }


def main() -> None:
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk")
    profile = "production (PostgreSQL + Redis)" if os.environ.get("REDIS_URL") else "embedded (SQLite + database cache)"
    sandbox = start_sandbox(port=0, auth_rate_limit=10_000, rate_limit=1_000_000)
    tmp = Path(tempfile.mkdtemp(prefix="bench-"))
    app = LiveApp(
        sandbox_url=sandbox.base_url,
        tmp_dir=tmp,
        name="bench",
        workers=3,
        extra_env={"CLOPOS_RATE_BUDGET_PER_MINUTE": "100000"},
    )
    app.prepare()
    started = time.monotonic()
    app.start()
    startup = time.monotonic() - started
    try:
        session = app.login("manager")
        cookie = "; ".join(f"{k}={v}" for k, v in session.cookies.items())
        order = f"{app.base_url}/orders/4103/"
        assert session.get(order, timeout=10).status_code == 200
        session.get(f"{order}receipt/", headers={"HX-Request": "true"}, timeout=10)
        memory = worker_memory_mb(app.process.pid)

        plain = wrk(f"{app.base_url}/healthz")
        page = wrk(order, cookie)
        fragment = wrk(f"{order}receipt/", cookie)
        plain_end = wrk(f"{app.base_url}/healthz")
        cost = audit_cost(app)
    finally:
        app.stop()
        sandbox.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"\nprofile: {profile}; gunicorn sync x3; wrk -t2 -c32 -d{WRK_SECONDS}s; cached order 4103 (manager)")
    print(f"{'scenario':<34}{'rps':>9}{'p50 ms':>9}{'p99 ms':>9}{'ratio':>8}{'non-2xx':>9}")
    for name, result in (
        ("A  /healthz (baseline)", plain),
        ("D  /orders/4103/ cached page", page),
        ("D' /orders/4103/receipt/ fragment", fragment),
        ("A  /healthz (end, drift check)", plain_end),
    ):
        ratio = result["rps"] / plain["rps"]
        print(
            f"{name:<34}{result['rps']:>9.0f}{result['p50']:>9.1f}{result['p99']:>9.1f}{ratio:>8.3f}{result['non2xx']:>9}"
        )
    print(f"p99/p50 of the cached page: {page['p99'] / page['p50']:.2f}")
    ready = cost["ready_with_audit_us"] - cost["ready_without_audit_us"]
    closed = cost["closed_with_audit_us"] - cost["closed_without_audit_us"]
    print(
        f"audit write: {cost['audit_insert_us']:.0f} µs per INSERT. In-process cached page, with vs without the "
        f"audit: response ready after {cost['ready_with_audit_us']:.0f} vs {cost['ready_without_audit_us']:.0f} µs "
        f"({ready:+.0f} µs, {ready / cost['ready_without_audit_us'] * 100:+.1f} %: what the user waits for); "
        f"closed after {cost['closed_with_audit_us']:.0f} vs {cost['closed_without_audit_us']:.0f} µs "
        f"({closed:+.0f} µs, {closed / cost['closed_without_audit_us'] * 100:+.1f} %: worker time, row written)"
    )
    print(
        f"start-up to first /healthz 200: {startup:.2f} s; worker RSS: "
        + ", ".join(f"{m:.1f} MB" for m in memory)
        + " (after serving the order page)"
    )


if __name__ == "__main__":
    main()
