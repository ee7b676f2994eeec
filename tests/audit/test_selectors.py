"""audit.selectors: the audit log's reads, by venue scope and filters, and a user's recent orders."""

from __future__ import annotations

import datetime as dt

import pytest

from audit.models import AuditEntry
from audit.selectors import AuditFilters, audit_entries, recent_order_ids
from tests.audit.conftest import audit_entry

pytestmark = pytest.mark.django_db


def order_ids(entries) -> list[int]:
    return [entry.order_id for entry in entries]


@pytest.mark.usefixtures("audit_entries")
@pytest.mark.parametrize(
    ("venue_ids", "expected"),
    [(None, [5004, 5003, 5002, 5001]), ({1}, [5002, 5001]), ({3}, [5004, 5003]), ({1, 3}, [5004, 5003, 5002, 5001])],
)
def test_entries_of_the_venues_newest_first(venue_ids, expected):
    assert order_ids(audit_entries(venue_ids=venue_ids)) == expected


@pytest.mark.usefixtures("audit_entries")
def test_no_venue_means_no_entry():
    assert order_ids(audit_entries(venue_ids=set())) == []


def test_entries_without_a_venue_are_for_all_venue_users_only(db):
    audit_entry("manager", 6001, None, "2026-02-01T12:00:00+00:00")

    assert order_ids(audit_entries(venue_ids=None)) == [6001]
    assert order_ids(audit_entries(venue_ids={1, 3})) == []


@pytest.mark.usefixtures("audit_entries")
@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (AuditFilters(), [5004, 5003, 5002, 5001]),
        (AuditFilters(username="MANAGER"), [5004, 5001]),
        (AuditFilters(username="manage"), []),  # the whole name, not a part
        (AuditFilters(order_id=5003), [5003]),
        (AuditFilters(date_from=dt.date(2026, 2, 11)), [5004, 5003]),
        (AuditFilters(date_to=dt.date(2026, 2, 10)), [5002, 5001]),
        (AuditFilters(username="manager", date_to=dt.date(2026, 1, 10)), [5001]),
    ],
)
def test_filters(filters, expected):
    assert order_ids(audit_entries(venue_ids=None, filters=filters)) == expected


def test_dates_are_days_in_the_venues_time_zone(db):
    """21:30 UTC on 10 February is 01:30 on the 11th in Baku (UTC+4), the day staff see."""
    audit_entry("manager", 6002, 3, "2026-02-10T21:30:00+00:00")

    assert order_ids(audit_entries(venue_ids=None, filters=AuditFilters(date_to=dt.date(2026, 2, 10)))) == []
    assert order_ids(audit_entries(venue_ids=None, filters=AuditFilters(date_from=dt.date(2026, 2, 11)))) == [6002]


def test_recent_orders_are_the_users_own_views_newest_first_once_each(users):
    manager, support = users["manager"], users["support"]
    for order_id, minutes_ago in ((4101, 50), (4103, 40), (4101, 30), (4105, 20)):
        entry = AuditEntry.objects.create(user=manager, username="manager", action="view_order", order_id=order_id)
        AuditEntry.objects.filter(pk=entry.pk).update(
            created_at=dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC) - dt.timedelta(minutes=minutes_ago)
        )
    AuditEntry.objects.create(user=manager, username="manager", action="reveal_customer", order_id=4999)
    AuditEntry.objects.create(user=support, username="support", action="view_order", order_id=4888)

    assert recent_order_ids(user=manager) == [4105, 4101, 4103]
    assert recent_order_ids(user=manager, limit=2) == [4105, 4101]
    assert recent_order_ids(user=support) == [4888]
    assert recent_order_ids(user=users["admin"]) == []
