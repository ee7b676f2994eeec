"""audit.services: rows recorded during a request, written after the response, never failing
the page; pruning by age.
"""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
import time_machine
from django.conf import settings
from django.db import DatabaseError
from django.test import RequestFactory

from audit.models import AuditEntry
from audit.services import audit_prune, audit_record
from tests.pages import body, htmx_headers

# The shared cache is database-backed: the conftest's cache.clear() needs the database first.
pytestmark = pytest.mark.django_db


# --- Through a request ----------------------------------------------------------------------


def test_audit_row_is_on_record_before_the_response_leaves(api, client_for):
    """The row is committed while the page is built: when the WSGI server gets the response, the
    row exists already, so a worker killed right after answering loses nothing."""
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections
    from django.test import RequestFactory

    cookie = client_for("manager").cookies[settings.SESSION_COOKIE_NAME].value
    environ = RequestFactory()._base_environ(
        PATH_INFO="/orders/4101/", HTTP_COOKIE=f"{settings.SESSION_COOKIE_NAME}={cookie}"
    )
    before = AuditEntry.objects.count()
    # As Django's test client does: keep the test's database connection (and transaction) open.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        response = WSGIHandler()(environ, lambda status, headers: None)

        assert response.status_code == 200
        assert AuditEntry.objects.count() == before + 1  # before the response is even closed
        response.close()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    entry = AuditEntry.objects.latest("id")
    assert (entry.action, entry.order_id, entry.venue_id, entry.username) == ("view_order", 4101, 3, "manager")


@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [
        ("get", "/orders/4101/", {}),
        ("post", "/orders/4101/refresh/", htmx_headers(4101)),
    ],
    ids=["view", "refresh"],
)
def test_page_survives_a_failing_audit_write(api, client_for, caplog, method, path, headers):
    client = client_for("manager")

    with mock.patch(
        "audit.services.AuditEntry.objects.bulk_create", side_effect=DatabaseError("audit table gone")
    ) as write:
        response = getattr(client, method)(path, headers=headers)

    assert response.status_code == 200
    assert write.call_count == 1
    assert "Leyla Məmmədova" in body(response)
    assert "audit write failed" in caplog.text


# --- On their own -------------------------------------------------------------------------------


def request_by(user, remote: str = "10.1.2.3"):
    request = RequestFactory().get("/orders/4101/", REMOTE_ADDR=remote)
    request.user = user
    return request


def test_record_writes_the_row_at_once(users):
    with time_machine.travel(dt.datetime(2026, 3, 14, 9, 30, tzinfo=dt.UTC), tick=False):
        audit_record(request_by(users["manager"]), action=AuditEntry.Action.VIEW_ORDER, order_id=4101, venue_id=3)
        audit_record(request_by(users["manager"]), action=AuditEntry.Action.REVEAL_CUSTOMER, order_id=4101, venue_id=3)

    rows = list(
        AuditEntry.objects.order_by("id").values_list(
            "user", "username", "action", "order_id", "venue_id", "ip_address", "created_at"
        )
    )
    assert rows == [
        (users["manager"].pk, "manager", action, 4101, 3, "10.1.2.3", dt.datetime(2026, 3, 14, 9, 30, tzinfo=dt.UTC))
        for action in ("view_order", "reveal_customer")
    ]


def test_a_failed_write_is_logged_and_never_raises(users, caplog):
    with mock.patch.object(AuditEntry.objects, "bulk_create", side_effect=DatabaseError("disk I/O error")):
        audit_record(request_by(users["manager"]), action=AuditEntry.Action.VIEW_ORDER, order_id=4101, venue_id=3)

    assert "audit write failed: 1 entries lost" in caplog.text
    assert [r.levelname for r in caplog.records if r.name == "audit"] == ["ERROR"]
    assert not AuditEntry.objects.exists()


def test_an_unwritable_journal_falls_back_to_the_audit_table(users, settings, tmp_path, caplog):
    import sqlite3

    from audit import journal

    settings.AUDIT_JOURNAL_DIR = str(tmp_path)
    journal._journal = None
    try:
        with mock.patch("audit.journal.Journal.append", side_effect=sqlite3.OperationalError("disk full")):
            audit_record(request_by(users["manager"]), action=AuditEntry.Action.VIEW_ORDER, order_id=4103, venue_id=3)
    finally:
        journal._journal = None

    assert AuditEntry.objects.get().order_id == 4103
    assert "audit journal unavailable" in caplog.text


def test_the_user_may_be_deleted_but_the_entry_stays(users):
    entry = AuditEntry.objects.create(user=users["support"], username="support", action="view_order", order_id=1)

    users["support"].delete()

    entry.refresh_from_db()
    assert (entry.user, entry.username) == (None, "support")


def test_prune_deletes_entries_older_than_the_retention(settings):
    settings.AUDIT_RETENTION_DAYS = 30
    now = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
    for order_id, age in (
        (1, dt.timedelta(days=31)),
        (2, dt.timedelta(days=30, seconds=1)),
        (3, dt.timedelta(days=29)),
    ):
        AuditEntry.objects.create(username="m", action="view_order", order_id=order_id, created_at=now - age)

    assert audit_prune(now=now) == 2
    assert list(AuditEntry.objects.values_list("order_id", flat=True)) == [3]
    assert audit_prune(now=now) == 0


def test_prune_counts_from_now_by_default(settings):
    settings.AUDIT_RETENTION_DAYS = 1
    AuditEntry.objects.create(username="m", action="view_order", order_id=1)

    assert audit_prune() == 0
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=1, minutes=1)):
        assert audit_prune() == 1
