from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from audit.services import audit_prune


class Command(BaseCommand):
    help = "Delete audit entries older than AUDIT_RETENTION_DAYS."

    def handle(self, *args: Any, **options: Any) -> None:
        deleted = audit_prune()
        self.stdout.write(f"Deleted {deleted} audit entries older than {settings.AUDIT_RETENTION_DAYS} days.")
