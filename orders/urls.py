from django.urls import path

from orders import views

app_name = "orders"

urlpatterns = [
    path("", views.order_lookup, name="order-lookup"),
    # <str:...> rather than <int:...>: a bad id gets our clear 400 message, not a bare 404.
    path("orders/<str:order_id>/", views.order_detail, name="order-detail"),
    path("orders/<str:order_id>/receipt/", views.order_receipt, name="order-receipt"),
    path("orders/<str:order_id>/customer/reveal/", views.order_customer_reveal, name="order-customer-reveal"),
    path("orders/<str:order_id>/refresh/", views.order_refresh, name="order-refresh"),
    path("audit/", views.audit_log, name="audit-log"),
    path("status/", views.clopos_status, name="clopos-status"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
]
