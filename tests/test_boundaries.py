"""Structural rules: one door to the network, the sandbox out of the production path, error pages."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.db import OperationalError
from django.test import Client, RequestFactory

from clopos_admin.views import server_error

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_PACKAGES = ("clopos_admin", "orders", "staff")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def production_modules() -> list[Path]:
    return [path for package in PRODUCTION_PACKAGES for path in (ROOT / package).rglob("*.py")]


def test_the_sandbox_is_never_imported_by_production_code():
    offenders = [str(p) for p in production_modules() if any(m.split(".")[0] == "sandbox" for m in imported_modules(p))]
    assert offenders == []


def test_only_the_clopos_client_imports_requests():
    importers = {
        str(p.relative_to(ROOT))
        for p in production_modules()
        if {"requests", "urllib3"} & {m.split(".")[0] for m in imported_modules(p)}
    }
    assert importers == {"orders/clopos/client.py"}


def test_server_error_page_is_ours_and_needs_nothing():
    request = RequestFactory().get("/")
    try:
        raise RuntimeError("boom at /secret/path")
    except RuntimeError:
        response = server_error(request)
    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()
    assert "boom" not in response.content.decode()


def test_database_outage_is_a_503_with_retry_after():
    request = RequestFactory().get("/")
    try:
        raise OperationalError("could not connect to server at 10.0.0.5")
    except OperationalError:
        response = server_error(request)
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "10.0.0.5" not in response.content.decode()


@pytest.mark.django_db
def test_unknown_url_gets_our_404_page(admin_client):
    response = admin_client.get("/no/such/page/")
    assert response.status_code == 404
    assert "Clopos Admin" in response.content.decode()
    assert "There is no page at this address." in response.content.decode()


@pytest.mark.django_db
def test_bad_host_header_gets_our_400_page():
    response = Client(HTTP_HOST="evil.example").get("/accounts/login/")
    assert response.status_code == 400
    assert "Bad request" in response.content.decode()
