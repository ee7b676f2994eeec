from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import AbstractUser, Group, Permission
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from clopos.catalogue import cached_venue_names
from console.permissions import ADMIN, MANAGER, SUPPORT
from staff.models import StaffProfile

if TYPE_CHECKING:
    from django_stubs_ext import FieldsetSpec


# The roles' names for people; the groups keep the codes (`console.permissions.ROLES`).
ROLE_LABELS = {SUPPORT: _("Support"), MANAGER: _("Manager"), ADMIN: _("Admin")}


class StaffProfileForm(forms.ModelForm):
    venue_ids = forms.TypedMultipleChoiceField(
        coerce=int, required=False, label=_("Venues"), widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = StaffProfile
        fields = ["all_venues", "venue_ids", "language"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Venue names come from whatever the cache holds (never a Clopos call while rendering a
        # form); ids already assigned stay selectable.
        names = cached_venue_names()
        assigned = self.instance.venue_ids if self.instance and self.instance.pk else []
        ids = sorted(set(names) | {int(v) for v in assigned})
        venue_field = cast(forms.TypedMultipleChoiceField, self.fields["venue_ids"])
        venue_field.choices = [(i, f"{names.get(i) or gettext('Venue')} (#{i})") for i in ids]


class StaffProfileInline(admin.StackedInline):
    model = StaffProfile
    form = StaffProfileForm
    can_delete = False
    verbose_name = verbose_name_plural = _("Venue access and language")


class StaffUserAdmin(UserAdmin):
    inlines = [StaffProfileInline]
    list_display = ["username", "role", "venues", "is_active", "last_login"]
    list_filter = ["groups", "is_active"]

    @admin.display(description=_("Role"))
    def role(self, user: AbstractUser) -> str:
        return ", ".join(str(ROLE_LABELS.get(group.name, group.name)) for group in user.groups.all()) or "—"

    @admin.display(description=_("Venues"))
    def venues(self, user: AbstractUser) -> str:
        profile = getattr(user, "staff_profile", None)
        if profile is None:
            return gettext("none")
        if profile.all_venues:
            return gettext("all")
        return ", ".join(map(str, profile.venue_ids)) or gettext("none")

    def get_fieldsets(self, request: HttpRequest, obj: AbstractUser | None = None) -> FieldsetSpec:
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

    def get_queryset(self, request: HttpRequest) -> QuerySet[AbstractUser]:
        users = super().get_queryset(request).select_related("staff_profile").prefetch_related("groups")
        if request.user.is_superuser:
            return users
        # Nobody sees, edits, re-passwords, deactivates or deletes an account that can do more
        # than they can: the change, password, history and delete views all look users up here,
        # so such an account is simply not found (404, or "doesn't exist").
        beyond = _permissions_beyond(request.user)
        return (
            users.exclude(is_superuser=True)
            .exclude(groups__in=_groups_beyond(beyond))
            .exclude(user_permissions__in=beyond)
            .distinct()
        )

    def formfield_for_manytomany(
        self, db_field: Any, request: HttpRequest, **kwargs: Any
    ) -> forms.ModelMultipleChoiceField | None:
        if db_field.name == "groups" and not request.user.is_superuser:
            # Roles that grant more than the admin holds cannot be given, to others or to oneself.
            kwargs["queryset"] = Group.objects.exclude(pk__in=_groups_beyond(_permissions_beyond(request.user)))
        return super().formfield_for_manytomany(db_field, request, **kwargs)


def _permissions_beyond(user: Any) -> QuerySet[Permission]:
    """The permissions `user` does not hold."""
    held = user.get_all_permissions()
    ids = [
        permission.pk
        for permission in Permission.objects.select_related("content_type")
        if f"{permission.content_type.app_label}.{permission.codename}" in held
    ]
    return Permission.objects.exclude(pk__in=ids)


def _groups_beyond(beyond: QuerySet[Permission]) -> QuerySet[Group]:
    """Groups holding at least one of `beyond`."""
    return Group.objects.filter(permissions__in=beyond).distinct()


User = get_user_model()
admin.site.unregister(User)
admin.site.register(User, StaffUserAdmin)
