from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from clopos.catalogue import cached_venue_names
from orders.models import VenueSettings


class VenueSettingsForm(forms.ModelForm):
    class Meta:
        model = VenueSettings
        fields = ["venue_id", "business_day_start"]
        widgets = {"business_day_start": forms.TimeInput(format="%H:%M", attrs={"placeholder": "06:00"})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Venue names from whatever the cache holds: rendering a form never calls Clopos. Before
        # the console has loaded them once, the venue is typed as its Clopos id.
        names = cached_venue_names()
        if names:
            current = [self.instance.venue_id] if self.instance and self.instance.pk else []
            self.fields["venue_id"] = forms.TypedChoiceField(
                coerce=int,
                label=_("Venue"),
                choices=[(i, f"{names.get(i, _('Venue'))} (#{i})") for i in sorted(set(names) | set(current))],
            )
        else:
            self.fields["venue_id"].help_text = _(
                "The venue's Clopos id (names appear once the console has loaded them)."
            )
        self.fields["business_day_start"].help_text = _(
            "The venue's cash register opening time in Clopos (HH:MM, venue time). Empty: the default, %(default)s."
        ) % {"default": settings.CLOPOS_BUSINESS_DAY_START}


@admin.register(VenueSettings)
class VenueSettingsAdmin(admin.ModelAdmin):
    form = VenueSettingsForm
    list_display = ["venue", "business_day_start_display"]

    @admin.display(description=_("Venue"), ordering="venue_id")
    def venue(self, obj: VenueSettings) -> str:
        return f"{cached_venue_names().get(obj.venue_id, _('Venue'))} (#{obj.venue_id})"

    @admin.display(description=_("Business day starts at"))
    def business_day_start_display(self, obj: VenueSettings) -> str:
        if obj.business_day_start is None:
            return _("default (%(default)s)") % {"default": settings.CLOPOS_BUSINESS_DAY_START}
        return obj.business_day_start.strftime("%H:%M")
