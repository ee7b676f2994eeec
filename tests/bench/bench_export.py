"""Receipts, customers and export figures (`make bench-export`), measured in one sitting:

* the receipts list page (100 rows): cold (cache emptied, one upstream call) and warm, median of
  repeated loads, and the warm page's throughput with wrk against /healthz as the baseline;
* a 5,000-row receipts export from the sandbox's living dataset, CSV and XLSX, end to end over
  HTTP: rows per second, time to the first byte, upstream calls by endpoint, and the worker's
  peak resident memory (VmHWM, one gunicorn worker) against the same figure for a 1,000-row export
  (memory must not grow with rows). Run twice: with the shipped rate budget (240/min, exports at
  low priority: the budget is the limit) and with the budget out of the way (the app's own speed);
* upstream calls per customer search (phone, name, repeated), from the sandbox's counters.

Embedded profile (SQLite + the database cache), the sandbox clock pinned to 27 Nov 2026.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from sandbox import living, start_sandbox  # noqa: E402
from tests.live import LiveApp  # noqa: E402

BAKU = ZoneInfo("Asia/Baku")
NOW = dt.datetime(2026, 11, 27, 14, 0, tzinfo=BAKU)
DAY = dt.date(2026, 11, 26)
TARGET_ROWS = 5000


def shift_receipts(first: dt.date, last: dt.date) -> int:
    t = NOW.timestamp()
    days = [first + dt.timedelta(days=n) for n in range((last - first).days + 2)]
    return sum(
        1
        for d in days
        for r in living.living_day(d).receipts
        if r.opened <= t and first.isoformat() <= r.shift_date <= last.isoformat()
    )


def range_of(rows: int) -> tuple[dt.date, int]:
    """The first day of a range ending on DAY that holds at least `rows` receipts, and how many."""
    first = DAY
    while (count := shift_receipts(first, DAY)) < rows:
        first -= dt.timedelta(days=1)
    return first, count


def stats(sandbox) -> dict[str, int]:
    return requests.get(f"{sandbox.control_url}/stats", timeout=5).json()["requests"]


def worker_pids(app: LiveApp) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(app.process.pid)], capture_output=True, text=True).stdout
    return [int(pid) for pid in out.split()]


def memory_kb(pid: int, field: str) -> int:
    text = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(rf"{field}:\s+(\d+) kB", text).group(1))


def wrk_rps(url: str, cookie: str | None = None, seconds: int = 5) -> float:
    header = ["-H", f"Cookie: {cookie}"] if cookie else []
    subprocess.run(["wrk", "-t2", "-c16", "-d2s", *header, url], capture_output=True, check=True)
    out = subprocess.run(["wrk", "-t2", "-c16", f"-d{seconds}s", *header, url], capture_output=True, text=True).stdout
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def timed_get(session: requests.Session, url: str, **kwargs) -> tuple[float, requests.Response]:
    started = time.perf_counter()
    response = session.get(url, timeout=120, **kwargs)
    return time.perf_counter() - started, response


def export(app: LiveApp, sandbox, session: requests.Session, fmt: str, first: dt.date) -> dict[str, float]:
    """One export, streamed; the worker's peak RSS before and after (a fresh worker each time)."""
    app.stop()
    app.start()
    app.clear_cache()
    session.get(f"{app.base_url}/receipts/", params={"day": DAY.isoformat()}, timeout=30)  # token, catalogue
    (pid,) = worker_pids(app)
    before_hwm = memory_kb(pid, "VmHWM")
    calls_before = stats(sandbox)
    started = time.perf_counter()
    first_byte = None
    size = 0
    with session.get(
        f"{app.base_url}/receipts/export.{fmt}",
        params={"from": first.isoformat(), "to": DAY.isoformat()},
        stream=True,
        timeout=300,
    ) as response:
        assert response.status_code == 200, response.text[:300]
        body = bytearray()
        for chunk in response.iter_content(65536):
            if first_byte is None:
                first_byte = time.perf_counter() - started
            body += chunk
            size += len(chunk)
    elapsed = time.perf_counter() - started
    if fmt == "csv":
        rows = body.count(b"\r\n") - 1
        failed = b"\r\nERROR," in body
    else:
        import io

        import openpyxl

        sheet = openpyxl.load_workbook(io.BytesIO(bytes(body)), read_only=True).active
        values = list(sheet.iter_rows(values_only=True))
        rows, failed = len(values) - 1, values[-1][0] == "ERROR"
    after = stats(sandbox)
    return {
        "rows": rows,
        "failed": failed,
        "seconds": elapsed,
        "first_byte": first_byte or elapsed,
        "rows_per_s": rows / elapsed,
        "mb": size / 1e6,
        "peak_rss_mb": memory_kb(pid, "VmHWM") / 1024,
        "peak_growth_mb": (memory_kb(pid, "VmHWM") - before_hwm) / 1024,
        "calls": {k: after[k] - calls_before[k] for k in ("receipts", "customers") if after[k] - calls_before[k]},
    }


def main() -> None:
    first_5k, count_5k = range_of(TARGET_ROWS)
    first_1k, count_1k = range_of(1000)
    print(f"export ranges: {first_5k}..{DAY} = {count_5k} receipts; {first_1k}..{DAY} = {count_1k} receipts")
    sandbox = start_sandbox(port=0, auth_rate_limit=10_000, now=NOW.isoformat())
    tmp = Path(tempfile.mkdtemp(prefix="bench-export-"))
    common = {"GUNICORN_WORKERS": "1", "CLOPOS_USER_BUDGET_PER_WINDOW": "1000", "CLOPOS_USER_BUDGET_PER_MINUTE": "1000"}
    shipped = LiveApp(sandbox_url=sandbox.base_url, tmp_dir=tmp, name="bench", workers=1, extra_env=dict(common))
    unbounded = LiveApp(
        sandbox_url=sandbox.base_url,
        tmp_dir=tmp,
        name="bench",
        workers=1,
        extra_env=common | {"CLOPOS_RATE_BUDGET_PER_MINUTE": "100000", "CUSTOMER_SEARCH_RATE_PER_USER": "1000/m"},
    )
    try:
        shipped.prepare()
        shipped.start()
        session = shipped.login("manager")
        cookie = "; ".join(f"{k}={v}" for k, v in session.cookies.items())

        # --- The receipts list page -------------------------------------------------------------
        list_url = f"{shipped.base_url}/receipts/?day={DAY.isoformat()}"
        cold, warm = [], []
        for _ in range(7):
            shipped.clear_cache()
            # Another day's page first: the token and the catalogue (venues, sale types, payment
            # methods) are cached, so the page measured costs its one list call.
            session.get(f"{shipped.base_url}/receipts/?day={(DAY - dt.timedelta(days=10)).isoformat()}", timeout=30)
            before = stats(sandbox)["receipts"]
            seconds, response = timed_get(session, list_url)
            assert response.status_code == 200 and 'data-source="live"' in response.text
            assert stats(sandbox)["receipts"] - before == 1
            cold.append(seconds)
            for _ in range(3):
                seconds, response = timed_get(session, list_url)
                assert 'data-source="cached"' in response.text
                warm.append(seconds)
        rows_on_page = response.text.count("data-receipt-row=")
        baseline = wrk_rps(f"{shipped.base_url}/healthz")
        warm_rps = wrk_rps(list_url, cookie)
        print(f"\nreceipts list page ({rows_on_page} rows), one gunicorn worker (gthread), embedded profile")
        print(f"  cold: median {statistics.median(cold) * 1000:.0f} ms (1 upstream call, asserted)")
        warm_ms = statistics.median(warm) * 1000
        print(f"  warm: median {warm_ms:.0f} ms; wrk {warm_rps:.0f} rps vs /healthz {baseline:.0f}")

        # --- Upstream calls per customer search -----------------------------------------------
        print("\nupstream calls per customer search (sandbox counters)")
        for label, query in (
            ("phone 050 333 22 11 (8 stored forms, one request)", "050 333 22 11"),
            ("the same phone typed +994503332211 (cached)", "+994503332211"),
            ("name İSMAYIL", "İSMAYIL"),
        ):
            before = stats(sandbox)
            response = session.get(f"{shipped.base_url}/customers/", params={"q": query}, timeout=30)
            after = stats(sandbox)
            used = {k: after[k] - before[k] for k in after if after[k] - before[k]}
            found = len(re.findall(r"data-customer-row=", response.text))
            print(f"  {label}: {used or 'no call'}; {found} found")

        # --- Exports ---------------------------------------------------------------------------
        print(f"\nexports, shipped rate budget (240/min, exports at low priority), range {first_5k}..{DAY}")
        for fmt in ("csv", "xlsx"):
            for first in (first_1k, first_5k):
                result = export(shipped, sandbox, session, fmt, first)
                report(fmt, result)
        shipped.stop()

        unbounded.start()
        session = unbounded.login("manager")
        requests.post(f"{sandbox.control_url}/config", json={"rate_limit": 100000}, timeout=5).raise_for_status()
        print("\nexports, rate budget out of the way (the app's and the sandbox's own speed)")
        for fmt in ("csv", "xlsx"):
            for first in (first_1k, first_5k):
                report(fmt, export(unbounded, sandbox, session, fmt, first))
    finally:
        shipped.stop()
        unbounded.stop()
        sandbox.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def report(fmt: str, r: dict) -> None:
    print(
        f"  {fmt.upper():4} {r['rows']:5d} rows{' FAILED' if r['failed'] else ''}: {r['seconds']:.1f} s, "
        f"{r['rows_per_s']:.0f} rows/s, first byte {r['first_byte']:.2f} s, {r['mb']:.1f} MB; "
        f"worker peak RSS {r['peak_rss_mb']:.0f} MB (+{r['peak_growth_mb']:.1f} MB during the export); "
        f"calls {r['calls']}"
    )


if __name__ == "__main__":
    main()
