"""A reveal of personal data is on record before the data leaves the server.

If the audit row cannot be written (the table is locked, the database fails), the reveal is
refused with a clear message and the full phone and address never reach the browser. Views keep
their after-response write. The locked-table attack runs on PostgreSQL (the production profile),
where a second connection can hold the lock.
"""

from __future__ import annotations

import os
import threading
import time
from unittest import mock

import pytest
from django.db import DatabaseError, connection

from audit.models import AuditEntry
from tests.conftest import RAW_ADDRESS_4101, RAW_PHONE_4101
from tests.pages import body, htmx_headers

REFUSED = "The reveal could not be recorded in the audit log, so the details stay hidden."


def assert_refused(response) -> None:
    assert response.status_code == 503
    content = body(response)
    assert REFUSED in content
    assert RAW_PHONE_4101 not in content
    assert "503214567" not in content
    assert "Təbriz küç" not in content


@pytest.mark.django_db
def test_reveal_is_refused_when_its_audit_row_cannot_be_written(api, client_for):
    client = client_for("manager")

    with mock.patch("audit.services.AuditEntry.save", side_effect=DatabaseError("disk full")):
        response = client.post("/orders/4101/customer/reveal/", headers=htmx_headers(4101))

    assert_refused(response)
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.REVEAL_CUSTOMER).exists()


@pytest.mark.django_db
def test_reveal_row_is_written_before_the_response(api, client_for):
    client = client_for("manager")

    response = client.post("/orders/4101/customer/reveal/", headers=htmx_headers(4101))

    assert response.status_code == 200
    assert RAW_PHONE_4101 in body(response)
    assert RAW_ADDRESS_4101 in body(response)
    # Written by the view itself, not by the after-response flush (the test client sends
    # request_finished only when the response is closed).
    assert AuditEntry.objects.filter(action=AuditEntry.Action.REVEAL_CUSTOMER, order_id=4101).count() == 1


postgres_only = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"), reason="the table lock needs PostgreSQL"
)


def _lock_audit_table(ready: threading.Event, release: threading.Event) -> None:
    import psycopg

    settings_dict = connection.settings_dict
    with psycopg.connect(
        dbname=settings_dict["NAME"],
        host=settings_dict["HOST"] or None,
        port=settings_dict["PORT"] or None,
        user=settings_dict["USER"] or None,
        password=settings_dict["PASSWORD"] or None,
        autocommit=False,
    ) as locker:
        locker.execute(f"LOCK TABLE {AuditEntry._meta.db_table} IN ACCESS EXCLUSIVE MODE")
        ready.set()
        release.wait(30)
        locker.rollback()


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_reveal_under_a_locked_audit_table_is_refused_quickly(api, client_for):
    client = client_for("manager")
    ready, release = threading.Event(), threading.Event()
    locker = threading.Thread(target=_lock_audit_table, args=(ready, release))
    locker.start()
    try:
        assert ready.wait(10)
        started = time.monotonic()
        response = client.post("/orders/4101/customer/reveal/", headers=htmx_headers(4101))
        elapsed = time.monotonic() - started
    finally:
        release.set()
        locker.join()

    assert_refused(response)
    # Refused after the audit write's own lock timeout (AUDIT_WRITE_TIMEOUT_MS, 2 s), far from
    # the 52 s worker timeout; a generous bound for a loaded machine.
    assert elapsed < 15
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.REVEAL_CUSTOMER).exists()


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_page_reading_a_locked_table_gives_up_instead_of_hanging(client_for, settings):
    """The lookup page reads the user's recent orders from the audit table: under a lock it
    must end with an error page after the connection's lock timeout, not hang to the worker
    timeout."""
    from django.db import connections

    client = client_for("manager")
    connections.close_all()  # the next query opens a connection with the settings' timeouts
    ready, release = threading.Event(), threading.Event()
    locker = threading.Thread(target=_lock_audit_table, args=(ready, release))
    locker.start()
    try:
        assert ready.wait(10)
        started = time.monotonic()
        client.raise_request_exception = False
        response = client.get("/")
        elapsed = time.monotonic() - started
    finally:
        release.set()
        locker.join()

    assert response.status_code in (200, 503)
    assert elapsed < 15
