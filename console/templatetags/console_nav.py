"""The header's navigation, kept rendered per process (console/fragments.py).

On a warm order page the navigation (links per permission, the language and colour-scheme forms,
a dozen URL reversals) cost about as much as the rest of the page's shell. It depends only on
who the user is and may do, their colour scheme and language: those make the key. The CSRF
token and the page to come back to are filled in per request.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString

from console import fragments
from console.permissions import SEARCH_CUSTOMERS, VIEW_AUDIT_LOG, VIEW_STATUS_PANEL

register = template.Library()

#: The permissions nav.html checks (besides console access and staff status).
NAV_PERMISSIONS = (SEARCH_CUSTOMERS, VIEW_AUDIT_LOG, VIEW_STATUS_PANEL)


@register.simple_tag(takes_context=True)
def console_nav(context: template.Context) -> SafeString:
    request = context["request"]
    user = request.user
    key: tuple[Any, ...] = (
        "nav",
        user.pk,
        user.get_username(),
        user.is_staff,
        bool(context.get("console_access")),
        tuple(user.has_perm(permission) for permission in NAV_PERMISSIONS),
        str(context.get("theme", "")),
    )
    flat = {str(name): value for name, value in context.flatten().items()}
    return fragments.render_cached(request, "includes/nav.html", flat, key)
