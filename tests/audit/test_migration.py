"""The audit log moved from the staff app to its own (audit 0001, staff 0003): the table, its rows
and the permissions granted on it must survive, on a database that has them.

The database is taken back to the state before the move (staff 0002, no audit app), filled the way
the old code filled it, and migrated forward again. It ends fully migrated, as it began.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.recorder import MigrationRecorder

from audit.models import AuditEntry

STAFF_BEFORE_THE_MOVE = ("staff", "0002_audit_time_of_access")
WHEN = dt.datetime(2026, 3, 14, 9, 30, tzinfo=dt.UTC)


def migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    ContentType.objects.clear_cache()  # the move renames a content type under the cache's feet
    return executor


def latest() -> list[tuple[str, str]]:
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def before_the_move() -> list[tuple[str, str]]:
    """Every other app as it is; staff at 0002; no audit app yet."""
    return [node for node in latest() if node[0] not in ("audit", "staff")] + [STAFF_BEFORE_THE_MOVE]


@pytest.mark.django_db(transaction=True)
def test_rows_and_permissions_survive_the_move_to_the_audit_app():
    try:
        targets = before_the_move()
        executor = migrate([*targets, ("audit", None)])
        applied = MigrationRecorder(connection).applied_migrations()
        assert ("audit", "0001_initial") not in applied
        assert ("staff", "0003_auditentry_moved_to_audit") not in applied
        assert STAFF_BEFORE_THE_MOVE in applied
        old = executor.loader.project_state(targets).apps
        assert "auditentry" not in old.all_models.get("audit", {})

        # What the old code wrote: rows in staff's AuditEntry, a group granted staff.view_auditentry.
        OldUser = old.get_model("auth", "User")
        OldAuditEntry = old.get_model("staff", "AuditEntry")
        OldContentType = old.get_model("contenttypes", "ContentType")
        OldPermission = old.get_model("auth", "Permission")
        OldGroup = old.get_model("auth", "Group")
        leyla = OldUser.objects.create(username="leyla", password="!")
        OldAuditEntry.objects.create(
            user=leyla,
            username="leyla",
            action="reveal_customer",
            order_id=4101,
            venue_id=3,
            ip_address="10.1.2.3",
            created_at=WHEN,
        )
        OldAuditEntry.objects.create(
            user=None, username="gone-user", action="view_order", order_id=4103, venue_id=None, created_at=WHEN
        )
        content_type, _ = OldContentType.objects.get_or_create(app_label="staff", model="auditentry")
        view_permission, _ = OldPermission.objects.get_or_create(
            content_type=content_type, codename="view_auditentry", defaults={"name": "Can view audit entry"}
        )
        OldGroup.objects.create(name="auditors").permissions.add(view_permission)
        permission_id = view_permission.pk

        migrate(latest())

        rows = list(AuditEntry.objects.order_by("order_id").values_list("username", "action", "order_id", "venue_id"))
        assert rows == [("leyla", "reveal_customer", 4101, 3), ("gone-user", "view_order", 4103, None)]
        revealed = AuditEntry.objects.get(order_id=4101)
        assert revealed.user == get_user_model().objects.get(username="leyla")
        assert revealed.ip_address == "10.1.2.3"
        assert revealed.created_at == WHEN
        assert revealed.get_action_display() == "Revealed customer details"
        granted = Group.objects.get(name="auditors").permissions.get()
        assert (granted.content_type.app_label, granted.codename) == ("audit", "view_auditentry")
        assert granted.pk == permission_id  # the same row, now under the audit app
        assert not ContentType.objects.filter(app_label="staff", model="auditentry").exists()
        assert Permission.objects.filter(content_type__app_label="audit", codename="view_auditentry").count() == 1
        member = get_user_model().objects.create_user("auditor")
        member.groups.add(Group.objects.get(name="auditors"))
        assert get_user_model().objects.get(pk=member.pk).has_perm("audit.view_auditentry")
    finally:
        migrate(latest())  # whatever happened, leave the schema fully migrated

    assert not MigrationExecutor(connection).migration_plan(latest())
