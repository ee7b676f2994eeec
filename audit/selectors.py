"""Reads of the audit log."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db.models import QuerySet

from audit.models import AuditEntry


@dataclass(frozen=True, slots=True)
class AuditFilters:
    username: str | None = None
    order_id: int | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None


def audit_entries(*, venue_ids: Collection[int] | None, filters: AuditFilters | None = None) -> QuerySet[AuditEntry]:
    """Entries of the given venues (None: all), newest first, narrowed by `filters`."""
    entries = AuditEntry.objects.all()
    if venue_ids is not None:
        entries = entries.filter(venue_id__in=venue_ids)
    if filters is None:
        return entries
    if filters.username:
        entries = entries.filter(username__iexact=filters.username)
    if filters.order_id:
        entries = entries.filter(order_id=filters.order_id)
    if filters.date_from:
        entries = entries.filter(created_at__date__gte=filters.date_from)
    if filters.date_to:
        entries = entries.filter(created_at__date__lte=filters.date_to)
    return entries


def recent_order_ids(*, user: User, limit: int = 8) -> list[int]:
    """The orders this user opened last, newest first (from their own audit entries)."""
    opened = (
        AuditEntry.objects.filter(user=user, action=AuditEntry.Action.VIEW_ORDER, order_id__isnull=False)
        .order_by("-created_at")
        .values_list("order_id", flat=True)[: limit * 5]
    )
    return [order_id for order_id in dict.fromkeys(opened) if order_id is not None][:limit]
