"""The audit log page (/audit/): scope, rows, filters, validation, paging."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from console.ids import INVALID_ORDER_ID
from tests.audit.conftest import audit_entry
from tests.pages import text_of

# The shared cache is database-backed: the conftest's cache.clear() needs the database first.
pytestmark = pytest.mark.django_db


def listed_orders(response) -> set[int]:
    return {int(i) for i in re.findall(r'<td[^>]*><a href="/orders/(\d+)/">', response.content.decode())}


def test_audit_log_shows_only_the_managers_venues(client_for, audit_entries):
    scoped = client_for("manager1").get("/audit/")
    everything = client_for("manager").get("/audit/")

    assert scoped.status_code == everything.status_code == 200
    assert listed_orders(scoped) == {5001, 5002}
    assert listed_orders(everything) == {5001, 5002, 5003, 5004}


def test_audit_log_rows_show_user_action_order_venue_time_and_ip(client_for, audit_entries):
    text = text_of(client_for("manager1").get("/audit/", {"order_id": "5002"}).content)

    assert "support1 Revealed customer details 5002 1 127.0.0.1" in text
    when = timezone.localtime(timezone.datetime.fromisoformat("2026-02-10T12:00:00+00:00"))
    assert when.strftime("%d %b %Y, %H:%M:%S") in text  # shown in the venue time zone (16:00 in Baku)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"username": "manager"}, {5001, 5004}),
        ({"username": "SUPPORT"}, {5003}),
        ({"order_id": "5003"}, {5003}),
        ({"order_id": " 5004 "}, {5004}),
        ({"date_from": "2026-02-01"}, {5002, 5003, 5004}),
        ({"date_to": "2026-02-10"}, {5001, 5002}),
        ({"date_from": "2026-02-11", "date_to": "2026-02-11"}, {5003}),
        ({"username": "manager", "date_from": "2026-02-01"}, {5004}),
        ({"username": "nobody"}, set()),
    ],
)
def test_audit_log_filters(client_for, audit_entries, query, expected):
    response = client_for("manager").get("/audit/", query)

    assert response.status_code == 200
    assert listed_orders(response) == expected


def test_audit_log_filters_stay_inside_the_scope(client_for, audit_entries):
    response = client_for("manager1").get("/audit/", {"order_id": "5003"})

    assert response.status_code == 200
    assert listed_orders(response) == set()
    assert "5003" not in text_of(response.content)


def test_audit_log_says_when_nothing_matches(client_for, audit_entries):
    response = client_for("manager").get("/audit/", {"username": "nobody"})

    assert response.status_code == 200
    assert "No entries match." in response.content.decode()


@pytest.mark.parametrize("bad_id", ["abc", "0", "-5", "1.5", "99999999999999999"])
def test_audit_log_rejects_an_invalid_order_id(client_for, audit_entries, bad_id):
    response = client_for("manager").get("/audit/", {"order_id": bad_id})

    assert response.status_code == 400
    assert INVALID_ORDER_ID in response.content.decode()
    assert listed_orders(response) == set()


def test_audit_log_rejects_reversed_dates(client_for, audit_entries):
    response = client_for("manager").get("/audit/", {"date_from": "2026-03-01", "date_to": "2026-02-01"})

    assert response.status_code == 400
    assert "The start date is after the end date." in response.content.decode()


def test_audit_log_pages_keep_the_filter(client_for, db):
    for order_id in range(6000, 6060):
        audit_entry("manager", order_id, 3, "2026-02-01T12:00:00+00:00")
    audit_entry("support", 7000, 3, "2026-02-01T12:00:00+00:00")

    first = client_for("manager").get("/audit/", {"username": "manager"})
    second = client_for("manager").get("/audit/", {"username": "manager", "page": "2"})

    assert len(listed_orders(first)) == 50
    assert len(listed_orders(second)) == 10
    assert "?username=manager&amp;page=2" in first.content.decode()
    assert 7000 not in listed_orders(first) | listed_orders(second)


def test_the_new_actions_show_what_they_covered(client_for, db):
    """Searches, customer views, receipts and exports name what they covered in `detail`; only
    list refreshes link to their list (a search's masked query is text, never a link)."""
    from audit.models import AuditEntry

    for action, detail, venue in (
        (AuditEntry.Action.SEARCH_CUSTOMERS, "phone +994 50 *** ** 11", None),
        (AuditEntry.Action.VIEW_CUSTOMER, "customer=1000 days=30", 3),
        (AuditEntry.Action.VIEW_RECEIPT, "receipt=20855", 3),
        (AuditEntry.Action.EXPORT_RECEIPTS, "format=csv day=2026-11-26 rows=172", None),
        (AuditEntry.Action.REFRESH_RECEIPT_LIST, "day=2026-11-26", 3),
    ):
        AuditEntry.objects.create(username="support", action=action, order_id=None, venue_id=venue, detail=detail)

    response = client_for("manager").get("/audit/")

    text = text_of(response.content)
    content = response.content.decode()
    for label, detail in (
        ("Searched customers", "phone +994 50 *** ** 11"),
        ("Viewed customer", "customer=1000 days=30"),
        ("Viewed receipt", "receipt=20855"),
        ("Exported a receipts list", "format=csv day=2026-11-26 rows=172"),
    ):
        assert f"{label} {detail}" in text
    assert 'href="/receipts/?day=2026-11-26"' in content
    assert 'href="/orders/?phone' not in content
