"""Receivers of the staff app, connected by `StaffConfig.ready()` (not on import)."""

from __future__ import annotations

import uuid

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.core.signals import request_started
from django.db.models.signals import m2m_changed, post_delete, post_migrate, post_save

from staff.models import StaffProfile
from staff.roles import sync_roles_after_migrate

PERMISSIONS_VERSION_KEY = "staff:permissions-version"


def user_key(user_id: object) -> str:
    """The cached user (with its staff profile) of the authentication backend."""
    return f"staff:user:{user_id}"


def permissions_changed(**kwargs: object) -> None:
    """Invalidate every cached permission set and user (a new random version, so no old entry
    matches)."""
    cache.set(PERMISSIONS_VERSION_KEY, uuid.uuid4().hex, timeout=None)


def user_changed(*, instance: object, **kwargs: object) -> None:
    """A user, or a staff profile, was saved or deleted: that user is read again next request."""
    user_id = (
        getattr(instance, "user_id", None) if isinstance(instance, StaffProfile) else getattr(instance, "pk", None)
    )
    if user_id is not None:
        cache.delete(user_key(user_id))


def connect() -> None:
    from staff.backends import forget_read_ahead  # it imports this module

    # A thread serves many requests: what one session read brought along is for its request only.
    request_started.connect(forget_read_ahead, dispatch_uid="staff.backends.forget-read-ahead")
    user_model = get_user_model()
    for through in (user_model.groups.through, user_model.user_permissions.through, Group.permissions.through):
        m2m_changed.connect(permissions_changed, sender=through, dispatch_uid=f"staff.permissions.{through.__name__}")
    post_delete.connect(permissions_changed, sender=Group, dispatch_uid="staff.permissions.group-deleted")
    post_delete.connect(permissions_changed, sender=Permission, dispatch_uid="staff.permissions.permission-deleted")
    for sender in (user_model, StaffProfile):
        post_save.connect(user_changed, sender=sender, dispatch_uid=f"staff.user-cache.saved.{sender.__name__}")
        post_delete.connect(user_changed, sender=sender, dispatch_uid=f"staff.user-cache.deleted.{sender.__name__}")
    # Permissions exist only after post_migrate has created them, so groups are built then.
    post_migrate.connect(sync_roles_after_migrate, dispatch_uid="staff.sync_roles")
