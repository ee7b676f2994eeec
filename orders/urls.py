from django.urls import path

from orders import views

app_name = "orders"

urlpatterns = [
    path("", views.order_lookup, name="order-lookup"),
    # <str:...> rather than <int:...>: a bad id gets our clear 400 message, not a bare 404.
    path("orders/<str:order_id>/", views.order_detail, name="order-detail"),
    path("orders/<str:order_id>/receipt/", views.order_receipt, name="order-receipt"),
]
