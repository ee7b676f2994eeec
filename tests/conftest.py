"""Shared fixtures. Unit tests mock Clopos with `responses` at CLOPOS_BASE_URL (no network)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import responses
from django.conf import settings
from django.core.cache import cache

from orders.clopos.client import get_clopos_client

PAYLOADS = Path(__file__).parent / "payloads"


def load_payload(name: str) -> Any:
    """A Clopos response body from tests/payloads (copied from the shared fixtures)."""
    return json.loads((PAYLOADS / name).read_text(encoding="utf-8"))


def api_url(path: str) -> str:
    return f"{settings.CLOPOS_BASE_URL}/v2/{path}"


@pytest.fixture(autouse=True)
def _fresh_client_and_cache(request):
    """Each test starts with an empty shared cache and a new process-wide client."""
    get_clopos_client.cache_clear()
    if (
        "db" in request.fixturenames
        or "transactional_db" in request.fixturenames
        or request.node.get_closest_marker("django_db")
    ):
        cache.clear()
    yield
    get_clopos_client.cache_clear()


class BackgroundTasks(list):
    """Background revalidations, queued instead of run in a thread, so tests decide when."""

    def run(self) -> int:
        count = len(self)
        while self:
            self.pop(0)()
        return count


@pytest.fixture(autouse=True)
def background_tasks(monkeypatch):
    tasks = BackgroundTasks()
    monkeypatch.setattr("orders.services.run_in_background", tasks.append)
    return tasks


@pytest.fixture
def clopos_api(db):
    """`responses` mock of Clopos with a valid /v2/auth answer registered."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        auth = load_payload("auth_v2_200.json")
        auth["expires_at"] = 4102444800  # 2100-01-01: never due for renewal in a test
        mock.post(api_url("auth"), json=auth)
        yield mock
