"""Downloads of the orders and receipts lists for their current filters: CSV streamed page by page,
XLSX built in a temporary file then sent (`orders.export` says how and why).

Refused with a clear 400 before any upstream call when the filters are invalid (a range over 31
days included: the lists' own forms); refused after the first page when Clopos matched more than
CLOPOS_EXPORT_MAX_ROWS. Every export is audited before its first byte (with the format and the
filters), and the row is amended with how many rows were written, or where it failed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_safe

from audit.models import AuditEntry
from audit.services import AuditWriteError, audit_amend, audit_write_now
from clopos.errors import CloposError
from console import permissions as perms
from console.access import console_view, render_page
from console.http import ConsoleRequest
from orders import export
from orders.forms import OrderListForm, ReceiptListForm
from orders.receipts import payment_details_visible
from orders.selectors import ListFilters
from orders.views.common import error_message

REFUSED_TEMPLATE = "orders/export_refused.html"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LISTS = {
    "orders": ("orders:order-list", AuditEntry.Action.EXPORT_ORDERS),
    "receipts": ("orders:receipt-list", AuditEntry.Action.EXPORT_RECEIPTS),
}


def _refused(
    request: ConsoleRequest, kind: str, message: str, *, status: int, pairs: list[tuple[str, str]]
) -> HttpResponse:
    list_url = reverse(LISTS[kind][0])
    context = {
        "kind": kind,
        "message": message,
        "status": status,
        "back_url": f"{list_url}?{urlencode(pairs)}" if pairs else list_url,
    }
    return render_page(request, REFUSED_TEMPLATE, context, status=status)


def _export_error_page(kind: str) -> Any:
    def page(request: ConsoleRequest, exc: Exception, kwargs: dict[str, Any]) -> HttpResponse:
        """Clopos failed on the first page: nothing was sent, so the page says so."""
        assert isinstance(exc, CloposError)
        message = gettext("The export could not start: %(reason)s") % {"reason": error_message(exc)}
        return _refused(
            request,
            kind,
            message,
            status=exc.http_status,
            pairs=[(key, value) for key, value in request.GET.items() if isinstance(value, str)],
        )

    return page


def _form_errors(form: OrderListForm | ReceiptListForm) -> str:
    return " ".join(str(error) for errors in form.errors.values() for error in errors)


def _audited_chunks(
    chunks: Iterator[bytes], job: export.Export[Any], entry: AuditEntry, detail: str
) -> Iterator[bytes]:
    """The CSV as it streams; once done (or stopped: a failed page, a closed connection), the
    audit row gets the row count and how it ended."""
    finished = False
    try:
        yield from chunks
        finished = True
    finally:
        outcome = job.outcome() if finished or job.failure else f"rows={job.written} ABORTED by the client"
        audit_amend(entry, detail=f"{detail} {outcome}")


def _respond(
    request: ConsoleRequest,
    kind: str,
    file_format: str,
    job: export.Export[Any],
    filters: ListFilters,
) -> HttpResponseBase:
    query = urlencode(filters.query_pairs(page=1))
    detail = f"format={file_format} {query}".strip()
    venues = filters.venue_ids
    try:
        entry = audit_write_now(
            request,
            action=LISTS[kind][1],
            order_id=None,
            venue_id=venues[0] if len(venues) == 1 else None,
            detail=f"{detail} rows=?",
        )
    except AuditWriteError:
        message = gettext("The export could not be recorded in the audit log, so it was not started. Try again.")
        response = _refused(request, kind, message, status=503, pairs=filters.query_pairs())
        response["Retry-After"] = "5"
        return response
    if file_format == "csv":
        stream = StreamingHttpResponse(
            _audited_chunks(export.csv_chunks(job), job, entry, detail), content_type="text/csv; charset=utf-8"
        )
        stream["Content-Disposition"] = f'attachment; filename="{job.filename_stem}.csv"'
        return stream
    try:
        target = export.xlsx_file(job)
    finally:
        audit_amend(entry, detail=f"{detail} {job.outcome()}")
    incomplete = "-INCOMPLETE" if job.error_row() is not None else ""
    return FileResponse(
        target, as_attachment=True, filename=f"{job.filename_stem}{incomplete}.xlsx", content_type=XLSX_TYPE
    )


def _export(request: ConsoleRequest, kind: str, file_format: str) -> HttpResponseBase:
    form: OrderListForm | ReceiptListForm
    form = (OrderListForm if kind == "orders" else ReceiptListForm)(request.GET, venue_scope=request.venue_scope)
    if not form.is_valid():
        # Refused before any upstream call (a range over 31 days is a form error).
        message = gettext("Nothing was exported: %(errors)s") % {"errors": _form_errors(form)}
        return _refused(request, kind, message, status=400, pairs=[])
    filters = form.filters()
    reveal = request.user.has_perm(perms.REVEAL_CUSTOMER)
    actor = f"user:{request.user.pk}"
    job: export.Export[Any]
    try:
        if kind == "orders":
            job = export.order_export(
                filters=filters, venue_scope=request.venue_scope, reveal_phones=reveal, actor=actor
            )
        else:
            assert isinstance(form, ReceiptListForm)
            job = export.receipt_export(
                filters=form.filters(),
                venue_scope=request.venue_scope,
                reveal_phones=reveal,
                payments=payment_details_visible(request.user),
                actor=actor,
            )
    except export.ExportRefusedError as exc:
        return _refused(request, kind, exc.message, status=400, pairs=filters.query_pairs())
    return _respond(request, kind, file_format, job, filters)


@require_safe
@console_view(perms.VIEW_ORDER, errors=_export_error_page("orders"))
def order_export(request: ConsoleRequest, file_format: str) -> HttpResponseBase:
    """The orders list (its current filters, every page) as CSV or XLSX."""
    return _export(request, "orders", file_format)


@require_safe
@console_view(perms.VIEW_ORDER, errors=_export_error_page("receipts"))
def receipt_export(request: ConsoleRequest, file_format: str) -> HttpResponseBase:
    """The receipts list (its current filters, every page) as CSV or XLSX."""
    return _export(request, "receipts", file_format)
