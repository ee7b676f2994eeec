"""`make bench`: the console's pages beside a stock Django project, in one sitting, both profiles.

This machine is shared and noisy, so absolute numbers mean little: every figure is printed with
yardsticks measured in the same sitting (../shared/perf-baselines.md, ../shared/perf/reference):

* A: the reference's `HttpResponse("ok")`, the framework's ceiling: its p99/p50 is the sitting's
  floor for any page's (on this machine a run's tail is mostly the scheduler's, not the page's);
* C: the reference's `@login_required` 8 KB page (SQLite sessions), C2: the same with persistent
  connections and cached_db sessions on Redis, E: the reference's admin change view;
* the app under its shipped gunicorn defaults, on the embedded profile (SQLite + database cache)
  and on the production profile (PostgreSQL + Redis): the warm order page (4103), its receipt
  fragment, a warm 5-line order (5115), a warm orders list page (50 rows) and a warm receipts
  list page (one shift).

Each scenario gets `wrk -t2 -c32 -d{BENCH_SECONDS}s --latency` after a 2 s warm-up, in two
interleaved rounds. A response is checked to be the real page before each run, and no ratio is
printed for a run with non-2xx answers or socket errors. Then, per profile: the cold order page's
overhead over the sandbox's own latency (all 20 cold pages, and those whose only upstream call was
the order), 64 concurrent cold views of one order (upstream calls),
start-up time and worker memory; and, one request at a time as the cold overhead is measured, C
and the warm order page (on this machine one request alone takes several times its share of a
loaded second: the cold overhead's floor). The cold overhead is also given in C's one-request
p50s: an absolute figure moves with the machine's speed (it doubled from a quiet morning to a slow
afternoon on 7 Dec 2026), that ratio did not.

It is a benchmark, not a test: `make test` times nothing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from sandbox import living, start_sandbox  # noqa: E402
from tests.bench.reference import Reference  # noqa: E402
from tests.live import LiveApp  # noqa: E402

WRK_SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))
PRODUCTION = {
    "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test"),
    "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
}
# The list bench: the sandbox clock pinned, and a business day that is a Baku calendar day read
# in Baku time, so the first Clopos page of the busiest recent day is 50 rows, all shown.
BAKU = ZoneInfo("Asia/Baku")
LIST_NOW = dt.datetime(2026, 11, 27, 14, 0, tzinfo=BAKU)


def busiest_recent_day() -> dt.date:
    days = [LIST_NOW.date() - dt.timedelta(days=n) for n in range(2, 9)]
    return max(days, key=lambda d: len(living.living_day(d).orders))


# The app under a benchmark: the rate budgets out of the way (the sandbox has no limits either),
# days from midnight, and the shipped timeouts, not the tests' short ones: cold pages are measured.
BENCH_APP_ENV = {
    "CLOPOS_RATE_BUDGET_PER_MINUTE": "100000",
    "CLOPOS_USER_BUDGET_PER_WINDOW": "100000",
    "CLOPOS_USER_BUDGET_PER_MINUTE": "100000",
    "CLOPOS_BUSINESS_DAY_START": "00:00",
    "CLOPOS_CONNECT_TIMEOUT": "2.0",
    "CLOPOS_READ_TIMEOUT": "5.0",
    "CLOPOS_RETRY_BACKOFF": "0.25",
}


@contextlib.contextmanager
def profile_environ(profile: dict[str, str]) -> Iterator[None]:
    """LiveApp reads DATABASE_URL/REDIS_URL (and the rest of a profile) from the environment: set
    them for one profile, and put back what was there."""
    saved = {key: os.environ.get(key) for key in ("DATABASE_URL", "REDIS_URL", *profile)}
    for key in saved:
        os.environ.pop(key, None)
    os.environ.update(profile)
    try:
        yield
    finally:
        for key, value in saved.items():
            os.environ.pop(key, None)
            if value is not None:
                os.environ[key] = value


def wrk(url: str, cookie: str, extra_headers: tuple[str, ...] = ()) -> dict[str, float]:
    headers = ["-H", f"Cookie: {cookie}"] + [part for header in extra_headers for part in ("-H", header)]
    subprocess.run(["wrk", "-t2", "-c32", "-d2s", *headers, url], capture_output=True, check=True)  # warm-up
    out = subprocess.run(
        ["wrk", "-t2", "-c32", f"-d{WRK_SECONDS}s", "--latency", *headers, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return parse_wrk(out)


def parse_wrk(out: str) -> dict[str, float]:
    """rps, p50 and p99 (ms), non-2xx answers and socket errors from `wrk --latency`'s report (a
    report without the lines for non-2xx or socket errors had none)."""
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)

    def latency(label: str) -> float:
        found = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\b", out, re.MULTILINE)
        assert found, f"no {label} latency in wrk's report"
        value, unit = found.groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    assert rps, "no Requests/sec in wrk's report"
    return {
        "rps": float(rps.group(1)),
        "p50": latency("50%"),
        "p99": latency("99%"),
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
        "errors": sum(map(int, socket_errors.groups())) if socket_errors else 0,
    }


def check_page(url: str, cookie: str, marker: str, *, htmx: bool = False) -> None:
    """The run must measure the real page: 200, its marker, never a login form."""
    headers = {"Cookie": cookie} | ({"HX-Request": "true"} if htmx else {})
    response = requests.get(url, headers=headers, timeout=30, allow_redirects=False)
    assert response.status_code == 200, f"{url}: HTTP {response.status_code}"
    assert marker in response.text, f"{url}: not the page ({marker!r} missing)"
    assert 'name="password"' not in response.text, f"{url}: a login page"


def worker_memory_mb(master_pid: int) -> list[float]:
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    return [
        int(re.search(r"VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text()).group(1)) / 1024
        for pid in children
    ]


def stats(sandbox) -> dict[str, int]:
    return requests.get(f"{sandbox.control_url}/stats", timeout=5).json()["requests"]


def calls_between(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """The upstream calls made between two readings of the sandbox's counters, per endpoint."""
    return {k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)}


@dataclass(frozen=True)
class ColdSample:
    page: float  # seconds
    direct: float  # the same order straight from the sandbox, seconds
    one_call: bool  # the page's only upstream call was the order


def cold_summary(samples: list[ColdSample]) -> dict[str, float]:
    """Medians in ms: the page, the sandbox straight, the overhead (page - sandbox), over all
    samples and over those whose only upstream call was the order (NaN when none was)."""
    page = statistics.median(sample.page for sample in samples) * 1000
    direct = statistics.median(sample.direct for sample in samples) * 1000
    alone = [sample for sample in samples if sample.one_call]
    return {
        "page_p50": page,
        "direct_p50": direct,
        "overhead_p50": page - direct,
        "n": len(samples),
        "one_call_overhead_p50": (
            (statistics.median(s.page for s in alone) - statistics.median(s.direct for s in alone)) * 1000
            if alone
            else float("nan")
        ),
        "one_call_n": len(alone),
    }


class AppUnderTest:
    """One profile of the app: its LiveApp, a manager's cookie and its scenarios."""

    def __init__(
        self,
        name: str,
        profile: dict[str, str],
        sandbox,
        tmp: Path,
        root: Path = ROOT,
        app_env: dict[str, str] | None = None,
    ) -> None:
        self.name, self.profile, self.sandbox = name, profile, sandbox
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower())
        with profile_environ(profile):
            self.app = LiveApp(
                sandbox_url=sandbox.base_url,
                tmp_dir=tmp,
                root=root,
                name=f"bench-{slug}",
                workers=os.cpu_count() + 1,  # the shipped default (gunicorn.conf.py)
                extra_env=BENCH_APP_ENV
                | {
                    # The access log on, as shipped (to a file here: stdout is LiveApp's pipe).
                    "GUNICORN_ACCESSLOG": str(tmp / f"access-{slug}.log"),
                    "GUNICORN_LOGLEVEL": "info",
                }
                # BENCH_APP_X=v sets X=v for the app under test (GUNICORN_THREADS=1, say).
                | {
                    key.removeprefix("BENCH_APP_"): value
                    for key, value in os.environ.items()
                    if key.startswith("BENCH_APP_")
                }
                | (app_env or {}),  # a variant's own settings (make bench-workers)
            )
            # The shipped gunicorn defaults: only the worker count LiveApp always sets.
            self.app.prepare()
            self.app.clear_cache()  # Redis outlives a run: cold pages must start cold
            started = time.monotonic()
            self.app.start()
            self.startup = time.monotonic() - started
        session = self.app.login("manager")
        self.session = session
        self.cookie = "; ".join(f"{k}={v}" for k, v in session.cookies.items())
        base = self.app.base_url
        self.list_url = f"{base}/orders/?day={busiest_recent_day().isoformat()}"
        self.scenarios = {
            "warm order 4103": (f"{base}/orders/4103/", 'id="order-title"', False),
            "receipt fragment 4103": (f"{base}/orders/4103/receipt/", 'id="receipt"', True),
            "warm 5-line order 5115": (f"{base}/orders/5115/", 'id="order-title"', False),
            "warm list page": (self.list_url, "data-order-row", False),
            "warm receipts list": (
                f"{base}/receipts/?day={busiest_recent_day().isoformat()}",
                "data-receipt-rows",
                False,
            ),
        }
        for url, _, htmx in self.scenarios.values():  # warm every cache the pages use
            session.get(url, headers={"HX-Request": "true"} if htmx else {}, timeout=30)
        self.cold_list_calls = self._cold_list_calls()
        self.memory = worker_memory_mb(self.app.process.pid)

    def _cold_list_calls(self) -> dict[str, int]:
        """One cold list page (a day not seen yet; catalogue warm) must make exactly one upstream
        list call, and the same page warm none (issue 10)."""
        url = f"{self.app.base_url}/orders/?day={(busiest_recent_day() - dt.timedelta(days=7)).isoformat()}"
        before = stats(self.sandbox)
        assert self.session.get(url, timeout=30).status_code == 200
        after = stats(self.sandbox)
        calls = calls_between(before, after)
        assert calls == {"orders": 1}, f"a cold list page must make exactly one upstream list call: {calls}"
        assert self.session.get(url, timeout=30).status_code == 200
        assert stats(self.sandbox) == after, "a warm list page must make no upstream call"
        return calls

    def run(self, scenario: str) -> dict[str, float]:
        url, marker, htmx = self.scenarios[scenario]
        check_page(url, self.cookie, marker, htmx=htmx)
        return wrk(url, self.cookie, ("HX-Request: true",) if htmx else ())

    def cold_overhead(self, sandbox_token: str, orders: list[int]) -> dict[str, float]:
        """Cold order pages (nothing cached but the token and the catalogue) against the same
        order fetched straight from the sandbox: the page's own overhead over Clopos' latency."""
        return cold_summary([self.cold_sample(sandbox_token, order_id) for order_id in orders])

    def cold_sample(self, sandbox_token: str, order_id: int) -> ColdSample:
        """One cold order page, then the same order straight from the sandbox."""
        before = stats(self.sandbox)
        started = time.perf_counter()
        response = self.session.get(f"{self.app.base_url}/orders/{order_id}/", timeout=30)
        page = time.perf_counter() - started
        assert response.status_code == 200, response.status_code
        # A page whose lines lack names also asks Clopos for their products (not cached yet):
        # two upstream calls or more, against the one direct call below.
        one_call = calls_between(before, stats(self.sandbox)) == {"order": 1}
        started = time.perf_counter()
        requests.get(
            f"{self.sandbox.base_url}/v2/orders/{order_id}",
            params={"with[0]": "receipt:id,service_notification_id,status"},
            headers={"x-token": sandbox_token},
            timeout=30,
        )
        return ColdSample(page, time.perf_counter() - started, one_call)

    def single_flight(self, order_id: int, count: int = 64) -> dict[str, int]:
        before = stats(self.sandbox).get("order", 0)
        barrier = threading.Barrier(count)
        codes: list[int] = []

        def view() -> None:
            barrier.wait()
            codes.append(
                requests.get(
                    f"{self.app.base_url}/orders/{order_id}/", headers={"Cookie": self.cookie}, timeout=60
                ).status_code
            )

        threads = [threading.Thread(target=view) for _ in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return {"ok": codes.count(200), "count": count, "order_calls": stats(self.sandbox).get("order", 0) - before}

    def stop(self) -> None:
        with profile_environ(self.profile):
            self.app.stop()


def sequential_p50(url: str, cookie: str, count: int = 100) -> float:
    """One client, one request at a time (keep-alive): the latency of a page on an idle machine,
    in ms. The cold overhead is measured this way, so C measured this way is its yardstick."""
    session = requests.Session()
    times = []
    for _ in range(count):
        started = time.perf_counter()
        response = session.get(url, headers={"Cookie": cookie}, timeout=30, allow_redirects=False)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, f"{url}: HTTP {response.status_code}"
    return statistics.median(times) * 1000


def sandbox_token(sandbox) -> str:
    answer = requests.post(
        f"{sandbox.base_url}/v2/auth",
        json={
            "client_id": "sandbox-client",
            "client_secret": "sandbox-secret",
            "brand": "kohnesheher",
            "integrator_id": "sandbox-integrator",
        },
        timeout=10,
    )
    return answer.json()["token"]


def clean(result: dict[str, float]) -> bool:
    return result["non2xx"] == 0 and result["errors"] == 0


def ratio(result: dict[str, float], base: dict[str, float]) -> str:
    if not (clean(result) and clean(base)):
        return "n/a"
    return f"{result['rps'] / base['rps']:.2f}"


def bench_sandbox():
    """The sandbox every benchmark runs against: no rate limits, its clock pinned to LIST_NOW."""
    sandbox = start_sandbox(port=0, auth_rate_limit=100_000, rate_limit=10_000_000)
    requests.post(
        f"{sandbox.control_url}/config", json={"now": LIST_NOW.isoformat(), "date_zone": "Asia/Baku"}, timeout=5
    ).raise_for_status()
    return sandbox


def main() -> None:
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk")
    tmp = Path(tempfile.mkdtemp(prefix="bench-"))
    sandbox = bench_sandbox()
    references = {"C": Reference(tmp), "C2": Reference(tmp, variant="c2", redis_url="redis://127.0.0.1:6379/11")}
    references["C"].prepare()
    for reference in references.values():
        reference.start()
    apps: dict[str, AppUnderTest] = {}
    try:
        apps["embedded"] = AppUnderTest("embedded", {}, sandbox, tmp)
        try:
            apps["production"] = AppUnderTest("production", PRODUCTION, sandbox, tmp)
        except Exception as exc:  # noqa: BLE001 - no PostgreSQL/Redis here: report and go on
            print(f"production profile skipped: {exc}")
        rows: dict[str, list[dict[str, float]]] = {}
        for _ in range(ROUNDS):
            c = references["C"]
            # A: the framework's own ceiling, whose p99/p50 is this sitting's floor for every page.
            check_page(f"{c.base_url}/plain", "", "ok")
            rows.setdefault(A_ROW, []).append(wrk(f"{c.base_url}/plain", ""))
            check_page(f"{c.base_url}/authed", c.cookie, "Section 6")
            rows.setdefault("C  login-required 8 KB template", []).append(wrk(f"{c.base_url}/authed", c.cookie))
            c2 = references["C2"]
            check_page(f"{c2.base_url}/authed", c2.cookie, "Section 6")
            rows.setdefault("C2 C + CONN_MAX_AGE, cached_db", []).append(wrk(f"{c2.base_url}/authed", c2.cookie))
            admin_url = f"{c.base_url}/admin/bench/order/1/change/"
            check_page(admin_url, c.cookie, "Change order")
            rows.setdefault("E  admin change view", []).append(wrk(admin_url, c.cookie))
            for name, app in apps.items():
                for scenario in app.scenarios:
                    rows.setdefault(f"{name}, {scenario}", []).append(app.run(scenario))
        token = sandbox_token(sandbox)
        cold = {
            name: app.cold_overhead(token, list(range(5120 + 20 * i, 5140 + 20 * i)))
            for i, (name, app) in enumerate(apps.items())
        }
        flight = {name: app.single_flight(5200 + i) for i, (name, app) in enumerate(apps.items())}
        c = references["C"]
        sequential = {"C": sequential_p50(f"{c.base_url}/authed", c.cookie)} | {
            name: sequential_p50(f"{app.app.base_url}/orders/4103/", app.cookie) for name, app in apps.items()
        }
    finally:
        for app in apps.values():
            app.stop()
        for reference in references.values():
            reference.stop()
        sandbox.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    print_table(rows, apps, cold, flight, sequential)


A_ROW = "A  plain HttpResponse (the ceiling)"


def tail_ratio(results: list[dict[str, float]]) -> float:
    """p99/p50, the median over the rounds."""
    return statistics.median(r["p99"] / r["p50"] for r in results)


def print_table(
    rows: dict[str, list[dict[str, float]]],
    apps: dict[str, AppUnderTest],
    cold: dict[str, dict[str, float]],
    flight: dict[str, dict[str, int]],
    sequential: dict[str, float],
) -> None:
    c_rows, e_rows = rows["C  login-required 8 KB template"], rows["E  admin change view"]
    print(f"\nwrk -t2 -c32 -d{WRK_SECONDS}s --latency, {ROUNDS} interleaved rounds; app: shipped gunicorn defaults")
    print(
        f"{'scenario':<44}{'rps (per round)':>18}{'p50 ms':>9}{'p99 ms':>9}{'p99/p50':>8}{'non-2xx':>8}{'err':>5}"
        f"{'÷ C':>13}{'÷ E':>14}"
    )
    for name, results in rows.items():
        rps = " / ".join(f"{r['rps']:.0f}" for r in results)
        to_c = " / ".join(ratio(r, c) for r, c in zip(results, c_rows, strict=True))
        to_e = " / ".join(ratio(r, e) for r, e in zip(results, e_rows, strict=True))
        p50 = statistics.median(r["p50"] for r in results)
        p99 = statistics.median(r["p99"] for r in results)
        non2xx = sum(r["non2xx"] for r in results)
        errors = sum(r["errors"] for r in results)
        print(
            f"{name:<44}{rps:>18}{p50:>9.1f}{p99:>9.1f}{tail_ratio(results):>8.2f}{non2xx:>8}{errors:>5}"
            f"{to_c:>13}{to_e:>14}"
        )
    print(
        f"\nThis sitting's tail floor, p99/p50 (median of the rounds): A {tail_ratio(rows[A_ROW]):.2f}, "
        f"C {tail_ratio(c_rows):.2f}"
    )
    for name, app in apps.items():
        warm = rows[f"{name}, warm order 4103"]
        print(
            f"\n{name}: warm order p99/p50 {tail_ratio(warm):.2f}; "
            f"cold order page p50 {cold[name]['page_p50']:.1f} ms vs the sandbox's own "
            f"{cold[name]['direct_p50']:.1f} ms: overhead {cold[name]['overhead_p50']:.1f} ms "
            f"({cold[name]['n']} cold orders; over the {cold[name]['one_call_n']} whose only upstream call was "
            f"the order: {cold[name]['one_call_overhead_p50']:.1f} ms, "
            f"{cold[name]['one_call_overhead_p50'] / sequential['C']:.2f}× C's one-request p50); "
            f"{flight[name]['count']} concurrent cold views of one order: "
            f"{flight[name]['ok']} x 200, {flight[name]['order_calls']} upstream order call(s); "
            f"start-up {app.startup:.2f} s; worker RSS " + ", ".join(f"{m:.0f}" for m in app.memory) + " MB; "
            f"cold list page: {app.cold_list_calls} (asserted: one list call; warm: none)"
        )
    print(
        "\nOne request at a time (the cold overhead's conditions), p50: C "
        f"{sequential['C']:.1f} ms; " + "; ".join(f"{name} warm order 4103 {sequential[name]:.1f} ms" for name in apps)
    )


if __name__ == "__main__":
    main()
