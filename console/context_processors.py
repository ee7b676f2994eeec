from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from console.access import has_console_access

THEMES = {"light", "dark"}


def theme_of(user: User | AnonymousUser) -> str:
    """The user's colour scheme: light, dark, or system (the browser's prefers-color-scheme)."""
    profile = getattr(user, "staff_profile", None) if user.is_authenticated else None
    theme = getattr(profile, "theme", "system")
    return theme if theme in THEMES else "system"


def console(request: HttpRequest) -> dict[str, SimpleLazyObject[Any]]:
    """`console_access`: whether to offer the order lookup; `theme`: the user's colour scheme
    (each evaluated only if a template asks)."""
    return {
        "console_access": SimpleLazyObject(lambda: has_console_access(request.user)),
        "theme": SimpleLazyObject(lambda: theme_of(request.user)),
    }
