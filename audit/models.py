from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class AuditEntry(models.Model):
    class Action(models.TextChoices):
        VIEW_ORDER = "view_order", _("Viewed order")
        REVEAL_CUSTOMER = "reveal_customer", _("Revealed customer details")
        REFRESH_ORDER = "refresh_order", _("Forced refresh from Clopos")
        # Unknown, or outside the user's venues: one action for both, as the user saw one answer.
        ORDER_NOT_FOUND = "order_not_found", _("Looked up an order not found or not visible")
        REFRESH_ORDER_LIST = "refresh_order_list", _("Forced refresh of an orders list from Clopos")
        PRINT_RECEIPT = "print_receipt", _("Printed a receipt copy")
        VIEW_RECEIPT = "view_receipt", _("Viewed receipt")
        # Unknown, or outside the user's venues, as for orders.
        RECEIPT_NOT_FOUND = "receipt_not_found", _("Looked up a receipt not found or not visible")
        REFRESH_RECEIPT_LIST = "refresh_receipt_list", _("Forced refresh of a receipts list from Clopos")
        # Personal data: the query is kept masked (a phone never in full).
        SEARCH_CUSTOMERS = "search_customers", _("Searched customers")
        VIEW_CUSTOMER = "view_customer", _("Viewed customer")
        CUSTOMER_NOT_FOUND = "customer_not_found", _("Looked up a customer not found or not visible")
        # `detail`: the format, the list's query and how many rows were written (or where it failed).
        EXPORT_ORDERS = "export_orders", _("Exported an orders list")
        EXPORT_RECEIPTS = "export_receipts", _("Exported a receipts list")

    created_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    # Kept as text too, so entries survive the user's deletion.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("user")
    )
    username = models.CharField(_("username"), max_length=150)
    action = models.CharField(_("action"), max_length=32, choices=Action.choices)
    # None for actions on a list rather than one order; `detail` then says which list.
    order_id = models.BigIntegerField(_("order id"), db_index=True, null=True, blank=True)
    venue_id = models.IntegerField(_("venue id"), null=True, blank=True)
    detail = models.CharField(_("detail"), max_length=500, blank=True, default="")
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    # Set on rows that came through an instance's local journal (audit/journal.py): a row moved
    # twice (a drainer died between insert and delete) is still one row.
    entry_uuid = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    class Meta:
        # The table the model had while it lived in the staff app: moving the model kept its data.
        db_table = "staff_auditentry"
        ordering = ["-created_at", "-id"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        indexes = [models.Index(fields=["venue_id", "-created_at"], name="audit_venue_recent")]

    def __str__(self) -> str:
        values = {"user": self.username, "action": self.get_action_display(), "order": self.order_id}
        if self.order_id is None:
            return gettext("%(user)s: %(action)s") % values
        return gettext("%(user)s: %(action)s, order %(order)s") % values
