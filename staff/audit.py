"""The read audit: who viewed, revealed or refreshed which order. Never allowed to fail the page."""

from __future__ import annotations

import contextvars
import datetime as dt
import logging

from django.conf import settings
from django.core.signals import request_finished
from django.db import DatabaseError
from django.dispatch import receiver
from django.utils import timezone

from staff.models import AuditEntry

logger = logging.getLogger("staff.audit")


def client_ip(request) -> str | None:
    """The client address. Behind DJANGO_PROXY_COUNT trusted proxies, X-Forwarded-For's entry
    that the outermost trusted proxy appended; never a value the client could have forged."""
    proxies = settings.DJANGO_PROXY_COUNT
    if proxies > 0:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR") or None


# Entries recorded while handling the current request, written once the response has been sent.
_pending: contextvars.ContextVar[list[AuditEntry] | None] = contextvars.ContextVar("audit_pending", default=None)


def audit_record(request, *, action: str, order_id: int, venue_id: int | None) -> None:
    """Record an access. The row is built now and INSERTed when the response is finished
    (Django's request_finished, sent after the body has gone to the client), so the page does
    not wait for the database; a failed write is logged and never fails the page."""
    entry = AuditEntry(
        user=request.user,
        username=request.user.get_username(),
        action=action,
        order_id=order_id,
        venue_id=venue_id,
        ip_address=client_ip(request),
        created_at=timezone.now(),
    )
    pending = _pending.get()
    if pending is None:
        pending = []
        _pending.set(pending)
    pending.append(entry)


@receiver(request_finished, dispatch_uid="staff.audit.flush")
def audit_flush(**kwargs) -> None:
    pending = _pending.get()
    if not pending:
        return
    _pending.set(None)
    try:
        AuditEntry.objects.bulk_create(pending)
    except DatabaseError:
        # The order was shown: losing audit rows is better than refusing to serve.
        logger.exception("audit write failed: %d entries lost", len(pending))


def audit_prune(*, now: dt.datetime | None = None) -> int:
    """Delete entries older than AUDIT_RETENTION_DAYS; returns how many."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=settings.AUDIT_RETENTION_DAYS)
    deleted, _ = AuditEntry.objects.filter(created_at__lt=cutoff).delete()
    return deleted
