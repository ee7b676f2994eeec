from django.conf import settings
from django.db import models
from django.utils import timezone


class StaffProfile(models.Model):
    """Which venues of the brand a staff user may see."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_profile")
    all_venues = models.BooleanField(default=False, help_text="Every venue of the brand, including future ones.")
    venue_ids = models.JSONField(default=list, blank=True, help_text="Clopos venue ids this user may see.")

    class Meta:
        verbose_name = "staff profile"

    def __str__(self) -> str:
        return f"Venues of {self.user}"

    @property
    def venues(self) -> frozenset[int] | None:
        """None means every venue."""
        if self.all_venues:
            return None
        return frozenset(int(v) for v in self.venue_ids if isinstance(v, int) or str(v).isdecimal())


class AuditEntry(models.Model):
    class Action(models.TextChoices):
        VIEW_ORDER = "view_order", "Viewed order"
        REVEAL_CUSTOMER = "reveal_customer", "Revealed customer details"
        REFRESH_ORDER = "refresh_order", "Forced refresh from Clopos"

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # Kept as text too, so entries survive the user's deletion.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    username = models.CharField(max_length=150)
    action = models.CharField(max_length=32, choices=Action.choices)
    order_id = models.BigIntegerField(db_index=True)
    venue_id = models.IntegerField(null=True, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["venue_id", "-created_at"], name="audit_venue_recent")]

    def __str__(self) -> str:
        return f"{self.username} {self.action} order {self.order_id}"
