"""The admin site, branded as the console and answering non-admins with the console's 403.

Django's admin sends a signed-in user who lacks `is_staff` to its own login form ("You are
authenticated as support, but are not authorized to access this page. Would you like to login
to a different account?"). Support and manager users are signed in and simply not allowed: they
get the console's 403 page, with its navigation. Anonymous users are sent to the console's login.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, resolve_url
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

from clopos_admin.views import permission_denied

if TYPE_CHECKING:
    from django.contrib.admin.sites import _ViewType


class ConsoleAdminSite(admin.AdminSite):
    site_header = "Clopos Admin"
    site_title = "Clopos Admin"
    index_title = _("Staff admin")
    site_url = "/orders/"

    def _refused(self, request: HttpRequest) -> bool:
        return request.user.is_authenticated and not self.has_permission(request)

    def admin_view(self, view: _ViewType, cacheable: bool = False) -> _ViewType:
        guarded = super().admin_view(view, cacheable)

        @functools.wraps(guarded)
        def inner(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            if self._refused(request) and request.path != reverse("admin:logout", current_app=self.name):
                return permission_denied(request)
            return guarded(request, *args, **kwargs)

        return inner  # type: ignore[return-value]  # same signature as the view it guards

    @method_decorator(never_cache)
    @login_not_required
    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        if self._refused(request):
            return permission_denied(request)
        if not request.user.is_authenticated and request.method in {"GET", "HEAD"}:
            # One login form for the whole console: the console's (throttled, with lockout).
            target = request.GET.get("next") or reverse("admin:index", current_app=self.name)
            return redirect(f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': target})}")
        return super().login(request, extra_context)
