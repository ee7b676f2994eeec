from django.urls import path, re_path

from orders.views import customers, detail, export, lists, receipts

app_name = "orders"

# Downloads of a list: /orders/export.csv, /orders/export.xlsx, /receipts/export.csv, ….
EXPORT = r"export\.(?P<file_format>csv|xlsx)$"

urlpatterns = [
    path("", detail.order_lookup, name="order-lookup"),
    path("orders/", lists.order_list, name="order-list"),
    # Before the order routes: "refresh" and "export.csv" are not order ids.
    path("orders/refresh/", lists.order_list_refresh, name="order-list-refresh"),
    re_path(rf"^orders/{EXPORT}", export.order_export, name="order-export"),
    # <str:...> rather than <int:...>: a bad id gets our clear 400 message, not a bare 404.
    path("orders/<str:order_id>/", detail.order_detail, name="order-detail"),
    path("orders/<str:order_id>/receipt/", detail.order_receipt, name="order-receipt"),
    path("orders/<str:order_id>/receipt/print/", detail.order_receipt_print, name="order-receipt-print"),
    path("orders/<str:order_id>/customer/reveal/", detail.order_customer_reveal, name="order-customer-reveal"),
    path("orders/<str:order_id>/refresh/", detail.order_refresh, name="order-refresh"),
    path("receipts/", receipts.receipt_list, name="receipt-list"),
    path("receipts/refresh/", receipts.receipt_list_refresh, name="receipt-list-refresh"),
    re_path(rf"^receipts/{EXPORT}", export.receipt_export, name="receipt-export"),
    path("receipts/<str:receipt_id>/", receipts.receipt_detail, name="receipt-detail"),
    path("customers/", customers.customer_search, name="customer-search"),
    path("customers/<str:customer_id>/", customers.customer_detail, name="customer-detail"),
]
