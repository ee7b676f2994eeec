"""Builds the role groups from `console.permissions.ROLES`."""

from __future__ import annotations

from django.apps import AppConfig
from django.contrib.auth.models import Group, Permission, User

from console.permissions import ROLES


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


def sync_roles_after_migrate(
    sender: object, app_config: AppConfig | None = None, using: str = "default", **kwargs: object
) -> None:
    # Run once per migrate, after the last app's permissions exist (staff migrates after audit).
    if app_config is not None and app_config.label == "staff":
        sync_roles()


def role_of(user: User) -> str | None:
    names = {group.name for group in user.groups.all()}
    return next((role for role in ROLES if role in names), None)
