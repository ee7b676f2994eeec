"""What the page around the content (the header, its navigation and forms) depends on.

The header's navigation (console/templatetags/console_nav.py) and whole kept pages
(console/fragments.py) are kept per process under this key, so a hit shows exactly the links and
forms this user may use now: it is computed per request from the user's current permissions.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from console.access import has_console_access
from console.context_processors import theme_of
from console.permissions import SEARCH_CUSTOMERS, VIEW_AUDIT_LOG, VIEW_STATUS_PANEL

#: The permissions nav.html checks (besides console access and staff status).
NAV_PERMISSIONS = (SEARCH_CUSTOMERS, VIEW_AUDIT_LOG, VIEW_STATUS_PANEL)


def chrome_key(request: HttpRequest) -> tuple[Any, ...]:
    user = request.user
    if not user.is_authenticated:
        return ("anonymous",)
    return (
        user.pk,
        user.get_username(),
        user.is_staff,
        has_console_access(user),
        tuple(user.has_perm(permission) for permission in NAV_PERMISSIONS),
        theme_of(user),
    )
