from django.contrib import admin
from django.http import HttpRequest

from audit.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "username", "action", "order_id", "venue_id", "ip_address"]
    list_filter = ["action", "venue_id"]
    search_fields = ["username", "=order_id"]
    date_hierarchy = "created_at"

    # The log is evidence: nobody edits or deletes entries here (pruning is a command).
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditEntry | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditEntry | None = None) -> bool:
        return False
