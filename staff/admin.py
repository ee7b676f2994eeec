from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from orders.services import venue_names
from staff.models import AuditEntry, StaffProfile


class StaffProfileForm(forms.ModelForm):
    venue_ids = forms.TypedMultipleChoiceField(
        coerce=int, required=False, label="Venues", widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = StaffProfile
        fields = ["all_venues", "venue_ids"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Venue names come from the cached Clopos catalogue; ids already assigned stay selectable.
        names = venue_names()
        assigned = self.instance.venue_ids if self.instance and self.instance.pk else []
        ids = sorted(set(names) | {int(v) for v in assigned})
        self.fields["venue_ids"].choices = [(i, f"{names.get(i, 'Venue')} (#{i})") for i in ids]


class StaffProfileInline(admin.StackedInline):
    model = StaffProfile
    form = StaffProfileForm
    can_delete = False
    verbose_name = verbose_name_plural = "Venue access"


class StaffUserAdmin(UserAdmin):
    inlines = [StaffProfileInline]
    list_display = ["username", "role", "venues", "is_active", "last_login"]
    list_filter = ["groups", "is_active"]

    @admin.display(description="Role")
    def role(self, user):
        return ", ".join(group.name for group in user.groups.all()) or "—"

    @admin.display(description="Venues")
    def venues(self, user):
        profile = getattr(user, "staff_profile", None)
        if profile is None:
            return "none"
        return "all" if profile.all_venues else (", ".join(map(str, profile.venue_ids)) or "none")

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser:
            return fieldsets
        # A staff admin assigns roles (groups) and venues, but cannot grant superuser status or
        # loose permissions: that would let them give anyone more than a role allows.
        return [
            (name, {**options, "fields": ("is_active", "is_staff", "groups")})
            if "is_superuser" in options.get("fields", ())
            else (name, options)
            for name, options in fieldsets
        ]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("staff_profile").prefetch_related("groups")


User = get_user_model()
admin.site.unregister(User)
admin.site.register(User, StaffUserAdmin)


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "username", "action", "order_id", "venue_id", "ip_address"]
    list_filter = ["action", "venue_id"]
    search_fields = ["username", "=order_id"]
    date_hierarchy = "created_at"

    # The log is evidence: nobody edits or deletes entries here (pruning is a command).
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
