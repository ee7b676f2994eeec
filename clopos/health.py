"""What operators see of the Clopos connection: the status panel and /readyz.

Read from the shared cache only; nothing here calls Clopos or returns a secret.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from django import db
from django.core.cache import cache

from . import guard
from .client import get_clopos_client
from .store import as_datetime


def status() -> dict[str, Any]:
    """Token expiry, last success and failure, failures by kind, budgets, pause and circuit."""
    client = get_clopos_client()
    config = client.config
    token_expires_at = client.token_expires_at()
    snapshot = guard.health_snapshot(config.scope)

    def dated(event: Mapping[str, Any] | None) -> dict[str, Any] | None:
        return {**event, "at": as_datetime(event["at"])} if event else None

    return {
        "token_expires_at": as_datetime(token_expires_at) if token_expires_at else None,
        "token_valid": bool(token_expires_at and token_expires_at > time.time()),
        "last_success": dated(snapshot["last_success"]),
        "last_failure": dated(snapshot["last_failure"]),
        "failures": snapshot["failures"],
        "budget_per_minute": config.rate_budget_per_minute,
        "budget_per_window": client.budget.per_window,
        "budget_window_seconds": guard.WINDOW,
        "budget_remaining": client.budget.remaining(),
        "clopos_ratelimit": snapshot["clopos_ratelimit"],
        "paused_for": client.paused_for(),
        "circuit": client.breaker.state(),
    }


def readiness() -> dict[str, str]:
    """Cheap checks for /readyz; values are states, never hosts, keys or errors."""
    checks = {}
    try:
        with db.connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception:  # noqa: BLE001 - any failure means "not ready", whatever the driver raised
        checks["database"] = "failing"
    try:
        cache.set("readyz:probe", 1, timeout=10)
        checks["cache"] = "ok" if cache.get("readyz:probe") == 1 else "failing"
    except Exception:  # noqa: BLE001
        checks["cache"] = "failing"
    if checks["cache"] == "ok":
        client = get_clopos_client()
        expires_at = client.token_expires_at()
        checks["clopos_token"] = "valid" if expires_at and expires_at > time.time() else "none"
        checks["clopos_circuit"] = client.breaker.state()
    return checks
