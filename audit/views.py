from django.core.paginator import Paginator
from django.http import HttpResponse
from django.views.decorators.http import require_safe

from audit.forms import AuditFilterForm
from audit.selectors import audit_entries
from console import permissions as perms
from console.access import console_view, render_page
from console.http import ConsoleRequest

TEMPLATE = "audit/audit_log.html"


@require_safe
@console_view(perms.VIEW_AUDIT_LOG)
def audit_log(request: ConsoleRequest) -> HttpResponse:
    """Who viewed, revealed or refreshed which order, in the user's venues."""
    form = AuditFilterForm(data=request.GET or None)
    if form.is_bound and not form.is_valid():
        return render_page(request, TEMPLATE, {"form": form, "page": None}, status=400)
    entries = audit_entries(venue_ids=request.venue_scope, filters=form.filters() if form.is_bound else None)
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render_page(request, TEMPLATE, {"form": form, "page": page, "query": query.urlencode()})
