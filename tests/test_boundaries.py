"""Structural rules: imports point one way, one door to the network, the sandbox out of the
production path, error pages."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.db import OperationalError
from django.test import Client, RequestFactory

from clopos_admin.views import server_error

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_PACKAGES = ("clopos_admin", "clopos", "console", "audit", "orders", "staff")

# Which of our packages each package may import (README, "Architecture"): pages -> services ->
# the Clopos package -> Django. The console layer and the audit log sit below the pages and never
# import them; staff (accounts) and orders never import each other.
MAY_IMPORT = {
    "clopos": set(),
    "console": {"clopos"},
    "audit": {"console"},
    "staff": {"console", "clopos"},
    "orders": {"console", "audit", "clopos"},
    "clopos_admin": {"clopos", "console", "audit", "orders", "staff"},
}
# Inside a package, these layers sit below the pages and must not import them.
PAGE_MODULES = {"views", "urls", "forms", "admin", "templatetags", "middleware", "access", "context_processors"}
BELOW_PAGES = {
    "services",
    "selectors",
    "models",
    "signals",
    "backends",
    "roles",
    "masking",
    # orders: receipts, customers, export and phone numbers (issue 11); `orders.views.receipts`
    # etc. share the leaf name but are pages (a page folder in their path).
    "receipts",
    "customers",
    "export",
    "phones",
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            # `from orders import views` imports orders.views, not just orders.
            names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def production_modules() -> list[Path]:
    return [path for package in PRODUCTION_PACKAGES for path in (ROOT / package).rglob("*.py")]


def test_the_sandbox_is_never_imported_by_production_code():
    offenders = [str(p) for p in production_modules() if any(m.split(".")[0] == "sandbox" for m in imported_modules(p))]
    assert offenders == []


def layer_violations(imports: dict[str, set[str]]) -> list[str]:
    """`module -> imported modules` pairs that break the layering, as readable lines."""
    ours = set(MAY_IMPORT)
    found = []
    for module, imported in sorted(imports.items()):
        package, *rest = module.split(".")
        leaf = rest[-1] if rest else ""
        for name in sorted(imported):
            target_package, *target_rest = name.split(".")
            if target_package not in ours or target_package == package:
                below = leaf in BELOW_PAGES and not PAGE_MODULES & set(rest)
                if target_package == package and below and PAGE_MODULES & set(target_rest):
                    found.append(f"{module} imports {name}: a page module, from below the pages")
                continue
            if target_package not in MAY_IMPORT[package]:
                found.append(f"{module} imports {name}: {package} may import only {sorted(MAY_IMPORT[package])}")
    return found


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def test_imports_point_one_way():
    imports = {module_name(path): imported_modules(path) for path in production_modules()}
    assert layer_violations(imports) == []


@pytest.mark.parametrize(
    ("module", "imported"),
    [
        ("clopos.client", "orders.services"),  # the Clopos package imports nothing of ours
        ("staff.admin", "orders.services"),  # accounts and orders do not know each other
        ("orders.services", "staff.models"),
        ("audit.services", "orders.views"),  # the audit log sits below the pages
        ("console.access", "audit.models"),
        ("orders.services", "orders.views"),  # services never import their own pages
        ("orders.export", "orders.views.common"),  # nor do the receipts, customers and export ones
        ("orders.customers", "orders.forms"),
    ],
)
def test_a_wrong_way_import_is_caught(module, imported):
    assert layer_violations({module: {imported}}) != []


def test_only_the_clopos_client_imports_requests():
    importers = {
        str(p.relative_to(ROOT))
        for p in production_modules()
        if {"requests", "urllib3"} & {m.split(".")[0] for m in imported_modules(p)}
    }
    assert importers == {"clopos/client.py"}


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
    response = Client(headers={"host": "evil.example"}).get("/accounts/login/")
    assert response.status_code == 400
    assert "Bad request" in response.content.decode()


def test_a_page_named_like_a_service_may_import_pages():
    """`orders.views.receipts` is a page (under views/), whatever its leaf name."""
    assert layer_violations({"orders.views.receipts": {"orders.views.common", "orders.forms"}}) == []
