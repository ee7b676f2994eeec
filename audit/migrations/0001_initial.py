"""The audit log moves from the staff app to its own: same table, same rows, same permissions.

State only: the table `staff_auditentry` already exists (staff 0001/0002) and keeps its name
(`db_table`). The content type is renamed so the existing permission rows, and the groups that
hold them, now read `audit.view_auditentry`.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def move_content_type(apps, schema_editor):
    content_type = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    if not content_type.objects.using(db).filter(app_label="audit", model="auditentry").exists():
        content_type.objects.using(db).filter(app_label="staff", model="auditentry").update(app_label="audit")


def restore_content_type(apps, schema_editor):
    content_type = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    content_type.objects.using(db).filter(app_label="audit", model="auditentry").update(app_label="staff")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("staff", "0002_audit_time_of_access"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="AuditEntry",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("created_at", models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                        ("username", models.CharField(max_length=150)),
                        (
                            "action",
                            models.CharField(
                                choices=[
                                    ("view_order", "Viewed order"),
                                    ("reveal_customer", "Revealed customer details"),
                                    ("refresh_order", "Forced refresh from Clopos"),
                                ],
                                max_length=32,
                            ),
                        ),
                        ("order_id", models.BigIntegerField(db_index=True)),
                        ("venue_id", models.IntegerField(blank=True, null=True)),
                        ("ip_address", models.GenericIPAddressField(blank=True, null=True)),
                        (
                            "user",
                            models.ForeignKey(
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "verbose_name_plural": "audit entries",
                        "db_table": "staff_auditentry",
                        "ordering": ["-created_at", "-id"],
                        "indexes": [models.Index(fields=["venue_id", "-created_at"], name="audit_venue_recent")],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_type, restore_content_type),
    ]
