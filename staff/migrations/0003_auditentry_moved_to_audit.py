"""AuditEntry now belongs to the audit app (audit 0001), which keeps this table and its rows."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("staff", "0002_audit_time_of_access"),
        ("audit", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="AuditEntry")],
            database_operations=[],
        ),
    ]
