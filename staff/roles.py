"""Roles are data in one place: each maps to a Django Group with exactly these permissions."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission

from orders import permissions as perms

SUPPORT, MANAGER, ADMIN = "support", "manager", "admin"

_SUPPORT = [perms.VIEW_ORDER]
_MANAGER = [
    *_SUPPORT,
    perms.VIEW_PAYMENTS,
    perms.REVEAL_CUSTOMER,
    perms.REFRESH_ORDER,
    perms.VIEW_AUDIT_LOG,
    perms.VIEW_STATUS_PANEL,
]
_ADMIN = [
    *_MANAGER,
    "auth.view_user",
    "auth.add_user",
    "auth.change_user",
    "auth.delete_user",
    "auth.view_group",
    "staff.view_staffprofile",
    "staff.add_staffprofile",
    "staff.change_staffprofile",
    "staff.delete_staffprofile",
    "staff.view_auditentry",
]

ROLES: dict[str, list[str]] = {SUPPORT: _SUPPORT, MANAGER: _MANAGER, ADMIN: _ADMIN}
# Admins work in Django's admin site, which needs is_staff.
STAFF_SITE_ROLES = {ADMIN}


def _permission(dotted: str) -> Permission:
    app_label, codename = dotted.split(".", 1)
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def sync_roles() -> dict[str, int]:
    """Create or update one Group per role with exactly its permissions. Safe to re-run."""
    result = {}
    for role, dotted_names in ROLES.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set([_permission(name) for name in dotted_names])
        result[role] = len(dotted_names)
    return result


def sync_roles_after_migrate(sender, app_config=None, using="default", **kwargs) -> None:
    # Run once per migrate, after the last app's permissions exist.
    if app_config is not None and app_config.label == "staff":
        sync_roles()


def role_of(user) -> str | None:
    names = {group.name for group in user.groups.all()}
    return next((role for role in ROLES if role in names), None)
