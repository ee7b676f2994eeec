from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    """The read audit: who viewed, revealed or refreshed which record, and when.

    Its own app so that every feature can record and list accesses without the staff accounts
    and the order pages knowing about each other.
    """

    name = "audit"
    verbose_name = _("Audit log")
