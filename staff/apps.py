from django.apps import AppConfig
from django.db.models.signals import post_migrate


class StaffConfig(AppConfig):
    """Staff accounts: roles, venue assignments, the audit log and login hardening."""

    name = "staff"
    verbose_name = "Staff"

    def ready(self) -> None:
        import staff.backends  # noqa: F401 - connects the permission-cache invalidation signals
        from staff.roles import sync_roles_after_migrate

        # Permissions exist only after post_migrate has created them, so groups are built then.
        post_migrate.connect(sync_roles_after_migrate, dispatch_uid="staff.sync_roles")
