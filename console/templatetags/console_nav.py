"""The header's navigation, kept rendered per process (console/fragments.py).

On a warm order page the navigation (links per permission, the language and colour-scheme forms,
a dozen URL reversals) cost about as much as the rest of the page's shell. It depends only on
who the user is and may do, their colour scheme and language: those make the key. The CSRF
token and the page to come back to are filled in per request.
"""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from console import fragments
from console.chrome import chrome_key

register = template.Library()


@register.simple_tag(takes_context=True)
def console_nav(context: template.Context) -> SafeString:
    request = context["request"]
    flat = {str(name): value for name, value in context.flatten().items()}
    return fragments.render_cached(request, "includes/nav.html", flat, ("nav", chrome_key(request)))
