"""Permission codenames of the console. Views, navigation and roles all read these constants."""

VIEW_ORDER = "orders.view_order"
VIEW_PAYMENTS = "orders.view_payments"
REVEAL_CUSTOMER = "orders.reveal_customer"
REFRESH_ORDER = "orders.refresh_order"
VIEW_AUDIT_LOG = "orders.view_audit_log"
VIEW_STATUS_PANEL = "orders.view_status_panel"

# (codename, description) for the permission-carrier model in orders/models.py.
ORDER_PERMISSIONS = [
    ("view_order", "Look up orders and view them with a receipt summary"),
    ("view_payments", "View the full receipt with lines and payments"),
    ("reveal_customer", "Reveal customer phone and address"),
    ("refresh_order", "Force a refresh of an order from Clopos"),
    ("view_audit_log", "View the audit log of their venues"),
    ("view_status_panel", "View the Clopos connection status panel"),
]
