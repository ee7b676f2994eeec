"""One user cannot spend the brand's Clopos budget (issue 9's attack, against gunicorn + sandbox).

The attack: a support user fires 60 lookups of unknown ids in well under a second. Before, 33
reached Clopos and then every user of the brand got "Clopos is busy". Now the user's own budget
(CLOPOS_USER_BUDGET_PER_WINDOW, 6 per 10 s) stops them: that user alone gets 429 with
Retry-After, and a manager opening an uncached order at the same moment is served.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

pytestmark = pytest.mark.integration

PER_WINDOW = 6  # settings.py CLOPOS_USER_BUDGET_PER_WINDOW default
WINDOW = 10


def test_one_user_flooding_unknown_ids_is_throttled_alone(live_app, sandbox):
    prober = live_app.login("support")
    manager = live_app.login("manager")
    cookies = prober.cookies.get_dict()

    def probe(n: int) -> tuple[int, str | None]:
        response = requests.get(
            f"{live_app.base_url}/orders/{990000 + n}/", cookies=cookies, timeout=30, allow_redirects=False
        )
        return response.status_code, response.headers.get("Retry-After")

    before = sandbox.calls("order")
    started = time.time()
    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(probe, range(60)))
        # In the middle of the flood, another user opens an order nobody has cached.
        during = manager.get(f"{live_app.base_url}/orders/5019/", timeout=30)
    windows = int(time.time() // WINDOW - started // WINDOW) + 1
    upstream = sandbox.calls("order") - before
    statuses = sorted({status for status, _ in answers})
    print(f"\nflood: 60 unknown ids, {upstream} reached Clopos in {windows} window(s), answers {statuses}")

    assert during.status_code == 200
    assert upstream <= PER_WINDOW * windows + 1  # the manager's own order call
    assert set(statuses) <= {404, 429}
    throttled = [retry for status, retry in answers if status == 429]
    assert len(throttled) >= 60 - PER_WINDOW * windows
    assert all(retry is not None and 1 <= int(retry) <= 60 for retry in throttled)
    # The prober's next uncached page is still refused; a page they can read from the cache is not.
    again = prober.get(f"{live_app.base_url}/orders/990999/", timeout=30)
    assert again.status_code == 429
    assert "You have opened many pages that need Clopos in a short time." in again.text
