"""Who may do what in the console: permission codenames and the roles built from them.

Views, navigation, templates and `staff.roles.sync_roles` all read these constants; a test pins
each role's exact set. The console's own permissions hang off `orders.OrderAccess` (a model with
no table), so their codenames keep the `orders.` prefix.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

VIEW_ORDER = "orders.view_order"
VIEW_PAYMENTS = "orders.view_payments"
REVEAL_CUSTOMER = "orders.reveal_customer"
REFRESH_ORDER = "orders.refresh_order"
VIEW_AUDIT_LOG = "orders.view_audit_log"
VIEW_STATUS_PANEL = "orders.view_status_panel"
SEARCH_CUSTOMERS = "orders.search_customers"

# (codename, description) for the permission-carrier model in orders/models.py.
ORDER_PERMISSIONS: list[tuple[str, StrOrPromise]] = [
    ("view_order", "Look up orders and view them with a receipt summary"),
    ("view_payments", "View the full receipt with lines and payments"),
    ("reveal_customer", "Reveal customer phone and address"),
    ("refresh_order", "Force a refresh of an order from Clopos"),
    ("view_audit_log", "View the audit log of their venues"),
    ("view_status_panel", "View the Clopos connection status panel"),
    ("search_customers", "Search customers by phone or name and view their recent receipts and orders"),
]

SUPPORT, MANAGER, ADMIN = "support", "manager", "admin"

# Support staff take the calls: they must find the customer's order, with phones masked.
_SUPPORT = [VIEW_ORDER, SEARCH_CUSTOMERS]
_MANAGER = [
    *_SUPPORT,
    VIEW_PAYMENTS,
    REVEAL_CUSTOMER,
    REFRESH_ORDER,
    VIEW_AUDIT_LOG,
    VIEW_STATUS_PANEL,
]
_ADMIN = [
    *_MANAGER,
    "auth.view_user",
    "auth.add_user",
    "auth.change_user",
    "auth.delete_user",
    "auth.view_group",
    "staff.view_staffprofile",
    "staff.add_staffprofile",
    "staff.change_staffprofile",
    "staff.delete_staffprofile",
    "audit.view_auditentry",
    "orders.view_venuesettings",
    "orders.add_venuesettings",
    "orders.change_venuesettings",
    "orders.delete_venuesettings",
]

#: Each role is a Django Group with exactly these permissions (`manage.py sync_roles`).
ROLES: dict[str, list[str]] = {SUPPORT: _SUPPORT, MANAGER: _MANAGER, ADMIN: _ADMIN}
#: Roles that work in Django's admin site, which needs is_staff.
STAFF_SITE_ROLES = {ADMIN}
