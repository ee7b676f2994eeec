from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from console.access import has_console_access
from console.csrf import request_token

THEMES = {"light", "dark"}


def theme_of(user: User | AnonymousUser) -> str:
    """The user's colour scheme: light, dark, or system (the browser's prefers-color-scheme)."""
    profile = getattr(user, "staff_profile", None) if user.is_authenticated else None
    theme = getattr(profile, "theme", "system")
    return theme if theme in THEMES else "system"


def console(request: HttpRequest) -> dict[str, SimpleLazyObject[Any]]:
    """`console_access`: whether to offer the order lookup; `theme`: the user's colour scheme;
    `csrf_token`: Django's, masked once per request (console/csrf.py) instead of once per render
    (this processor runs after Django's built-in one, so its value wins). Each is evaluated only
    if a template asks."""
    return {
        "console_access": SimpleLazyObject(lambda: has_console_access(request.user)),
        "theme": SimpleLazyObject(lambda: theme_of(request.user)),
        "csrf_token": SimpleLazyObject(lambda: request_token(request)),
    }
