"""Authentication backend: Django's ModelBackend without database queries on a normal request.

Every console request needs the user (with their venue assignments) and their permission set.
Both are kept in the shared cache and read together in one round trip: the user under its own
key, dropped whenever the user or their staff profile is saved or deleted (a password change,
a deactivation, new venues), and the permission set under a version that any change of roles
or permissions replaces (staff/signals.py). A change takes effect on the next request, in every
worker; masking, permissions and scope are still decided per request from these values.
Where the session was read together with these entries (staff.sessions), that one round trip
serves both.
"""

import uuid
from contextvars import ContextVar
from typing import Any, cast

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import AnonymousUser, User
from django.core.cache import cache
from django.db.models import Model

from staff.signals import PERMISSIONS_VERSION_KEY, user_key

USER_TIMEOUT = PERMISSIONS_TIMEOUT = 3600


def _permissions_key(user_id: Any, is_superuser: bool | None) -> str:
    # Superusers hold every permission: a change of that flag must not reuse the set.
    return f"staff:permissions:{user_id}:{int(bool(is_superuser))}"


class StaffModelBackend(ModelBackend):
    def get_user(self, user_id: Any) -> User | None:
        user_id = int(user_id)
        version, found = _read(user_id)
        user = _current(found.get(user_key(user_id)), version)
        if user is None:
            user_model = get_user_model()
            try:
                user = user_model._default_manager.select_related("staff_profile").get(pk=user_id)
            except user_model.DoesNotExist:
                return None
            cache.set(user_key(user_id), (version, user), timeout=USER_TIMEOUT)
        permissions = _current(found.get(_permissions_key(user_id, user.is_superuser)), version)
        if permissions is not None:
            user._perm_cache = permissions  # ModelBackend's per-object cache
        return user if self.user_can_authenticate(user) else None

    def get_all_permissions(self, user_obj: User | AnonymousUser, obj: Model | None = None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return super().get_all_permissions(user_obj, obj)
        if hasattr(user_obj, "_perm_cache"):
            return cast(set[str], user_obj._perm_cache)  # set by get_user above or by ModelBackend
        version, found = _read(user_obj.pk)
        key = _permissions_key(user_obj.pk, user_obj.is_superuser)
        cached: set[str] | None = _current(found.get(key), version)
        if cached is not None:
            user_obj._perm_cache = cached  # type: ignore[attr-defined]
            return cached
        permissions = super().get_all_permissions(user_obj)
        cache.set(key, (version, permissions), timeout=PERMISSIONS_TIMEOUT)
        return permissions


def read_ahead_keys(user_id: int) -> list[str]:
    """The cache keys `_read` reads for this user: the permission version, the user, its sets."""
    user_keys = [user_key(user_id), _permissions_key(user_id, False), _permissions_key(user_id, True)]
    return [PERMISSIONS_VERSION_KEY, *user_keys]


# What the session store read of a user in the same round trip as the session, for this request
# only: taken once by `_read`, and dropped when the next request starts (a thread serves many).
_read_ahead: ContextVar[tuple[int, dict[str, Any]] | None] = ContextVar("staff_read_ahead", default=None)


def read_ahead(user_id: int, found: dict[str, Any]) -> None:
    """Offer the values of `read_ahead_keys(user_id)`, just read, to this request's `_read`."""
    _read_ahead.set((user_id, found))


def forget_read_ahead(**kwargs: Any) -> None:
    """request_started's receiver (staff.signals.connect)."""
    _read_ahead.set(None)


def _read(user_id: Any) -> tuple[str, dict[str, Any]]:
    """The permission version and whatever is cached of this user: one cache round trip, or
    none when the session's read brought them along for this user."""
    offered = _read_ahead.get()
    _read_ahead.set(None)
    found = offered[1] if offered is not None and offered[0] == user_id else cache.get_many(read_ahead_keys(user_id))
    version = found.get(PERMISSIONS_VERSION_KEY)
    if version is None:  # never set, or evicted: start a new version
        cache.add(PERMISSIONS_VERSION_KEY, uuid.uuid4().hex, timeout=None)
        version = cache.get(PERMISSIONS_VERSION_KEY)
    return version, found


def _current(entry: Any, version: str) -> Any:
    """The value of a (version, value) entry written under the current version, else None."""
    return entry[1] if isinstance(entry, tuple) and len(entry) == 2 and entry[0] == version else None
