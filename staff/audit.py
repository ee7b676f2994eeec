"""The read audit: one INSERT per event, never allowed to fail the page."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import DatabaseError
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


def audit_record(request, *, action: str, order_id: int, venue_id: int | None) -> None:
    try:
        AuditEntry.objects.create(
            user=request.user,
            username=request.user.get_username(),
            action=action,
            order_id=order_id,
            venue_id=venue_id,
            ip_address=client_ip(request),
        )
    except DatabaseError:
        # The order is still shown: losing one audit row is better than refusing to serve.
        logger.exception("audit write failed action=%s order_id=%s", action, order_id)


def audit_prune(*, now: dt.datetime | None = None) -> int:
    """Delete entries older than AUDIT_RETENTION_DAYS; returns how many."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=settings.AUDIT_RETENTION_DAYS)
    deleted, _ = AuditEntry.objects.filter(created_at__lt=cutoff).delete()
    return deleted
