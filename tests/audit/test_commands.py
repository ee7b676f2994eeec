"""audit's management command prune_audit_log: deletes entries older than AUDIT_RETENTION_DAYS."""

from __future__ import annotations

import pytest

from audit.models import AuditEntry
from tests.audit.conftest import entry_aged
from tests.staff.test_commands import run

pytestmark = pytest.mark.django_db


def test_prune_deletes_only_entries_older_than_the_retention(settings):
    assert settings.AUDIT_RETENTION_DAYS == 180
    entry_aged(400, 1)
    entry_aged(181, 2)
    entry_aged(180.01, 3)
    entry_aged(179.99, 4)
    entry_aged(10, 5)
    entry_aged(0, 6)

    out = run("prune_audit_log")

    assert out.strip() == "Deleted 3 audit entries older than 180 days."
    assert set(AuditEntry.objects.values_list("order_id", flat=True)) == {4, 5, 6}


def test_prune_follows_the_setting(settings):
    settings.AUDIT_RETENTION_DAYS = 30
    entry_aged(31, 1)
    entry_aged(29, 2)

    out = run("prune_audit_log")

    assert out.strip() == "Deleted 1 audit entries older than 30 days."
    assert list(AuditEntry.objects.values_list("order_id", flat=True)) == [2]


def test_prune_with_nothing_to_delete_is_fine():
    entry_aged(1, 1)

    assert run("prune_audit_log").strip() == "Deleted 0 audit entries older than 180 days."
    assert run("prune_audit_log").strip() == "Deleted 0 audit entries older than 180 days."
    assert AuditEntry.objects.count() == 1
