"""Where a cold order page's time goes: `make bench-cold`.

`make bench` measures the cold order page's overhead over Clopos through gunicorn; this says
where that time goes. Per profile, in one process (Django's test client: no gunicorn and no HTTP
in front, so every part is timed from inside), it opens cold order pages (nothing cached but the
token and the catalogue) and splits each page's time into:

- the order's fetch and fill (`services.order_get`: the cache reads, the single-flight lock, the
  rate budget, the Clopos call and the cache writes), against the same order fetched from the
  sandbox straight over a keep-alive connection, as the client's own;
- the main block's first render (the part of the page that is the order's own);
- the rest of the page's render (header, navigation, title: kept per process once rendered);
- everything else (middleware, session, user, audit row, response).

It also counts the shared cache's round trips per page (Redis commands or pipelines sent; on the
embedded profile, where the cache is the database, SQL statements) and gives a warm view of
order 4103, the floor every page pays. Pages that also fetched products for unnamed lines are
left out of the split (their count is printed). Figures, not a test: `make test` runs none of it.

BENCH_PROFILES="production" (or "embedded") runs one profile; BENCH_COLD_PAGES sets how many.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.bench.bench_pages import (  # noqa: E402
    BENCH_APP_ENV,
    PRODUCTION,
    bench_sandbox,
    calls_between,
    profile_environ,
    sandbox_token,
)
from tests.live import LiveApp  # noqa: E402

PROFILES = {"embedded": {}, "production": PRODUCTION}
PAGES = int(os.environ.get("BENCH_COLD_PAGES", "40"))
FIRST_COLD_ORDER = 5120  # the sandbox's orders from here on are never opened before the run
WARM_VIEWS = 300


def main() -> None:
    profiles = [name for name in os.environ.get("BENCH_PROFILES", "embedded,production").split(",") if name]
    tmp = Path(tempfile.mkdtemp(prefix="bench-cold-"))
    sandbox = bench_sandbox()
    try:
        for name in profiles:
            with profile_environ(PROFILES[name]):
                app = LiveApp(sandbox_url=sandbox.base_url, tmp_dir=tmp, name=f"bench-cold-{name}")
                app.extra_env.update(BENCH_APP_ENV)
                try:
                    app.prepare()
                    app.clear_cache()
                except Exception as exc:  # noqa: BLE001 - no PostgreSQL/Redis here: report and go on
                    print(f"{name} profile skipped: {exc}")
                    continue
                env = app.env() | {
                    "BENCH_COLD_PROFILE": name,
                    "BENCH_SANDBOX_CONTROL": sandbox.control_url,
                    "BENCH_SANDBOX_TOKEN": sandbox_token(sandbox),
                }
            subprocess.run([sys.executable, "-m", "tests.bench.bench_cold"], cwd=ROOT, env=env, check=True)
    finally:
        sandbox.stop()
        shutil.rmtree(tmp, ignore_errors=True)


class Split:
    """Wall time of some functions, summed per page, and the cache round trips."""

    def __init__(self) -> None:
        self.page: dict[str, float] = {}
        self.pages: list[dict[str, float]] = []

    def wrap(self, module: Any, name: str, part: str, when: Callable[..., bool] = lambda *a: True) -> None:
        original = getattr(module, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            if not when(*args):
                return original(*args, **kwargs)
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.add(part, time.perf_counter() - started)

        setattr(module, name, timed)

    def add(self, part: str, value: float) -> None:
        self.page[part] = self.page.get(part, 0.0) + value

    def end_page(self, **facts: float) -> None:
        self.pages.append(self.page | facts)
        self.page = {}

    def p50(self, part: str, pages: list[dict[str, float]]) -> float:
        return statistics.median(page.get(part, 0.0) for page in pages)


def measure(profile: str) -> None:
    """Runs in a process of its own, configured by the parent's LiveApp environment."""
    import django

    django.setup()
    import redis.connection
    import requests
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from console import fragments
    from orders import services

    split = Split()
    split.wrap(services, "order_get", "fetch")
    split.wrap(fragments, "render_kept_page", "page render")
    # The main block's render, inside the page's: "page render" minus it is the rest of the page.
    # (The template asks for the block twice; the second call is a per-process hit.)
    split.wrap(fragments, "render_cached", "main block", when=lambda _request, template, *_: "order-main" in template)
    send = redis.connection.AbstractConnection.send_packed_command

    def counted_send(self: Any, *args: Any, **kwargs: Any) -> Any:
        split.add("redis round trips", 1)
        return send(self, *args, **kwargs)

    redis.connection.AbstractConnection.send_packed_command = counted_send  # type: ignore[method-assign]

    def counted_sql(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        split.add("sql statements", 1)
        return execute(sql, params, many, context)

    control = os.environ["BENCH_SANDBOX_CONTROL"]

    def upstream_calls() -> dict[str, int]:
        return requests.get(f"{control}/stats", timeout=5).json()["requests"]

    client = Client(headers={"host": "127.0.0.1"})
    client.force_login(get_user_model().objects.get(username="manager"))
    assert client.get("/orders/4103/").status_code == 200  # the token and the catalogue
    sandbox_url, token = os.environ["CLOPOS_BASE_URL"], os.environ["BENCH_SANDBOX_TOKEN"]
    straight = requests.Session()
    split.end_page()
    split.pages.clear()
    with connection.execute_wrapper(counted_sql):
        for order_id in range(FIRST_COLD_ORDER, FIRST_COLD_ORDER + PAGES):
            before = upstream_calls()
            started = time.perf_counter()
            response = client.get(f"/orders/{order_id}/")
            total = time.perf_counter() - started
            assert response.status_code == 200, (order_id, response.status_code)
            only_the_order = calls_between(before, upstream_calls()) == {"order": 1}
            started = time.perf_counter()
            direct = straight.get(
                f"{sandbox_url}/v2/orders/{order_id}",
                params={"with[0]": "receipt:id,service_notification_id,status"},
                headers={"x-token": token},
                timeout=5,
            )
            upstream = time.perf_counter() - started
            assert direct.status_code == 200, direct.status_code
            split.end_page(total=total, upstream=upstream, only_the_order=float(only_the_order))
        cold = [page for page in split.pages if page["only_the_order"]]
        split.pages.clear()
        warm = []
        for _ in range(WARM_VIEWS):
            started = time.perf_counter()
            assert client.get("/orders/4103/").status_code == 200
            warm.append(time.perf_counter() - started)
            split.end_page()
        warm_trips = split.pages

    def ms(seconds: float) -> str:
        return f"{seconds * 1000:.2f} ms"

    page, fetch, upstream = (split.p50(part, cold) for part in ("total", "fetch", "upstream"))
    main_block, page_render = split.p50("main block", cold), split.p50("page render", cold)
    rest = statistics.median(p["total"] - p.get("fetch", 0.0) - p.get("page render", 0.0) for p in cold)
    print(
        f"\n{profile}: {len(cold)} of {PAGES} cold order pages made only the order call (the rest also "
        f"fetched products); p50 over those, in one process:\n"
        f"  whole page {ms(page)}; Clopos straight (keep-alive) {ms(upstream)}: overhead {ms(page - upstream)}\n"
        f"  fetch and fill {ms(fetch)} (over Clopos: {ms(fetch - upstream)})\n"
        f"  main block, first render {ms(main_block)}; the rest of the page's render {ms(page_render - main_block)}\n"
        f"  everything else (middleware, session, user, audit row, response) {ms(rest)}\n"
        f"  shared-cache round trips per cold page: {split.p50('redis round trips', cold):.0f} Redis, "
        f"{split.p50('sql statements', cold):.0f} SQL; per warm page: "
        f"{split.p50('redis round trips', warm_trips):.0f} Redis, {split.p50('sql statements', warm_trips):.0f} SQL\n"
        f"  warm order 4103 (the floor every page pays): {ms(statistics.median(warm))}"
    )


if __name__ == "__main__":
    if profile := os.environ.get("BENCH_COLD_PROFILE"):
        measure(profile)
    else:
        main()
