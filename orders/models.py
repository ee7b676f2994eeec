from django.db import models

from orders.permissions import ORDER_PERMISSIONS


class OrderAccess(models.Model):
    """No table: carries the console's custom permissions (orders live in Clopos, not here)."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = ORDER_PERMISSIONS

    def __str__(self) -> str:
        return "Order access"
