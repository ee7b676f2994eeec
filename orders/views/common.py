"""What the order views share: the error message for a Clopos failure, the lists' download links,
what a kept fragment shows of a cache entry."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import HttpResponse
from django.urls import reverse
from django.utils.translation import gettext

from clopos.errors import CloposError, CloposNotFoundError, CloposRateLimitedError
from clopos.store import Freshness
from console.access import render_page
from console.http import ConsoleRequest


def error_message(exc: CloposError) -> str:
    """What the user reads when Clopos failed them: never upstream text."""
    if isinstance(exc, CloposNotFoundError):
        return gettext("No order with this id exists in Clopos, or it belongs to a venue you cannot see.")
    if isinstance(exc, CloposRateLimitedError) and exc.retry_after:
        return gettext("%(message)s Try again in %(seconds)s s.") % {
            "message": gettext(exc.user_message),
            "seconds": exc.retry_after,
        }
    return gettext("%(message)s Try again in a moment.") % {"message": gettext(exc.user_message)}


def freshness_key(freshness: Freshness) -> tuple[Any, ...]:
    """What a fragment kept rendered (console/fragments.py) shows of a cache entry: which fetch,
    served how, and the failure a stale copy is served for."""
    error = freshness.error
    failure = (type(error).__name__, error.retry_after) if error is not None else None
    return (freshness.version, freshness.source, failure)


#: The export formats, in the order the download links show them.
EXPORT_FORMATS = ("csv", "xlsx")


def export_links(url_name: str, pairs: list[tuple[str, str]]) -> list[dict[str, str]]:
    """ "Download CSV / XLSX" of a list, for its current filters (the page left out: an export
    covers every page)."""
    query = urlencode([(key, value) for key, value in pairs if key != "page"])
    return [
        {"format": fmt.upper(), "url": reverse(url_name, kwargs={"file_format": fmt}) + (f"?{query}" if query else "")}
        for fmt in EXPORT_FORMATS
    ]


def record_error_page(
    request: ConsoleRequest, *, title: str, message: str, status: int, retry_url: str | None
) -> HttpResponse:
    """The error page of a receipt or a customer: what failed and, unless it is a 404, a retry."""
    context = {"title": title, "message": message, "status": status, "retry_url": retry_url if status != 404 else None}
    return render_page(request, "orders/record_error.html", context, status=status)
