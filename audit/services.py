"""Writes of the audit log: record an access, prune old entries.

Every access is on record before its response leaves: `audit_record` commits the row to this
worker's local journal (audit/journal.py, moved to the audit table within a second; the default
on both profiles) or, with AUDIT_JOURNAL_DIR empty, straight to the audit table. Either way a
worker killed right after answering loses nothing. A failed write is logged and never fails
the page. Showing personal data is stricter: `audit_write_now` writes the row to the audit
table itself, within a short lock timeout, and the caller refuses to show the data when it
cannot.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, connections, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

from audit import journal
from audit.models import AuditEntry
from console.http import ConsoleRequest
from console.net import client_ip

logger = logging.getLogger("audit")


class AuditWriteError(Exception):
    """The row could not be written in time: whatever it was to record must not be shown."""


def _entry(
    request: ConsoleRequest, *, action: str, order_id: int | None, venue_id: int | None, detail: str = ""
) -> AuditEntry:
    return AuditEntry(
        user=request.user,
        username=request.user.get_username(),
        action=action,
        order_id=order_id,
        venue_id=venue_id,
        detail=detail[:500],
        ip_address=client_ip(request),
        created_at=timezone.now(),
    )


def audit_write_now(
    request: ConsoleRequest, *, action: str, order_id: int | None, venue_id: int | None, detail: str = ""
) -> AuditEntry:
    """Write the row now, giving up after AUDIT_WRITE_TIMEOUT_MS if the table is locked, and
    return it. For personal data (a reveal, a customer search or page, an export).

    Raises AuditWriteError; the caller then refuses to show the data (a reveal is never shown
    unaudited)."""
    timeout_ms = int(settings.AUDIT_WRITE_TIMEOUT_MS)
    connection = connections[router.db_for_write(AuditEntry)]
    entry = _entry(request, action=action, order_id=order_id, venue_id=venue_id, detail=detail)
    try:
        with _transaction_with_lock_timeout(connection, timeout_ms):
            entry.save(using=connection.alias)
    except DatabaseError as exc:
        logger.warning("audit write refused: action=%s order=%s error=%s", action, order_id, type(exc).__name__)
        raise AuditWriteError(action) from exc
    return entry


def audit_amend(entry: AuditEntry, *, detail: str) -> None:
    """Replace the `detail` of a row written earlier in this request (an export's row count,
    known only once the file is done). A failure is logged: the row already says who and what."""
    try:
        AuditEntry.objects.filter(pk=entry.pk).update(detail=detail[:500])
    except DatabaseError:
        logger.exception("audit amend failed: entry=%s", entry.pk)


@contextlib.contextmanager
def _transaction_with_lock_timeout(connection: BaseDatabaseWrapper, timeout_ms: int) -> Iterator[None]:
    """A transaction that waits at most `timeout_ms` for a lock (and, on PostgreSQL, for its
    statements) instead of the connection's defaults."""
    if connection.vendor == "sqlite":
        # SQLite takes its write lock at BEGIN (IMMEDIATE mode): shorten the wait before that.
        with connection.cursor() as cursor:
            previous = cursor.execute("PRAGMA busy_timeout").fetchone()[0]
            cursor.execute(f"PRAGMA busy_timeout = {int(timeout_ms)}")
        try:
            with transaction.atomic(using=connection.alias):
                yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute(f"PRAGMA busy_timeout = {int(previous)}")
        return
    with transaction.atomic(using=connection.alias):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = %s", [f"{timeout_ms}ms"])
                cursor.execute("SET LOCAL statement_timeout = %s", [f"{timeout_ms}ms"])
        yield


def audit_record(
    request: ConsoleRequest, *, action: str, order_id: int | None, venue_id: int | None, detail: str = ""
) -> None:
    """Record an access now, before the response leaves (see the module docstring); a failed
    write is logged and never fails the page. `detail` names what a list action covered (its
    query), when there is no single order."""
    _write([_entry(request, action=action, order_id=order_id, venue_id=venue_id, detail=detail)])


def _write(entries: list[AuditEntry]) -> None:
    local = journal.journal()
    if local is not None:
        try:
            local.append(entries)
            journal.ensure_drainer()
            return
        except sqlite3.Error:
            logger.warning("audit journal unavailable; writing to the audit table", exc_info=True)
    try:
        connection = connections[router.db_for_write(AuditEntry)]
        if connection.vendor == "sqlite" and not connection.is_in_memory_db():  # type: ignore[attr-defined]
            with journal.one_writer_at_a_time(Path(connection.settings_dict["NAME"])):
                AuditEntry.objects.bulk_create(entries)
        else:
            AuditEntry.objects.bulk_create(entries)
    except DatabaseError:
        # The page was shown: losing audit rows is better than refusing to serve.
        logger.exception("audit write failed: %d entries lost", len(entries))


def audit_prune(*, now: dt.datetime | None = None) -> int:
    """Delete entries older than AUDIT_RETENTION_DAYS; returns how many."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=settings.AUDIT_RETENTION_DAYS)
    deleted, _ = AuditEntry.objects.filter(created_at__lt=cutoff).delete()
    return deleted
