"""Shared fixtures. Unit tests mock Clopos with `responses` at CLOPOS_BASE_URL (no network).

* payloads: `load_payload`, `api_url`, the fixture orders and receipts (`ORDERS`, `RECEIPTS`);
* Clopos mocks: `clopos_api` (auth only), `catalogue_api` (+ venues, sale types, payment methods,
  product 1402), `api` (+ every fixture order, its receipt, the orders, receipts and customers
  lists, customer 512, and 404s for `UNKNOWN_ORDER` as an order, receipt and customer); `serve_order`
  registers one order; `calls`/`paths` read what the mock was asked;
* `later(seconds)`: every clock moved ahead (time_machine);
* people: `users` (one per kind of staff user, `STAFF`), `client_for(username)`;
* `background_tasks`: revalidations queued instead of threaded, run when a test says so.

Reading HTML responses is in tests/pages.py.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import responses
import time_machine
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.test import Client
from django.utils import translation

from clopos import store
from clopos.client import get_clopos_client
from console import fragments
from console.permissions import STAFF_SITE_ROLES
from staff.models import StaffProfile

PAYLOADS = Path(__file__).parent / "payloads"

ORDERS = {
    4101: "order_4101_pending_delivery_receipt_null.json",
    4102: "order_4102_received_takeaway_pct_discount_open_receipt.json",
    4103: "order_4103_delivered_delivery_fixed_discount_closed_receipt.json",
    4104: "order_4104_ignore_no_receipt_requested.json",
    4105: "order_4105_received_dinein_service_charge_open_receipt.json",
    4106: "order_4106_delivered_takeaway_external_ids_empty_product_quirk.json",
}
RECEIPTS = {
    20850: "receipt_20850_closed_card_for_order_4106.json",
    20855: "receipt_20855_closed_split_payment_for_order_4103.json",
    20868: "receipt_20868_open_service_charge_for_order_4105.json",
    20871: "receipt_20871_open_for_order_4102.json",
}
UNKNOWN_ORDER = 999999

# Order 4101 (venue 3, no receipt) and its customer.
RAW_PHONE_4101 = "+994503214567"
RAW_ADDRESS_4101 = "Bakı, Nərimanov r., Təbriz küç. 71, m. 24"
MASKED_PHONE_4101 = "+994 50 *** ** 67"
# Order 4103 (venue 3, closed split-payment receipt 20855).
RAW_PHONE_4103 = "+994702409981"
MASKED_PHONE_4103 = "+994 70 *** ** 81"

PASSWORD = "access-test-Passw0rd!"
# username -> (role, venues, all_venues). `users` adds "norole": a user with no role at all.
STAFF = {
    "support": ("support", [3], False),
    "support1": ("support", [1], False),
    "manager": ("manager", [], True),
    "manager1": ("manager", [1], False),
    "admin": ("admin", [], True),
    "no-venue": ("support", [], False),
}


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "subprocess: starts a child process (manage.py, gunicorn); left out of `make test-fast`"
    )


# Redis expires keys on its own clock, which time_machine cannot move: tests of cache expiry
# itself run on the embedded profile's database cache (the code path is the same).
cache_expiry_follows_time_machine = pytest.mark.skipif(
    bool(os.environ.get("REDIS_URL")), reason="Redis expires keys on its own clock, not time_machine's"
)


def load_payload(name: str) -> Any:
    """A Clopos response body from tests/payloads (copied from the shared fixtures)."""
    return json.loads((PAYLOADS / name).read_text(encoding="utf-8"))


def api_url(path: str) -> str:
    return f"{settings.CLOPOS_BASE_URL}/v2/{path}"


def later(seconds: float) -> time_machine.travel:
    """Move every clock (time.time, the database cache's expiry) `seconds` ahead."""
    return time_machine.travel(time.time() + seconds, tick=False)


def serve_order(mock_api: responses.RequestsMock, order_id: int, **kwargs) -> None:
    """Register /v2/orders/<id>: the fixture order, or the given `responses` arguments."""
    if not kwargs:
        kwargs = {"json": load_payload(ORDERS[order_id])}
    mock_api.get(api_url(f"orders/{order_id}"), **kwargs)


def paths(mock_api: responses.RequestsMock) -> list[str]:
    """The Clopos paths called so far, relative to /v2/, in order."""
    return [urlsplit(call.request.url).path.split("/v2/", 1)[1] for call in mock_api.calls]


def calls(mock_api: responses.RequestsMock, path: str) -> int:
    """How many times Clopos was asked for /v2/<path>."""
    return paths(mock_api).count(path)


@pytest.fixture(scope="session", autouse=True)
def _compiled_catalogues():
    """Pages read the compiled catalogues (.mo), which are generated, not committed: compile those
    older than their .po, as `make translations` does, so a bare `pytest` works on a fresh clone."""
    from console.catalogues import compile_stale

    compile_stale()


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language. A request activates its language for the thread
    it runs on and leaves it there (the next request activates its own), so without this a test
    that renders outside a request would inherit the language of the previous test's last page."""
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fresh_client_and_cache(request):
    """Each test starts with an empty shared cache, a new process-wide client and no rendered
    fragments or parsed records kept from another test (console/fragments.py, clopos/store.py)."""
    get_clopos_client.cache_clear()
    fragments.clear()
    store.forget_parsed()
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
    monkeypatch.setattr("clopos.store.run_in_background", tasks.append)
    return tasks


# --- Clopos, mocked ---------------------------------------------------------------------------


@pytest.fixture
def clopos_api(db):
    """`responses` mock of Clopos with a valid /v2/auth answer registered."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock_api:
        auth = load_payload("auth_v2_200.json")
        auth["expires_at"] = 4102444800  # 2100-01-01: never due for renewal in a test
        mock_api.post(api_url("auth"), json=auth)
        yield mock_api


@pytest.fixture
def catalogue_api(clopos_api):
    """Clopos with the catalogue (venues, sale types, product 1402) registered; tests add orders."""
    clopos_api.get(api_url("venues"), json=load_payload("venues_list.json"))
    clopos_api.get(api_url("sale-types"), json=load_payload("sale_types_list.json"))
    clopos_api.get(api_url("payment-methods"), json=load_payload("payment_methods_list.json"))
    clopos_api.get(api_url("products/1402"), json=load_payload("product_1402_get_by_id_with_modificator_groups.json"))
    return clopos_api


@pytest.fixture
def api(catalogue_api):
    """Clopos with every fixture order (all venue 3), their receipts, the catalogue, and 404s."""
    for order_id, name in ORDERS.items():
        catalogue_api.get(api_url(f"orders/{order_id}"), json=load_payload(name))
    for receipt_id, name in RECEIPTS.items():
        catalogue_api.get(api_url(f"receipts/{receipt_id}"), json=load_payload(name))
    catalogue_api.get(
        api_url(f"orders/{UNKNOWN_ORDER}"), status=404, json=load_payload("error_404_order_not_found.json")
    )
    catalogue_api.get(api_url("orders"), json=load_payload("orders_list_page1.json"))
    # Receipts list (four fixture receipts and an order-less dine-in one, 20901) and customers.
    catalogue_api.get(api_url("receipts"), json=load_payload("receipts_list_page1.json"))
    catalogue_api.get(api_url("customers"), json=load_payload("customers_list_page1.json"))
    catalogue_api.get(api_url("customers/512"), json=load_payload("customer_512_get_by_id_bare_object.json"))
    catalogue_api.get(
        api_url(f"customers/{UNKNOWN_ORDER}"),
        status=404,
        json={"success": False, "error": "not_found", "message": "Customer not found"},
    )
    catalogue_api.get(
        api_url(f"receipts/{UNKNOWN_ORDER}"), status=404, json=load_payload("error_404_receipt_not_found.json")
    )
    return catalogue_api


# --- Staff users ------------------------------------------------------------------------------


def make_users(spec: dict[str, tuple[str, list[int], bool]]) -> dict:
    """Users exactly as `staff_user_upsert` makes them (tests/staff/test_services.py checks it),
    in a handful of bulk queries: this runs for hundreds of tests."""
    user_model = get_user_model()
    password = make_password(PASSWORD)
    users = user_model.objects.bulk_create(
        user_model(username=username, password=password, is_staff=role in STAFF_SITE_ROLES, is_active=True)
        for username, (role, _, _) in spec.items()
    )
    groups = {group.name: group for group in Group.objects.filter(name__in={role for role, _, _ in spec.values()})}
    user_model.groups.through.objects.bulk_create(
        user_model.groups.through(user_id=user.pk, group_id=groups[spec[user.username][0]].pk) for user in users
    )
    StaffProfile.objects.bulk_create(
        StaffProfile(user=user, all_venues=spec[user.username][2], venue_ids=sorted(set(spec[user.username][1])))
        for user in users
    )
    return {user.username: user for user in users}


@pytest.fixture
def users(db):
    """One user per entry of STAFF, plus "norole": a user nobody has given a role or a venue yet."""
    created = make_users(STAFF)
    created["norole"] = get_user_model().objects.create_user("norole", password=PASSWORD)
    return created


@pytest.fixture
def client_for(users):
    """A test client logged in as `username` (None: anonymous)."""

    def make(username: str | None, **kwargs) -> Client:
        client = Client(**kwargs)
        if username is not None:
            client.force_login(users[username])
        return client

    return make
