"""The request as console views see it, for the type checker (like django-htmx's `HtmxHttpRequest`)."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class ConsoleRequest(HttpRequest):
    """A request that passed `console_view`: the attributes below are set on every such request.

    Only an annotation: no instance of this class is ever made; Django's request is the object.
    """

    #: Set by django-htmx's HtmxMiddleware on every request.
    htmx: HtmxDetails
    #: `console_view` lets only an authenticated user with console access through.
    user: User
    #: Set by `console_view`: the venue ids the user may see, None for all.
    venue_scope: frozenset[int] | None
