"""The audit journal: rows committed locally before the response, moved to the audit table in
batches, never lost and never doubled."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.db import DatabaseError
from django.utils import timezone

from audit import journal as journal_module
from audit.journal import CLAIM_SECONDS, Journal
from audit.models import AuditEntry

pytestmark = pytest.mark.django_db(transaction=True)


def entry(order_id: int) -> AuditEntry:
    return AuditEntry(username="manager", action="view_order", order_id=order_id, venue_id=3, ip_address="127.0.0.1")


@pytest.fixture
def local(tmp_path):
    return Journal(tmp_path / "audit-journal.sqlite3")


def test_append_commits_locally_and_drain_moves_the_rows(local):
    local.append([entry(4101), entry(4103)])

    assert local.pending() == 2
    assert not AuditEntry.objects.exists()
    assert local.drain() == 2

    assert local.pending() == 0
    assert sorted(AuditEntry.objects.values_list("order_id", flat=True)) == [4101, 4103]
    assert AuditEntry.objects.filter(entry_uuid__isnull=True).count() == 0


def test_a_row_survives_a_new_process_reading_the_same_file(local, tmp_path):
    local.append([entry(4105)])

    again = Journal(tmp_path / "audit-journal.sqlite3")  # another worker, or a restarted instance

    assert again.drain() == 1
    assert AuditEntry.objects.get().order_id == 4105


def test_a_drainer_dying_between_insert_and_delete_leaves_one_row(local):
    local.append([entry(4106)])
    real_execute = None

    def die_on_delete(connection):
        def execute(sql, *args):
            if sql.startswith("DELETE"):
                raise KeyboardInterrupt  # the worker is gone before it deletes its claim
            return real_execute(sql, *args)

        return execute

    connection = local._connection()
    real_execute = connection.execute
    with mock.patch.object(local, "_connection") as patched:
        patched.return_value = mock.Mock(execute=die_on_delete(connection))
        with pytest.raises(KeyboardInterrupt):
            local.drain()
    assert AuditEntry.objects.count() == 1
    assert local.pending() == 1

    with mock.patch("audit.journal.time.time", return_value=time.time() + CLAIM_SECONDS + 1):
        assert local.drain() == 1  # the dead drainer's claim expired; moved again

    assert AuditEntry.objects.count() == 1  # the same uuid: one row
    assert local.pending() == 0


def test_a_database_outage_keeps_the_rows_for_the_next_drain(local):
    local.append([entry(4102)])

    with (
        mock.patch("audit.journal._insert_once", side_effect=DatabaseError("down")),
        pytest.raises(DatabaseError),
    ):
        local.drain()

    assert local.pending() == 1
    assert local.drain() == 1  # claims released at once, not after CLAIM_SECONDS
    assert AuditEntry.objects.count() == 1


def test_a_moved_row_is_the_row_that_was_appended(local):
    user = get_user_model().objects.create_user("manager-journal", password="unused-password-1")
    when = timezone.now() - dt.timedelta(minutes=3)
    appended = AuditEntry(
        user=user,
        username="manager-journal",
        action="reveal_customer",
        order_id=9_000_000_001,
        venue_id=7,
        detail='phone ***4567 "<b>&</b>" Şəki \\ ',
        ip_address="2001:db8::1",
        created_at=when,
    )
    local.append([appended, AuditEntry(username="anonymous", action="view_order", created_at=when)])

    assert local.drain() == 2

    moved = AuditEntry.objects.order_by("id").values(*journal_module.FIELDS)
    assert list(moved) == [
        {name: getattr(appended, name) for name in journal_module.FIELDS},
        {
            "created_at": when,
            "user_id": None,
            "username": "anonymous",
            "action": "view_order",
            "order_id": None,
            "venue_id": None,
            "detail": "",
            "ip_address": None,
        },
    ]


def test_a_user_deleted_before_the_drain_does_not_block_the_journal(local):
    # Its foreign key would fail the batch, and every later drain with it: the journal would
    # never empty. The row is kept without the user, as SET_NULL keeps moved rows.
    user = get_user_model().objects.create_user("leaver", password="unused-password-1")
    local.append([AuditEntry(user=user, username="leaver", action="view_order", order_id=4101, venue_id=3)])
    local.append([entry(4103)])
    user.delete()

    assert local.drain() == 2

    assert local.pending() == 0
    leaver = AuditEntry.objects.get(order_id=4101)
    assert (leaver.user_id, leaver.username) == (None, "leaver")


def test_claimed_rows_are_not_taken_by_a_second_drainer(local):
    local.append([entry(n) for n in range(4101, 4111)])
    connection = local._connection()
    connection.execute("UPDATE pending SET claimed_by = 'other', claimed_at = ? WHERE id <= 4", (time.time(),))

    assert local.drain() == 6
    assert local.pending() == 4


def test_views_record_through_the_journal_when_one_is_configured(settings, tmp_path, api, client_for):
    settings.AUDIT_JOURNAL_DIR = str(tmp_path)
    journal_module._journal = None
    with mock.patch("audit.journal.ensure_drainer") as drainer:
        response = client_for("manager").get("/orders/4103/")
    try:
        assert response.status_code == 200
        assert not AuditEntry.objects.exists()  # not in the table yet...
        assert journal_module.journal().pending() == 1  # ...but on disk before the page left
        drainer.assert_called_once()
        assert journal_module.journal().drain() == 1
        row = AuditEntry.objects.get()
        assert (row.action, row.order_id, row.username) == ("view_order", 4103, "manager")
        assert row.user == get_user_model().objects.get(username="manager")
    finally:
        journal_module._journal = None


# --- One file per worker process ------------------------------------------------------------


@pytest.fixture
def journal_dir(settings, tmp_path, monkeypatch):
    settings.AUDIT_JOURNAL_DIR = str(tmp_path)
    monkeypatch.setattr(journal_module, "_journal", None)
    monkeypatch.setattr(journal_module, "_known", {})
    return tmp_path


def as_worker(monkeypatch, pid: int) -> Journal:
    """This test's process, seen as the gunicorn worker `pid`."""
    monkeypatch.setattr(journal_module.os, "getpid", lambda: pid)
    own = journal_module.journal()
    assert own is not None
    return own


def test_each_worker_appends_to_a_file_of_its_own_and_any_drainer_moves_them_all(journal_dir, monkeypatch):
    first = as_worker(monkeypatch, 101)
    first.append([entry(1)])
    second = as_worker(monkeypatch, 102)
    second.append([entry(2), entry(3)])

    assert first.path != second.path
    assert sorted(p.name for p in journal_dir.glob("*.sqlite3")) == [
        "audit-journal-101.sqlite3",
        "audit-journal-102.sqlite3",
    ]
    # Worker 101 was killed: worker 102's drainer moves its rows too.
    moved = sum(each.drain() for each in journal_module.journals())

    assert moved == 3
    assert sorted(AuditEntry.objects.values_list("order_id", flat=True)) == [1, 2, 3]
    assert first.pending() == second.pending() == 0


def test_the_shared_file_of_an_older_version_is_drained_too(journal_dir):
    Journal(journal_dir / "audit-journal.sqlite3").append([entry(7)])

    assert sum(each.drain() for each in journal_module.journals()) == 1
    assert AuditEntry.objects.get().order_id == 7


def test_a_retiring_worker_moves_its_rows_and_removes_its_file(journal_dir, monkeypatch):
    own = as_worker(monkeypatch, 201)
    own.append([entry(11)])
    as_worker(monkeypatch, 202).append([entry(12)])
    monkeypatch.setattr(journal_module.os, "getpid", lambda: 201)

    journal_module.retire()

    assert list(AuditEntry.objects.values_list("order_id", flat=True)) == [11]
    assert not own.path.exists() and not Path(f"{own.path}-wal").exists()
    assert [j.path.name for j in journal_module.journals()] == ["audit-journal-202.sqlite3"]  # not another's


def _claimed_by_another_drainer(journal: Journal) -> None:
    """Another drainer's claim on every row, as `drain` takes it before it moves them."""
    with journal_module.one_writer_at_a_time(journal.path):
        journal._connection().execute("UPDATE pending SET claimed_by = 'other', claimed_at = ?", (time.time(),))


def test_a_retiring_worker_waits_for_another_drainers_claim_then_removes_its_file(journal_dir, monkeypatch):
    """Both workers of an instance stopping at once: the other's drainer is moving this worker's
    rows as it retires (a full run left both files behind so)."""
    own = as_worker(monkeypatch, 251)
    own.append([entry(15)])
    _claimed_by_another_drainer(own)
    waits = []

    def the_other_drainer_finishes(seconds):
        waits.append(seconds)
        with journal_module.one_writer_at_a_time(own.path):
            own._connection().execute("DELETE FROM pending WHERE claimed_by = 'other'")  # its rows moved

    monkeypatch.setattr(journal_module.time, "sleep", the_other_drainer_finishes)

    journal_module.retire()

    assert len(waits) == 1
    assert not own.path.exists() and not Path(f"{own.path}-wal").exists()


def test_a_retiring_worker_does_not_wait_for_ever_on_a_dead_drainers_claim(journal_dir, monkeypatch):
    own = as_worker(monkeypatch, 252)
    own.append([entry(16)])
    _claimed_by_another_drainer(own)  # and that drainer died
    monkeypatch.setattr(journal_module, "RETIRE_WAIT_SECONDS", 0.2)

    started = time.monotonic()
    journal_module.retire()

    assert time.monotonic() - started < 5
    assert own.path.exists() and own.pending() == 1  # for the other workers, once the claim is stale


def test_a_retiring_worker_keeps_its_file_while_the_database_is_away(journal_dir, monkeypatch):
    own = as_worker(monkeypatch, 301)
    own.append([entry(21)])

    with mock.patch("audit.journal._insert_once", side_effect=DatabaseError("away")):
        journal_module.retire()

    assert own.path.exists() and own.pending() == 1  # for the other workers' drainers


def test_a_file_made_again_under_the_same_name_is_drained(journal_dir, monkeypatch):
    """A retired worker's pid reused by a new worker: the new file is a new file, and a drainer
    that knew the old one still finds its rows."""
    old = as_worker(monkeypatch, 401)
    old.append([entry(31)])
    drainers_view = journal_module.journals()[0]
    assert drainers_view.drain() == 1  # the drainer has a connection to the old file
    journal_module.retire()
    assert not old.path.exists()

    monkeypatch.setattr(journal_module, "_journal", None)  # a new worker with the same pid
    as_worker(monkeypatch, 401).append([entry(32)])

    assert drainers_view.drain() == 1
    assert sorted(AuditEntry.objects.values_list("order_id", flat=True)) == [31, 32]


def test_a_drainer_never_makes_again_a_file_retired_while_it_looked(journal_dir, monkeypatch):
    """The race a full run met: worker 502's drainer lists worker 501's file and sees it there;
    then 501 retires it (rows moved, files removed); 502's drain must not make the journal or its
    lock file again (a file that nobody would ever remove)."""
    own = as_worker(monkeypatch, 501)
    own.append([entry(41)])
    drainers_view = journal_module.journals()[0]
    real_exists = Path.exists
    retired: list[bool] = []

    def retired_right_after_looking(path, *args, **kwargs):
        seen = real_exists(path, *args, **kwargs)
        if path == own.path and seen and not retired:
            retired.append(True)
            monkeypatch.setattr(journal_module.os, "getpid", lambda: 501)
            journal_module.retire()
            monkeypatch.setattr(journal_module.os, "getpid", lambda: 502)  # another process
        return seen

    monkeypatch.setattr(journal_module.os, "getpid", lambda: 502)
    monkeypatch.setattr(Path, "exists", retired_right_after_looking)

    assert drainers_view.drain() == 0
    monkeypatch.undo()

    assert retired == [True]
    assert sorted(p.name for p in journal_dir.iterdir() if p.name.startswith("audit-journal-501")) == []
    assert list(AuditEntry.objects.values_list("order_id", flat=True)) == [41]


def _append_from_threads(path: str, threads: int, rows: int, base: int) -> int:
    """In one process: `threads` threads append `rows` rows each to the journal at `path`, with
    SQLite told not to wait at all for a lock; returns how many appends failed."""
    import sqlite3
    import threading

    errors: list[Exception] = []
    local = Journal(Path(path))
    real_connect = sqlite3.connect

    def impatient(*args, **kwargs):
        return real_connect(*args, **(kwargs | {"timeout": 0}))

    def work(offset: int) -> None:
        for n in range(rows):
            try:
                local.append([entry(base + offset * rows + n)])
            except sqlite3.OperationalError as exc:  # "database is locked"
                errors.append(exc)

    with mock.patch("audit.journal.sqlite3.connect", impatient):
        workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    return len(errors)


def test_concurrent_writers_queue_instead_of_finding_the_journal_locked(tmp_path):
    """Writers in several processes and threads never meet a locked journal: they queue on the
    writer lock (threads) and its flock (processes) rather than on SQLite's sleeping retries, so
    even a writer that will not wait a millisecond for SQLite never fails. Without the queue,
    this is hundreds of "database is locked" errors."""
    import multiprocessing

    path = tmp_path / "audit-journal.sqlite3"
    Journal(path).pending()  # the file and its table exist before the race
    with multiprocessing.get_context("fork").Pool(3) as pool:
        failed = pool.starmap(_append_from_threads, [(str(path), 6, 40, 100_000 * (p + 1)) for p in range(3)])

    assert failed == [0, 0, 0]
    assert Journal(path).pending() == 3 * 6 * 40
