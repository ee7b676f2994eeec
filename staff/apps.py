from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StaffConfig(AppConfig):
    """Staff accounts: role groups, venue assignments, the permission cache, staff commands."""

    name = "staff"
    verbose_name = _("Staff")

    def ready(self) -> None:
        from staff import signals

        signals.connect()
