"""A local write-ahead journal for audit rows, so that recording a view costs the page a local
append instead of a round trip to the database, and no row is lost when a worker dies.

Each worker process of an app instance keeps a small SQLite file of its own in AUDIT_JOURNAL_DIR
(`audit-journal-<pid>.sqlite3`): its appends never queue behind another worker's (one shared
file made every page of the instance take one lock in turn, ~9 % of warm-page throughput,
issue 13). `append` writes the rows and commits before the response leaves: once the page is on
its way, the row is on disk, and a SIGKILL of the worker cannot take it back (SQLite's WAL is in
the operating system's hands). A daemon thread in every worker moves committed rows of every
journal in the directory to the audit table in batches (`drain`), so a killed worker's rows are
moved by the others: it claims them, inserts them with ON CONFLICT DO NOTHING on their uuid,
then deletes them; a drainer that dies mid-way leaves its claim to expire and the rows to the
next one, and a row inserted twice is one row. Rows reach the audit log page within about a
second. A worker that exits normally moves its last rows and removes its file (`retire`).

On both profiles: on the embedded one, a row inserted straight into the audit table waits for
SQLite's one write lock, which the shared cache's writes take too.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import DatabaseError, close_old_connections, connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field
from django.utils.dateparse import parse_datetime

from audit.models import AuditEntry

logger = logging.getLogger("audit.journal")

FIELDS = ("created_at", "user_id", "username", "action", "order_id", "venue_id", "detail", "ip_address")
CLAIM_SECONDS = 30  # a drainer that holds rows longer than this is presumed dead
RETIRE_WAIT_SECONDS = 2.0  # how long an exiting worker waits for another drainer's claim here
BATCH = 500


class JournalRetired(Exception):
    """The journal's owner removed its file (`retire`): nothing is left to drain."""


class Journal:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()

    def _connection(self, *, create: bool = True) -> sqlite3.Connection:
        # One connection per thread and per process (a forked worker opens its own), and per file:
        # a file removed by its retiring worker and made again under the same name (a reused pid)
        # is a new file, which a connection to the old one would never see. Only the owner
        # creates its file (`create`): a drainer that connected to a file its owner had just
        # retired would make it again, left behind for ever.
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        inode = _inode(self.path)
        if not create and inode is None:
            raise JournalRetired(self.path)
        if connection is None or getattr(self._local, "pid", None) != os.getpid() or self._local.inode != inode:
            if connection is not None:
                connection.close()
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=5, isolation_level=None, check_same_thread=False)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute(
                "CREATE TABLE IF NOT EXISTS pending (id INTEGER PRIMARY KEY, uuid TEXT NOT NULL, "
                "row TEXT NOT NULL, claimed_by TEXT, claimed_at REAL)"
            )
            self._local.connection, self._local.pid, self._local.inode = connection, os.getpid(), _inode(self.path)
        return connection

    def close(self) -> None:
        """This thread's connection (the file is about to be removed)."""
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None

    def append(self, entries: Iterable[AuditEntry]) -> None:
        """Commit the rows to the local journal (before the response leaves)."""
        rows = [(uuid.uuid4().hex, json.dumps(_as_row(entry), default=str)) for entry in entries]
        with one_writer_at_a_time(self.path):
            self._connection().executemany("INSERT INTO pending (uuid, row) VALUES (?, ?)", rows)

    def pending(self) -> int:
        return int(self._connection().execute("SELECT count(*) FROM pending").fetchone()[0])

    def drain(self, limit: int = BATCH) -> int:
        """Move up to `limit` committed rows to the audit table; returns how many were moved."""
        if not self.path.exists():
            return 0  # retired (removed) since it was listed
        claim, now = uuid.uuid4().hex, time.time()
        try:
            # The writes queue with the pages' appends. The owner retires its file under the same
            # lock, so inside it the file either is there or is gone for good (JournalRetired).
            with one_writer_at_a_time(self.path, create=False):
                connection = self._connection(create=False)
                connection.execute(
                    "UPDATE pending SET claimed_by = ?, claimed_at = ? WHERE id IN (SELECT id FROM pending "
                    "WHERE claimed_at IS NULL OR claimed_at < ? ORDER BY id LIMIT ?)",
                    (claim, now, now - CLAIM_SECONDS, limit),
                )
        except JournalRetired:
            return 0  # retired (removed) since it was listed
        claimed = connection.execute("SELECT uuid, row FROM pending WHERE claimed_by = ?", (claim,)).fetchall()
        if not claimed:
            return 0
        try:
            _insert_once(claimed)
        except DatabaseError:
            with one_writer_at_a_time(self.path):
                connection.execute(
                    "UPDATE pending SET claimed_by = NULL, claimed_at = NULL WHERE claimed_by = ?", (claim,)
                )
            raise
        with one_writer_at_a_time(self.path):
            connection.execute("DELETE FROM pending WHERE claimed_by = ?", (claim,))
        return len(claimed)


_writer_locks: dict[tuple[int, Path], tuple[threading.Lock, int]] = {}
_writer_locks_lock = threading.Lock()


@contextlib.contextmanager
def one_writer_at_a_time(database: Path, *, create: bool = True) -> Iterator[None]:
    """Queue this instance's writers of one SQLite file: threads on a lock, processes on an flock
    of a file beside it. Left to itself, SQLite makes a writer that finds the file locked poll,
    sleeping 1, 2, 5 ... 100 ms between tries, and under a page flood some writers lose for a
    second (issue 13: the warm page's p99); a queue wakes the next writer as soon as the
    previous one commits. A killed process's flock goes with it."""
    key = (os.getpid(), database)
    with _writer_locks_lock:
        if key not in _writer_locks:  # per process: a forked worker opens its own lock file
            if create:
                database.parent.mkdir(parents=True, exist_ok=True)
            fd = _open_writer_lock(database, create=create)
            _writer_locks[key] = (threading.Lock(), fd)
        thread_lock, fd = _writer_locks[key]
    with thread_lock:  # one flock per open file: the threads of a process queue here first
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)


def _open_writer_lock(database: Path, *, create: bool) -> int:
    """The lock file beside `database`. Without `create` (a drainer of any worker's journal) it is
    opened, not made: `retire` removes a journal before its lock file, so a missing lock file
    with the journal still there is only the shared file of older versions, which never had one."""
    lock = f"{database}.writer-lock"
    try:
        return os.open(lock, os.O_RDWR | os.O_CLOEXEC | (os.O_CREAT if create else 0), 0o600)
    except FileNotFoundError:
        if not database.exists():
            raise JournalRetired(database) from None
        return os.open(lock, os.O_RDWR | os.O_CLOEXEC | os.O_CREAT, 0o600)


def _as_row(entry: AuditEntry) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in FIELDS}


def _insert_once(rows: list[tuple[str, str]]) -> None:
    """Insert journal rows (uuid, the row's JSON) into the audit table in one statement; a row
    whose uuid is there already (moved twice) is skipped.

    Plain SQL, not bulk_create: a model per row and the compiled batch (on PostgreSQL, an array
    of each column dumped by psycopg) held the GIL for ~10–20 ms per 150 rows, a stall for every
    page the worker was serving meanwhile (issue 13: the warm page's p99). On PostgreSQL the
    batch is one JSON parameter the server unpacks (`jsonb_to_recordset`), made of the rows' own
    JSON text; elsewhere, one multi-row VALUES with the fields' own database values.

    A row whose user was deleted since the view keeps its username and loses the user, as the
    foreign key's SET_NULL does to rows already moved: a missing user must not fail the batch
    and every later drain with it."""
    connection = connections[router.db_for_write(AuditEntry)]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_recordset_insert(connection), [_json_array(rows)])
        else:
            params = [value for uuid_hex, row in rows for value in _db_values(uuid_hex, json.loads(row), connection)]
            cursor.execute(_values_insert(connection, len(rows)), params)


def _json_array(rows: list[tuple[str, str]]) -> str:
    """The rows as one JSON array of objects, each with its uuid, without parsing any: a row is
    the JSON object `append` wrote (json.dumps of a dict with keys: it starts with `{"`), and a
    uuid is 32 hex digits, so the uuid goes in as the object's first member."""
    return "[" + ",".join(f'{{"entry_uuid": "{uuid_hex}", {row[1:]}' for uuid_hex, row in rows) + "]"


COLUMNS = ("entry_uuid", *FIELDS)


def _field(name: str) -> Field[Any, Any]:
    """The audit table's field for a column name (`user_id` is the user foreign key's)."""
    field = AuditEntry._meta.get_field(name)
    assert isinstance(field, Field) and field.column
    return field


def _insert_into(connection: BaseDatabaseWrapper) -> tuple[str, str]:
    """`INSERT INTO table (columns)` and the `ON CONFLICT` clause that skips a uuid moved before."""
    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(_field(name).column)) for name in COLUMNS)
    uuid_column = quote(str(_field("entry_uuid").column))
    return f"INSERT INTO {quote(AuditEntry._meta.db_table)} ({columns})", f"ON CONFLICT ({uuid_column}) DO NOTHING"


def _user_table(connection: BaseDatabaseWrapper) -> tuple[str, str]:
    user_meta = get_user_model()._meta
    assert user_meta.pk is not None
    return connection.ops.quote_name(user_meta.db_table), connection.ops.quote_name(str(user_meta.pk.column))


def _recordset_insert(connection: BaseDatabaseWrapper) -> str:
    insert, skip = _insert_into(connection)
    quote = connection.ops.quote_name
    users, user_pk = _user_table(connection)
    # The JSON's keys, typed as their columns are (a foreign key as the key it points to).
    record = ", ".join(f"{quote(name)} {_field(name).db_type(connection)}" for name in COLUMNS)
    values = ", ".join(f"u.{user_pk}" if name == "user_id" else f"r.{quote(name)}" for name in COLUMNS)
    return (
        f"{insert} SELECT {values} FROM jsonb_to_recordset(%s::jsonb) AS r({record}) "  # noqa: S608 - names from the models' meta, quoted; values are parameters
        f"LEFT JOIN {users} u ON u.{user_pk} = r.{quote('user_id')} {skip}"
    )


def _values_insert(connection: BaseDatabaseWrapper, count: int) -> str:
    insert, skip = _insert_into(connection)
    users, user_pk = _user_table(connection)
    row = ", ".join(
        f"(SELECT {user_pk} FROM {users} WHERE {user_pk} = %s)"  # noqa: S608 - as above
        if name == "user_id"
        else "%s"
        for name in COLUMNS
    )
    # SQLite reads `ON CONFLICT` after a bare VALUES list unambiguously (after a SELECT it would not).
    return f"{insert} VALUES {', '.join([f'({row})'] * count)} {skip}"


# The fields whose database value differs from the journal's JSON (a datetime, a uuid, an address);
# the others are ints, strings or None as the journal holds them.
_CONVERTED = ("entry_uuid", "created_at", "ip_address")


def _db_values(entry_uuid: str, row: dict[str, Any], connection: BaseDatabaseWrapper) -> list[Any]:
    values = dict(row, entry_uuid=uuid.UUID(entry_uuid), created_at=parse_datetime(row["created_at"]))
    return [
        _field(name).get_db_prep_save(values[name], connection) if name in _CONVERTED else values.get(name)
        for name in COLUMNS
    ]


def _inode(path: Path) -> int | None:
    try:
        return path.stat().st_ino
    except FileNotFoundError:
        return None


NAME_PATTERN = "audit-journal*.sqlite3"  # every worker's (and the one shared file of older versions)

_journal: Journal | None = None
_journal_pid: int | None = None
_known: dict[Path, Journal] = {}
_drainer: threading.Thread | None = None
_lock = threading.Lock()


def journal() -> Journal | None:
    """This process's journal, or None when rows go straight to the audit table."""
    global _journal, _journal_pid
    if not settings.AUDIT_JOURNAL_DIR:
        return None
    if _journal is None or _journal_pid != os.getpid():  # a forked worker gets a file of its own
        _journal = Journal(Path(settings.AUDIT_JOURNAL_DIR) / f"audit-journal-{os.getpid()}.sqlite3")
        _journal_pid = os.getpid()
    return _journal


def journals() -> list[Journal]:
    """Every journal in the directory: this worker's, the others', and any a dead worker left."""
    directory = Path(settings.AUDIT_JOURNAL_DIR)
    paths = sorted(directory.glob(NAME_PATTERN)) if settings.AUDIT_JOURNAL_DIR else []
    with _lock:
        for gone in set(_known) - set(paths):
            del _known[gone]
        return [_known.setdefault(path, Journal(path)) for path in paths]


def retire() -> None:
    """At a worker's normal exit (gunicorn's worker_exit): move this process's last rows, then
    remove its file once it is empty. A file with rows left (the database away) stays for the
    other workers' drainers; so does the file of a worker that was killed."""
    own = journal()
    if own is None or not own.path.exists():
        return
    # Another drainer (this worker's thread, another worker's) may hold a claim on rows here as
    # the worker exits: it is moving them now, and this drain skips them. Wait a little for it,
    # so that the file does not stay behind for ever (a full run met it, both workers of an
    # instance stopping at once); a claim that outlives the wait is a dead drainer's.
    until = time.monotonic() + RETIRE_WAIT_SECONDS
    while True:
        try:
            while own.drain() == BATCH:
                pass
        except Exception:  # noqa: BLE001 - the database may be away: the rows wait for another drainer
            logger.warning("audit journal not emptied at exit; rows stay for the other workers", exc_info=True)
            return
        with one_writer_at_a_time(own.path):
            if not own.pending():
                own.close()
                for suffix in ("", "-wal", "-shm", ".writer-lock"):
                    Path(f"{own.path}{suffix}").unlink(missing_ok=True)
                return
        if time.monotonic() >= until:
            return  # the rows stay for the other workers' drainers
        time.sleep(0.05)


def ensure_drainer() -> None:
    """Start this worker's drainer thread once (after the fork: never in gunicorn's master)."""
    global _drainer
    if _drainer is not None and _drainer.is_alive() and getattr(_drainer, "pid", None) == os.getpid():
        return
    with _lock:
        if _drainer is not None and _drainer.is_alive() and getattr(_drainer, "pid", None) == os.getpid():
            return
        thread = threading.Thread(target=_drain_forever, name="audit-journal-drainer", daemon=True)
        thread.pid = os.getpid()  # type: ignore[attr-defined]
        thread.start()
        _drainer = thread


def start_drainer_if_journaled() -> None:
    """For gunicorn's post_worker_init: a new worker moves rows left by a killed one at once,
    without waiting for its own first request."""
    if journal() is not None:
        ensure_drainer()


def _drain_forever() -> None:
    while journal() is not None:
        for each in journals():
            try:
                while each.drain() == BATCH:
                    pass  # a backlog: keep moving it
            except Exception:  # noqa: BLE001 - the database may be away: rows wait in the journal
                logger.warning("audit journal drain failed; rows stay in the journal", exc_info=True)
            finally:
                close_old_connections()
        time.sleep(settings.AUDIT_JOURNAL_DRAIN_SECONDS)
