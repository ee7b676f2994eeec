"""Audit entries at given times, for the audit log's page, admin, selectors and pruning."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from audit.models import AuditEntry


def audit_entry(username: str, order_id: int, venue_id: int, when: str, action=AuditEntry.Action.VIEW_ORDER):
    entry = AuditEntry.objects.create(
        username=username, action=action, order_id=order_id, venue_id=venue_id, ip_address="127.0.0.1"
    )
    AuditEntry.objects.filter(pk=entry.pk).update(created_at=timezone.datetime.fromisoformat(when))
    return entry


@pytest.fixture
def audit_entries(db):
    audit_entry("manager", 5001, 1, "2026-01-10T12:00:00+00:00")
    audit_entry("support1", 5002, 1, "2026-02-10T12:00:00+00:00", AuditEntry.Action.REVEAL_CUSTOMER)
    audit_entry("support", 5003, 3, "2026-02-11T12:00:00+00:00")
    audit_entry("manager", 5004, 3, "2026-03-10T12:00:00+00:00", AuditEntry.Action.REFRESH_ORDER)


def entry_aged(days: float, order_id: int) -> AuditEntry:
    entry = AuditEntry.objects.create(
        username="manager", action=AuditEntry.Action.VIEW_ORDER, order_id=order_id, venue_id=3, ip_address="127.0.0.1"
    )
    AuditEntry.objects.filter(pk=entry.pk).update(created_at=timezone.now() - dt.timedelta(days=days))
    return entry
