"""No audit row is lost when a worker is killed (SIGKILL) right after answering (issue 13).

The row is committed before the response leaves, to the instance's local journal, where the next
worker moves it to the audit table on its own (gunicorn's post_worker_init starts its drainer).
On the embedded profile the journal also keeps pages off SQLite's one write lock (issue 9).
"""

from __future__ import annotations

import os
import signal
import sqlite3
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.live import LiveApp, wait_until

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def one_worker(sandbox_handle, live_app, tmp_path_factory):
    app = LiveApp(
        sandbox_url=sandbox_handle.base_url,
        tmp_dir=tmp_path_factory.mktemp("durable"),
        name="durable",
        workers=1,
        extra_env={"GUNICORN_THREADS": "1"},  # one sync worker: its pid is the one that answered
    )
    app.prepare_like(live_app)
    app.start()
    yield app
    app.stop()


def worker_pids(app: LiveApp) -> list[int]:
    return [int(pid) for pid in Path(f"/proc/{app.process.pid}/task/{app.process.pid}/children").read_text().split()]


def audit_rows(app: LiveApp, order_id: int) -> int:
    out = app.manage(
        "shell",
        "-c",
        f"from audit.models import AuditEntry; print('ROWS', AuditEntry.objects.filter(order_id={order_id}).count())",
    )
    return int(out.split("ROWS")[-1].split()[0])


def test_a_worker_killed_right_after_answering_loses_no_audit_row(one_worker, sandbox):
    session = one_worker.login("manager")
    views = 5
    for _ in range(views):
        (worker,) = worker_pids(one_worker)
        response = session.get(f"{one_worker.base_url}/orders/4103/", timeout=30)
        assert response.status_code == 200
        os.kill(worker, signal.SIGKILL)  # the moment the page has arrived
        wait_until(
            lambda killed=worker: len(worker_pids(one_worker)) == 1 and worker_pids(one_worker) != [killed],
            timeout=30,
            what="gunicorn to replace the killed worker",
        )
        wait_until(lambda: requests_ok(one_worker), timeout=30, what="the new worker to answer")

    wait_until(lambda: audit_rows(one_worker, 4103) == views, timeout=30, interval=1, what="every view on record")
    assert audit_rows(one_worker, 4103) == views


def test_a_page_does_not_wait_for_the_database_write_lock(one_worker):
    """A login flood (its throttle's counters) or a budget spent on cold views keeps the embedded
    profile's cache writing, and SQLite has one write lock per file. A page's audit row goes to
    the journal, a file of its own, so the page is served while that lock is held; straight to the
    audit table it would wait for it (the busy timeout is 20 s)."""
    if one_worker.redis_url:
        pytest.skip("SQLite's write lock: the embedded profile")
    session = one_worker.login("manager")
    url = f"{one_worker.base_url}/orders/4103/"
    rows = audit_rows(one_worker, 4103)
    assert session.get(url, timeout=30).status_code == 200  # cached from here on
    before = rows + 1
    wait_until(lambda: audit_rows(one_worker, 4103) == before, timeout=30, interval=0.5, what="the first view moved")

    holder = sqlite3.connect(urlsplit(one_worker.database_url).path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # what every cache write of a flood does, held
    try:
        response = session.get(url, timeout=5)
        assert response.status_code == 200
        assert audit_rows(one_worker, 4103) == before  # the table is locked: the row waits...
    finally:
        holder.execute("ROLLBACK")
        holder.close()

    # ...in the journal, and reaches the table once the lock is free.
    wait_until(lambda: audit_rows(one_worker, 4103) == before + 1, timeout=30, interval=0.5, what="the row moved")


def test_workers_stopping_normally_leave_no_journal_behind(sandbox_handle, live_app, tmp_path):
    """Each worker journals to a file of its own; one that exits normally moves its last rows and
    removes its file (gunicorn's worker_exit), so files do not pile up with every restart."""
    app = LiveApp(sandbox_url=sandbox_handle.base_url, tmp_dir=tmp_path, name="retiring", workers=2)
    app.prepare_like(live_app)
    app.start()
    try:
        session = app.login("manager")
        for _ in range(6):
            assert session.get(f"{app.base_url}/orders/4103/", timeout=30).status_code == 200
        journal_dir = tmp_path / "journal-retiring"
        assert list(journal_dir.glob("audit-journal-*.sqlite3"))  # the workers' own files
    finally:
        app.stop()

    assert app.process.returncode is not None
    assert list(journal_dir.glob("audit-journal*.sqlite3*")) == []
    assert audit_rows(app, 4103) == 6


def requests_ok(app: LiveApp) -> bool:
    import requests

    try:
        return requests.get(f"{app.base_url}/healthz", timeout=5).status_code == 200
    except requests.RequestException:
        return False
