from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class StaffProfile(models.Model):
    """Which venues of the brand a staff user may see, and their display preferences."""

    class Theme(models.TextChoices):
        SYSTEM = "system", _("As the system")
        LIGHT = "light", _("Light")
        DARK = "dark", _("Dark")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_profile", verbose_name=_("user")
    )
    all_venues = models.BooleanField(
        _("all venues"), default=False, help_text=_("Every venue of the brand, including future ones.")
    )
    venue_ids = models.JSONField(
        _("venues"), default=list, blank=True, help_text=_("Clopos venue ids this user may see.")
    )
    # Applied on every request after login (console.middleware.UserLanguageMiddleware); empty
    # follows the browser. The choices name each language in its own language.
    language = models.CharField(
        _("language"),
        max_length=8,
        blank=True,
        default="",
        choices=settings.LANGUAGES,
        help_text=_("The console's language for this user. Empty: the browser's language."),
    )
    # Applied by the server on every page (a data-theme attribute on <html>): no flash of the
    # wrong scheme, on any device the user signs in on.
    theme = models.CharField(
        _("colour scheme"),
        max_length=8,
        choices=Theme.choices,
        default=Theme.SYSTEM,
        help_text=_("Colour scheme of the console."),
    )

    class Meta:
        verbose_name = _("staff profile")
        verbose_name_plural = _("staff profiles")

    def __str__(self) -> str:
        return _("Venues of %(user)s") % {"user": self.user}

    @property
    def venues(self) -> frozenset[int] | None:
        """None means every venue."""
        if self.all_venues:
            return None
        return frozenset(int(v) for v in self.venue_ids if isinstance(v, int) or str(v).isdecimal())
