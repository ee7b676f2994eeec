"""Who may see what: the venue scope of a user, read on every request by the views."""

from __future__ import annotations

from orders import permissions as perms


def venue_scope(user) -> frozenset[int] | None:
    """The venue ids the user may see; None means all venues of the brand."""
    if user.is_superuser:
        return None
    profile = getattr(user, "staff_profile", None)
    if profile is None:
        return frozenset()
    return profile.venues


def has_console_access(user) -> bool:
    """A role that can look up orders, and at least one venue."""
    if not user.is_authenticated or not user.has_perm(perms.VIEW_ORDER):
        return False
    scope = venue_scope(user)
    return scope is None or bool(scope)
