"""Authentication backend: Django's ModelBackend with the two per-request costs taken out.

Every console request needs the user's venue assignments and permission set. The first is
loaded with the user (one query instead of two); the second is kept in the shared cache
(two queries saved on every request), under a version that any change of roles or
permissions replaces, so a change takes effect on the next request, in every worker.
"""

import uuid

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.db.models.signals import m2m_changed, post_delete

PERMISSIONS_VERSION_KEY = "staff:permissions-version"


def _permissions_key(user) -> str:
    return f"staff:permissions:{user.pk}:{int(user.is_superuser)}"


def permissions_changed(**kwargs) -> None:
    """Invalidate every cached permission set (a new random version, so no old entry matches)."""
    cache.set(PERMISSIONS_VERSION_KEY, uuid.uuid4().hex, timeout=None)


class StaffModelBackend(ModelBackend):
    def get_user(self, user_id):
        user_model = get_user_model()
        try:
            user = user_model._default_manager.select_related("staff_profile").get(pk=user_id)
        except user_model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return super().get_all_permissions(user_obj, obj)
        if hasattr(user_obj, "_perm_cache"):
            return user_obj._perm_cache
        key = _permissions_key(user_obj)
        found = cache.get_many([PERMISSIONS_VERSION_KEY, key])
        version = found.get(PERMISSIONS_VERSION_KEY)
        if version is None:  # never set, or evicted: start a new version
            cache.add(PERMISSIONS_VERSION_KEY, uuid.uuid4().hex, timeout=None)
            version = cache.get(PERMISSIONS_VERSION_KEY)
        cached = found.get(key)
        if cached is not None and cached[0] == version:
            user_obj._perm_cache = cached[1]
            return cached[1]
        permissions = super().get_all_permissions(user_obj)
        cache.set(key, (version, permissions), timeout=3600)
        return permissions


_user_model = get_user_model()
for _through in (_user_model.groups.through, _user_model.user_permissions.through, Group.permissions.through):
    m2m_changed.connect(permissions_changed, sender=_through, dispatch_uid=f"staff.permissions.{_through.__name__}")
post_delete.connect(permissions_changed, sender=Group, dispatch_uid="staff.permissions.group-deleted")
post_delete.connect(permissions_changed, sender=Permission, dispatch_uid="staff.permissions.permission-deleted")
