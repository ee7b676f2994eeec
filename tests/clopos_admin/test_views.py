"""clopos_admin.views: the Clopos status panel and the load balancer's probes, through the Django
test client (Clopos mocked with `responses`). The error handlers are checked in
tests/test_boundaries.py."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import Client

from tests.conftest import api_url, load_payload
from tests.pages import text_of

pytestmark = pytest.mark.django_db


def failure_counts(html: str) -> dict[str, int]:
    """The status panel's "Failures in the last 15 minutes" table."""
    rows = re.findall(r'<tr><td data-kind="([a-z_]+)">[^<]*</td><td class="num">(\d+)</td></tr>', html)
    return {kind: int(count) for kind, count in rows}


def circuit_of(html: str) -> str:
    match = re.search(r'<span class="status [^"]*" data-circuit="([a-z-]+)">', html)
    assert match, html
    return match.group(1)


def test_status_panel_counts_a_clopos_403_as_an_auth_failure(clopos_api, client_for):
    clopos_api.get(api_url("orders/4101"), status=403, json=load_payload("error_403_module_not_enabled.json"))
    manager = client_for("manager")
    before = manager.get("/status/")
    assert failure_counts(before.content.decode())["auth"] == 0

    pages = [manager.get("/orders/4101/") for _ in range(settings.CLOPOS_CIRCUIT_FAILURES)]

    assert {page.status_code for page in pages} == {503}
    assert "Clopos refused our credentials" in text_of(pages[0].content)
    panel = manager.get("/status/")
    assert panel.status_code == 200
    counts = failure_counts(panel.content.decode())
    assert counts["auth"] == settings.CLOPOS_CIRCUIT_FAILURES
    assert sum(counts.values()) == settings.CLOPOS_CIRCUIT_FAILURES
    assert "not_found" not in counts
    assert circuit_of(panel.content.decode()) == "open"
    # The last failure, by endpoint and kind (labelled in the page's language, the code kept).
    assert 'order</span>: <span data-kind="auth">Credentials refused</span>' in panel.content.decode()


def test_status_panel_calls_nothing_and_shows_no_secret(clopos_api, client_for):
    panel = client_for("manager").get("/status/")

    assert panel.status_code == 200
    assert not clopos_api.calls
    for secret in (settings.CLOPOS_CLIENT_SECRET, settings.CLOPOS_CLIENT_ID, settings.CLOPOS_BASE_URL):
        assert secret not in panel.content.decode()


def test_readyz_answers_anonymous_callers_without_calling_clopos(clopos_api):
    response = Client().get("/readyz")

    assert response.status_code == 200
    assert response.json()["status"] == "ready"
    assert not clopos_api.calls


def test_healthz_needs_nothing():
    response = Client().get("/healthz")

    assert response.status_code == 200
    assert response.content == b"ok\n"
