"""The gate every console view passes: login (middleware), a role with venues, a permission,
and the user's venue scope; plus the one place where a failure raised by a view becomes a page.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render, resolve_url
from django.views.decorators.cache import never_cache

from clopos import deadline
from clopos.errors import CloposError
from console import permissions as perms
from console.http import ConsoleRequest

#: Renders the page for a failure a view raised: (request, error, the view's URL kwargs).
ErrorPage = Callable[[ConsoleRequest, Exception, dict[str, Any]], HttpResponse]


class InputError(ValueError):
    """A request's input (an id in the URL, a query string) is not valid: 400, never upstream."""

    def __init__(self, message: str, *, value: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.value = value


def venue_scope(user: User | AnonymousUser) -> frozenset[int] | None:
    """The venue ids the user may see; None means all venues of the brand."""
    if user.is_superuser:
        return None
    profile = getattr(user, "staff_profile", None)
    if profile is None:
        return frozenset()
    venues: frozenset[int] | None = profile.venues
    return venues


def has_console_access(user: User | AnonymousUser) -> bool:
    """A role that can look up orders, and at least one venue."""
    if not user.is_authenticated or not user.has_perm(perms.VIEW_ORDER):
        return False
    scope = venue_scope(user)
    return scope is None or bool(scope)


def render_page(
    request: HttpRequest, template: str, context: dict[str, Any] | None = None, status: int = 200
) -> HttpResponse:
    """`render`, with its time reported in Server-Timing."""
    with deadline.timed("render"):
        return render(request, template, context, status=status)


def with_retry_after(response: HttpResponse, exc: Exception) -> HttpResponse:
    retry_after = getattr(exc, "retry_after", None)
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


def console_view(
    permission: str, *, errors: ErrorPage | None = None
) -> Callable[[Callable[..., HttpResponseBase]], Callable[..., HttpResponseBase]]:
    """Deny by default: a role with access to at least one venue, and `permission`.

    Sets `request.venue_scope`. A CloposError or InputError the view raises is rendered by
    `errors` (the view family's error page), so views never return a union of result and error.
    """

    def decorator(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        # Customer data must not linger in shared caches or the browser's history after logout.
        @never_cache
        @functools.wraps(view)
        def wrapped(request: ConsoleRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not has_console_access(request.user):
                if request.htmx:
                    # Access was withdrawn while a page was open: show it as a page, not in a slot.
                    response = HttpResponse(status=403)
                    response["HX-Redirect"] = resolve_url(settings.LOGIN_REDIRECT_URL)
                    return response
                return render_page(request, "console/no_access.html", status=403)
            if not request.user.has_perm(permission):
                raise PermissionDenied
            request.venue_scope = venue_scope(request.user)
            timings = deadline.current()
            timings.expose = request.user.has_perm(perms.VIEW_STATUS_PANEL)
            timings.actor = f"user:{request.user.pk}"  # for the per-user Clopos budget
            if errors is None:
                return view(request, *args, **kwargs)
            try:
                return view(request, *args, **kwargs)
            except (CloposError, InputError) as exc:
                return with_retry_after(errors(request, exc, kwargs), exc)

        return wrapped

    return decorator
