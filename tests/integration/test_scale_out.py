"""Several workers and several app instances share one token, one cache and one rate budget.

On the production profile the instances share PostgreSQL and Redis; on the embedded default
they share the SQLite file and its database cache.
"""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from sandbox.data import sample_ids
from tests.live import LiveApp

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def instances(sandbox_handle, tmp_path_factory):
    """Two gunicorn instances (2 workers each) of one deployment, with a small shared budget."""
    tmp = tmp_path_factory.mktemp("scale")
    env = {
        "CLOPOS_RATE_BUDGET_PER_MINUTE": "30",  # 4 calls per 10 s window, for all instances together
        # Out of reach: these instances measure the shared budget, not the per-user one.
        "CLOPOS_USER_BUDGET_PER_WINDOW": "1000",
        "CLOPOS_USER_BUDGET_PER_MINUTE": "1000",
    }
    apps = [
        LiveApp(
            sandbox_url=sandbox_handle.base_url,
            tmp_dir=tmp,
            name="scale",
            extra_env=env
            | {
                "GUNICORN_ACCESSLOG": str(tmp / f"access-{n}.log"),
            },
        )
        for n in (1, 2)
    ]
    apps[0].prepare()
    for app in apps:
        app.start()
    yield apps
    for app in apps:
        app.stop()


@pytest.fixture
def fresh(instances, sandbox):
    instances[0].clear_cache()  # one shared cache for both
    return instances


def serving_pids(app: LiveApp) -> set[str]:
    """Worker pids that served an order page, from both instances' access logs."""
    lines = []
    for path in app.tmp_dir.glob("access-*.log"):
        lines += path.read_text().splitlines()
    # clopos_admin/gunicorn_logging.py: '<pid> client [time] "GET /orders/…" status bytes ms'
    return {match.group(1) for line in lines if (match := re.match(r'<(\d+)> \S+ \[[^]]+\] "GET /orders/', line))}


def test_workers_and_instances_share_one_token_and_one_cache(fresh, sandbox):
    first, second = fresh
    sessions = [first.login("manager"), second.login("manager")]
    order_id = 4103

    def view(i: int) -> int:
        app, session = (first, sessions[0]) if i % 2 == 0 else (second, sessions[1])
        return session.get(f"{app.base_url}/orders/{order_id}/", timeout=15).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(view, range(24)))

    assert statuses == [200] * 24
    stats = sandbox.stats()["requests"]
    assert stats["auth"] == 1, "every worker of every instance reuses the one shared token"
    assert stats["order"] == 1, "one order call for 24 views across 4 worker processes"
    pids = serving_pids(first)
    assert len(pids) >= 3, f"the views were spread over several worker processes: {pids}"
    print(
        f"\n24 views over {len(pids)} worker processes in 2 instances: "
        f"auth calls {stats['auth']}, order calls {stats['order']}"
    )


def test_instances_share_one_rate_budget(fresh, sandbox):
    first, second = fresh
    sessions = [first.login("manager"), second.login("manager")]
    orders = sample_ids()["DELIVERED"][:20]

    def view(i: int):
        app, session = (first, sessions[0]) if i % 2 == 0 else (second, sessions[1])
        return session.get(f"{app.base_url}/orders/{orders[i]}/", timeout=15)

    first_window = time.time() // 10
    with ThreadPoolExecutor(max_workers=6) as pool:
        responses = list(pool.map(view, range(len(orders))))
    windows = int(time.time() // 10 - first_window) + 1

    upstream = sum(v for k, v in sandbox.stats()["requests"].items() if k != "auth")
    busy = [r for r in responses if r.status_code == 503]
    # At most 4 calls per 10 s window touched, whichever instance makes them (a quick burst
    # touches two windows: 8 calls; a loaded machine may stretch it over more).
    assert upstream <= 4 * windows, f"{upstream} calls in {windows} window(s): the instances did not share the budget"
    assert busy, "the burst should have spent the budget"
    assert all("Clopos is busy" in r.text and 1 <= int(r.headers["Retry-After"]) <= 10 for r in busy)
    assert all(r.status_code in (200, 503) for r in responses)
    print(f"\nburst of {len(orders)} views over 2 instances: {upstream} upstream calls, {len(busy)} answered busy")
