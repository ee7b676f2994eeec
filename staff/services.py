"""Writes on staff accounts, shared by the management commands."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.db import transaction

from staff.models import StaffProfile
from staff.roles import ROLES, STAFF_SITE_ROLES, sync_roles


def staff_user_upsert(*, username: str, role: str, password: str, venue_ids: Iterable[int], all_venues: bool):
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
