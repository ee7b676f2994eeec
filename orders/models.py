from typing import Any

from django.core.cache import cache
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from console.permissions import ORDER_PERMISSIONS


class OrderAccess(models.Model):
    """No table: carries the console's custom permissions (orders live in Clopos, not here)."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = ORDER_PERMISSIONS

    def __str__(self) -> str:
        return gettext("Order access")


class VenueSettings(models.Model):
    """What the console needs to know about a venue that Clopos' API does not say.

    `business_day_start` mirrors the venue's "cash register opening time" in Clopos; empty means
    the default, CLOPOS_BUSINESS_DAY_START.
    """

    venue_id = models.PositiveIntegerField(_("venue"), unique=True, validators=[MinValueValidator(1)])
    business_day_start = models.TimeField(
        _("business day starts at"),
        null=True,
        blank=True,
        help_text=_(
            "The venue's cash register opening time in Clopos (HH:MM, venue time). "
            "Empty: the default from CLOPOS_BUSINESS_DAY_START."
        ),
    )

    class Meta:
        ordering = ["venue_id"]
        verbose_name = _("venue settings")
        verbose_name_plural = _("venue settings")

    def __str__(self) -> str:
        return gettext("Venue #%(id)s") % {"id": self.venue_id}


#: The venues' business-day overrides as the lists read them (orders.selectors.venue_cutoffs):
#: a shared cache entry, cleared whenever a VenueSettings row is saved or deleted, so every worker
#: sees a change on its next page. The timeout bounds what a lost race could leave (a read of the
#: old rows stored just after the change cleared the entry).
VENUE_CUTOFFS_KEY = "orders:venue-cutoffs"
VENUE_CUTOFFS_SECONDS = 60


@receiver(post_save, sender=VenueSettings)
@receiver(post_delete, sender=VenueSettings)
def _venue_settings_changed(**kwargs: Any) -> None:
    cache.delete(VENUE_CUTOFFS_KEY)
