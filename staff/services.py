"""Writes on staff accounts, shared by the management commands."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, User
from django.contrib.auth.password_validation import validate_password
from django.db import transaction

from console.permissions import ROLES, STAFF_SITE_ROLES
from staff.models import StaffProfile
from staff.roles import sync_roles


def staff_user_upsert(*, username: str, role: str, password: str, venue_ids: Iterable[int], all_venues: bool) -> User:
    """Create or update a user with exactly one role and its venues.

    Raises ValueError for an unknown role or bad venues, ValidationError for a weak password.
    """
    venues = sorted(set(venue_ids))
    if role not in ROLES:
        raise ValueError(f"Unknown role {role!r}; choose one of {', '.join(sorted(ROLES))}.")
    if venues and all_venues:
        raise ValueError("Use either venues or all venues, not both.")
    if any(v <= 0 for v in venues):
        raise ValueError("Venue ids are positive integers.")
    User = get_user_model()
    user = User.objects.filter(username=username).first() or User(username=username)
    validate_password(password, user)
    with transaction.atomic():
        sync_roles()
        user.set_password(password)
        user.is_staff = role in STAFF_SITE_ROLES
        user.is_active = True
        user.save()
        user.groups.set([Group.objects.get(name=role)])
        StaffProfile.objects.update_or_create(user=user, defaults={"all_venues": all_venues, "venue_ids": venues})
    return user


def staff_language_set(*, user: User, language: str) -> None:
    """Save the user's console language (one of settings.LANGUAGES; "" follows the browser).

    A user without a staff profile (a superuser made by `createsuperuser`) gets one, with no
    venues: the profile only grants what its venue fields say.
    """
    StaffProfile.objects.update_or_create(user=user, defaults={"language": language})


def staff_theme_set(*, user: User, theme: str) -> None:
    """Save the user's colour scheme (a StaffProfile.Theme value); ValueError for any other."""
    if theme not in StaffProfile.Theme.values:
        raise ValueError(f"unknown theme {theme!r}")
    StaffProfile.objects.update_or_create(user=user, defaults={"theme": theme})
