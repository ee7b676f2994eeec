"""CloposClient: requests, token handling, error mapping and retries (Clopos mocked with `responses`)."""

from __future__ import annotations

import dataclasses
import json
import re
import threading
import time
from decimal import Decimal
from unittest import mock
from urllib.parse import parse_qs, urlparse

import pytest
import requests
import responses
import time_machine
import urllib3
from django.conf import settings
from django.core.cache import cache
from django.db import connections

from clopos import client as client_module
from clopos import keys, singleflight
from clopos.client import (
    ORDER_WITH_RECEIPT,
    CloposClient,
    CloposConfig,
    _retry_after,
    build_session,
    get_clopos_client,
)
from clopos.errors import (
    CloposAuthError,
    CloposError,
    CloposNotFoundError,
    CloposRateLimitedError,
    CloposResponseError,
    CloposServerError,
    CloposTimeoutError,
    CloposUnavailableError,
)
from tests.conftest import api_url, load_payload

# The database cache needs the database; the marker also makes the conftest's cache.clear() safe.
pytestmark = pytest.mark.django_db

ORDER_4101 = "order_4101_pending_delivery_receipt_null.json"


# --- Helpers ----------------------------------------------------------------------------------


def calls_to(mock_api: responses.RequestsMock, path: str, method: str | None = None) -> list:
    """The recorded calls whose URL path is /v2/<path> (any query), optionally by method."""
    return [
        call
        for call in mock_api.calls
        if urlparse(call.request.url).path.endswith(f"/v2/{path}") and (method is None or call.request.method == method)
    ]


def token_key() -> str:
    return keys.token_key(settings.CLOPOS_BRAND, settings.CLOPOS_INTEGRATOR_ID)


def auth_body(token: str, expires_at: float = 4102444800) -> dict:
    body = load_payload("auth_v2_200.json")
    body["token"] = token
    body["expires_at"] = expires_at
    return body


def set_auth_tokens(mock_api: responses.RequestsMock, *tokens: str) -> None:
    """Make /v2/auth answer each token in turn (the last one repeats)."""
    mock_api.replace(responses.POST, api_url("auth"), json=auth_body(tokens[0]))
    for token in tokens[1:]:
        mock_api.add(responses.POST, api_url("auth"), json=auth_body(token))


def put_token(token: str, expires_in: float) -> None:
    cache.set(token_key(), {"token": token, "expires_at": time.time() + expires_in}, timeout=3600)


@pytest.fixture
def client() -> CloposClient:
    return get_clopos_client()


@pytest.fixture
def order_url() -> str:
    return api_url("orders/4101")


# --- The order request ------------------------------------------------------------------------


class TestOrderRequest:
    def test_path_query_and_token_header(self, clopos_api, client, order_url):
        clopos_api.get(order_url, json=load_payload(ORDER_4101))

        data = client.get_order(4101)

        assert data["id"] == 4101
        (call,) = calls_to(clopos_api, "orders/4101", "GET")
        url = urlparse(call.request.url)
        assert url.path == "/open-api/v2/orders/4101"
        assert parse_qs(url.query) == {"with[0]": [ORDER_WITH_RECEIPT]}
        assert ORDER_WITH_RECEIPT == "receipt:id,service_notification_id,status"
        assert call.request.headers["x-token"] == load_payload("auth_v2_200.json")["token"]
        assert "x-venue" not in call.request.headers
        assert call.request.headers["Accept"] == "application/json"

    def test_x_venue_header_when_venue_is_configured(self, clopos_api, settings, order_url):
        settings.CLOPOS_VENUE_ID = "3"
        get_clopos_client.cache_clear()
        clopos_api.get(order_url, json=load_payload(ORDER_4101))

        get_clopos_client().get_order(4101)

        (call,) = calls_to(clopos_api, "orders/4101", "GET")
        assert call.request.headers["x-venue"] == "3"
        assert call.request.headers["x-token"]

    def test_auth_request_sends_the_configured_credentials(self, clopos_api, client, order_url):
        clopos_api.get(order_url, json=load_payload(ORDER_4101))

        client.get_order(4101)

        (auth,) = calls_to(clopos_api, "auth", "POST")
        assert auth.request.headers["Content-Type"] == "application/json"
        assert json.loads(auth.request.body) == {
            "client_id": settings.CLOPOS_CLIENT_ID,
            "client_secret": settings.CLOPOS_CLIENT_SECRET,
            "brand": settings.CLOPOS_BRAND,
            "integrator_id": settings.CLOPOS_INTEGRATOR_ID,
        }

    def test_connect_and_read_timeouts_come_from_settings(self, clopos_api, settings, order_url):
        settings.CLOPOS_CONNECT_TIMEOUT = 1.25
        settings.CLOPOS_READ_TIMEOUT = 3.5
        config = CloposConfig.from_settings()
        session = build_session(config)
        client = CloposClient(config, session=session)
        clopos_api.get(order_url, json=load_payload(ORDER_4101))

        with mock.patch.object(session, "request", wraps=session.request) as spy:
            client.get_order(4101)

        assert [c.args[0] for c in spy.call_args_list] == ["POST", "GET"]  # the given session is used
        for call in spy.call_args_list:
            assert call.kwargs["timeout"] == (1.25, 3.5)
            assert call.kwargs["stream"] is True

    def test_receipt_product_venues_and_sale_types_requests(self, clopos_api, client):
        clopos_api.get(
            api_url("receipts/20855"), json=load_payload("receipt_20855_closed_split_payment_for_order_4103.json")
        )
        clopos_api.get(
            api_url("products/1402"), json=load_payload("product_1402_get_by_id_with_modificator_groups.json")
        )
        clopos_api.get(api_url("venues"), json=load_payload("venues_list.json"))
        clopos_api.get(api_url("sale-types"), json=load_payload("sale_types_list.json"))

        assert client.get_receipt(20855)["id"] == 20855
        assert client.get_product(1402)["id"] == 1402
        assert [v["id"] for v in client.get_venues()] == [1, 3]
        assert [s["id"] for s in client.get_sale_types()] == [1, 2, 3]

        def query(path):
            (call,) = calls_to(clopos_api, path, "GET")
            return parse_qs(urlparse(call.request.url).query)

        assert query("receipts/20855") == {
            "with[0]": ["receipt_products.product"],
            "with[1]": ["receipt_products.modificators"],
        }
        assert query("products/1402") == {"with[0]": ["modificator_groups"]}
        assert query("sale-types") == {"limit": ["100"]}
        assert len(calls_to(clopos_api, "auth")) == 1

    def test_bare_object_without_envelope_is_accepted(self, clopos_api, client):
        clopos_api.get(api_url("products/1402"), json={"id": 1402, "name": "Lülə kabab (quzu)"})

        assert client.get_product(1402)["name"] == "Lülə kabab (quzu)"

    def test_money_is_decoded_as_decimal(self, clopos_api, client, order_url):
        clopos_api.get(order_url, json=load_payload(ORDER_4101))

        data = client.get_order(4101)

        assert data["payload"]["products"][0]["meta"]["price"] == Decimal("18.5")
        assert isinstance(data["payload"]["products"][0]["meta"]["price"], Decimal)


# --- Token ------------------------------------------------------------------------------------


class TestToken:
    def test_token_is_fetched_once_and_shared_through_the_cache(self, clopos_api, order_url):
        clopos_api.get(order_url, json=load_payload(ORDER_4101))
        config = CloposConfig.from_settings()

        CloposClient(config).get_order(4101)
        CloposClient(config).get_order(4101)  # another worker: a new client with its own session

        assert len(calls_to(clopos_api, "auth")) == 1
        assert len(calls_to(clopos_api, "orders/4101")) == 2
        entry = cache.get(token_key())
        assert entry == {"token": load_payload("auth_v2_200.json")["token"], "expires_at": 4102444800}

    def test_token_is_renewed_within_the_margin(self, clopos_api, client, order_url):
        set_auth_tokens(clopos_api, "renewed-token")
        put_token("old-token", settings.CLOPOS_TOKEN_RENEW_MARGIN - 10)  # still valid, but due
        clopos_api.get(order_url, json=load_payload(ORDER_4101))

        client.get_order(4101)

        assert len(calls_to(clopos_api, "auth")) == 1
        (call,) = calls_to(clopos_api, "orders/4101")
        assert call.request.headers["x-token"] == "renewed-token"
        assert cache.get(token_key())["token"] == "renewed-token"

    def test_token_outside_the_margin_is_reused(self, clopos_api, client, order_url):
        put_token("cached-token", settings.CLOPOS_TOKEN_RENEW_MARGIN + 60)
        clopos_api.get(order_url, json=load_payload(ORDER_4101))

        client.get_order(4101)

        assert calls_to(clopos_api, "auth") == []
        (call,) = calls_to(clopos_api, "orders/4101")
        assert call.request.headers["x-token"] == "cached-token"

    def test_expires_in_is_used_when_expires_at_is_missing(self, clopos_api, client, order_url):
        clopos_api.replace(responses.POST, api_url("auth"), json=load_payload("auth_v1_legacy_200.json"))
        clopos_api.get(order_url, json=load_payload(ORDER_4101))
        before = time.time()

        client.get_order(4101)

        entry = cache.get(token_key())
        assert entry["token"] == "oauth_FIXTUREonlyNOTaREALtoken0000000000000000"
        assert before + 3600 - 1 <= entry["expires_at"] <= time.time() + 3600 + 1

    def test_401_triggers_one_reauthentication_and_one_retry(self, clopos_api, client, order_url):
        set_auth_tokens(clopos_api, "first-token", "second-token")
        clopos_api.get(order_url, status=401, json=load_payload("error_401_token_expired.json"))
        clopos_api.get(order_url, json=load_payload(ORDER_4101))

        data = client.get_order(4101)

        assert data["id"] == 4101
        assert len(calls_to(clopos_api, "auth")) == 2
        order_calls = calls_to(clopos_api, "orders/4101")
        assert [c.request.headers["x-token"] for c in order_calls] == ["first-token", "second-token"]
        assert cache.get(token_key())["token"] == "second-token"

    def test_401_twice_raises_auth_error(self, clopos_api, client, order_url):
        set_auth_tokens(clopos_api, "first-token", "second-token")
        clopos_api.get(order_url, status=401, json=load_payload("error_401_unauthorized_missing_headers.json"))

        with pytest.raises(CloposAuthError):
            client.get_order(4101)

        assert len(calls_to(clopos_api, "auth")) == 2
        assert len(calls_to(clopos_api, "orders/4101")) == 2
        assert cache.get(token_key()) is None  # the rejected token is not kept

    def test_403_is_an_auth_error_without_reauthentication(self, clopos_api, client, order_url):
        clopos_api.get(order_url, status=403, json=load_payload("error_403_module_not_enabled.json"))

        with pytest.raises(CloposAuthError):
            client.get_order(4101)

        assert len(calls_to(clopos_api, "auth")) == 1
        assert len(calls_to(clopos_api, "orders/4101")) == 1

    def test_auth_200_with_success_false_is_an_auth_error(self, clopos_api, client, order_url):
        clopos_api.replace(
            responses.POST, api_url("auth"), json=load_payload("auth_v2_200_success_false_test_mode_mismatch.json")
        )
        clopos_api.get(order_url, json=load_payload(ORDER_4101))

        with pytest.raises(CloposAuthError):
            client.get_order(4101)

        assert calls_to(clopos_api, "orders/4101") == []
        assert cache.get(token_key()) is None

    def test_auth_400_is_an_auth_error(self, clopos_api, client, order_url):
        clopos_api.replace(
            responses.POST, api_url("auth"), status=400, json=load_payload("error_400_auth_missing_fields.json")
        )
        clopos_api.get(order_url, json=load_payload(ORDER_4101))

        with pytest.raises(CloposAuthError):
            client.get_order(4101)

        assert calls_to(clopos_api, "orders/4101") == []

    def test_auth_without_token_is_a_response_error(self, clopos_api, client, order_url):
        clopos_api.replace(responses.POST, api_url("auth"), json={"success": True, "expires_in": 3600})

        with pytest.raises(CloposResponseError):
            client.get_order(4101)

    def test_auth_lock_is_released_after_a_failure(self, clopos_api, client, order_url):
        clopos_api.replace(
            responses.POST, api_url("auth"), status=400, json=load_payload("error_400_auth_missing_fields.json")
        )

        with pytest.raises(CloposAuthError):
            client.get_order(4101)

        assert cache.get(keys.lock_key(token_key())) is None


def test_failed_renewal_falls_back_to_the_still_valid_token(clopos_api, client, order_url):
    put_token("still-valid", settings.CLOPOS_TOKEN_RENEW_MARGIN - 60)  # due, but valid for 4 more minutes
    clopos_api.replace(responses.POST, api_url("auth"), status=503, body="<html>503</html>", content_type="text/html")
    clopos_api.get(order_url, json=load_payload(ORDER_4101))

    client.get_order(4101)

    (call,) = calls_to(clopos_api, "orders/4101")
    assert call.request.headers["x-token"] == "still-valid"


@pytest.mark.django_db(transaction=True)  # the other "worker" writes from its own thread and connection
def test_waits_for_the_token_another_worker_is_fetching(clopos_api, client, order_url):
    assert singleflight.acquire(keys.lock_key(token_key()), lock_seconds=30)  # the other worker's lock
    clopos_api.get(order_url, json=load_payload(ORDER_4101))

    def other_worker_publishes_its_token():
        try:
            cache.set(token_key(), {"token": "other-workers-token", "expires_at": time.time() + 3600}, timeout=3600)
        finally:
            connections.close_all()

    timer = threading.Timer(0.3, other_worker_publishes_its_token)
    timer.start()
    try:
        started = time.monotonic()
        client.get_order(4101)
        waited = time.monotonic() - started
    finally:
        timer.join()

    assert calls_to(clopos_api, "auth") == []
    (call,) = calls_to(clopos_api, "orders/4101")
    assert call.request.headers["x-token"] == "other-workers-token"
    assert waited >= 0.25


class TestWaitingForAnotherWorker:
    """While another worker holds the auth lock and publishes nothing (short timeouts)."""

    @pytest.fixture
    def quick_client(self, settings) -> CloposClient:
        settings.CLOPOS_CONNECT_TIMEOUT = 0.05
        settings.CLOPOS_READ_TIMEOUT = 0.05
        # A waiter gives up after the leader's worst case (lock_seconds), which counts the request
        # budget: a short one keeps these waits at about 1.5 s instead of 11 s.
        settings.CLOPOS_REQUEST_BUDGET_SECONDS = 0.3
        client = CloposClient(CloposConfig.from_settings())
        assert client.config.lock_seconds < 2
        return client

    def test_a_still_valid_token_is_used_when_the_renewal_does_not_arrive(self, clopos_api, quick_client, order_url):
        put_token("due-but-valid", 60)
        singleflight.acquire(keys.lock_key(token_key()), lock_seconds=30)
        clopos_api.get(order_url, json=load_payload(ORDER_4101))

        quick_client.get_order(4101)

        assert calls_to(clopos_api, "auth") == []
        (call,) = calls_to(clopos_api, "orders/4101")
        assert call.request.headers["x-token"] == "due-but-valid"

    def test_no_token_at_all_is_unavailable(self, clopos_api, quick_client, order_url):
        singleflight.acquire(keys.lock_key(token_key()), lock_seconds=30)
        clopos_api.get(order_url, json=load_payload(ORDER_4101))

        with pytest.raises(CloposUnavailableError):
            quick_client.get_order(4101)

        assert calls_to(clopos_api, "auth") == []
        assert calls_to(clopos_api, "orders/4101") == []


# --- Error mapping ----------------------------------------------------------------------------


class TestErrorMapping:
    def test_404_is_not_found(self, clopos_api, client):
        clopos_api.get(api_url("orders/999999"), status=404, json=load_payload("error_404_order_not_found.json"))

        with pytest.raises(CloposNotFoundError):
            client.get_order(999999)

    @pytest.mark.parametrize("status", [500, 502, 503])
    def test_5xx_is_a_server_error_and_so_unavailable(self, clopos_api, client, order_url, status):
        clopos_api.get(order_url, status=status, json=load_payload("error_500_internal.json"))

        with pytest.raises(CloposUnavailableError) as excinfo:
            client.get_order(4101)

        assert excinfo.type is CloposServerError
        assert excinfo.value.kind == "server_error"
        assert excinfo.value.http_status == 503

    def test_504_is_a_timeout(self, clopos_api, client, order_url):
        clopos_api.get(order_url, status=504, json=load_payload("error_504_upstream_timeout.json"))

        with pytest.raises(CloposTimeoutError):
            client.get_order(4101)

    def test_429_pauses_every_call_until_the_reset(self, clopos_api, client, order_url):
        clopos_api.get(
            order_url,
            status=429,
            json=load_payload("error_429_rate_limited.json"),
            headers={"RateLimit-Limit": "60", "RateLimit-Remaining": "0", "RateLimit-Reset": "7"},
        )
        clopos_api.get(api_url("venues"), json=load_payload("venues_list.json"))

        with pytest.raises(CloposRateLimitedError) as first:
            client.get_order(4101)
        assert first.value.retry_after == 7
        calls_before = len(clopos_api.calls)

        with pytest.raises(CloposRateLimitedError) as second:
            client.get_venues()
        with pytest.raises(CloposRateLimitedError):
            CloposClient(CloposConfig.from_settings()).get_venues()  # another worker shares the pause

        assert len(clopos_api.calls) == calls_before  # no HTTP call during the pause
        assert 1 <= second.value.retry_after <= 8

        with time_machine.travel(time.time() + 8, tick=False):
            assert [v["id"] for v in client.get_venues()] == [1, 3]
        assert len(calls_to(clopos_api, "venues")) == 1

    @pytest.mark.parametrize(
        ("headers", "expected"),
        [
            ({"RateLimit-Reset": "7"}, 7),
            ({"Retry-After": "12"}, 12),
            ({"RateLimit-Reset": "not-a-number", "Retry-After": "3"}, 3),
            ({"RateLimit-Reset": "0"}, 1),
            ({"RateLimit-Reset": "100000"}, 300),
            ({}, 60),
        ],
    )
    def test_retry_after_headers(self, headers, expected):
        assert _retry_after(headers) == expected

    def test_legacy_epoch_rate_limit_reset(self):
        assert 29 <= _retry_after({"X-RateLimit-Reset": str(int(time.time()) + 30)}) <= 30

    def test_200_with_success_false_is_an_error(self, clopos_api, client, order_url):
        clopos_api.get(order_url, json=load_payload("error_400_update_order_status_not_allowed.json"))

        with pytest.raises(CloposResponseError):
            client.get_order(4101)

    def test_200_with_success_false_not_found(self, clopos_api, client, order_url):
        clopos_api.get(order_url, json=load_payload("error_404_order_not_found.json"))

        with pytest.raises(CloposNotFoundError):
            client.get_order(4101)

    def test_malformed_json_with_200_is_a_response_error(self, clopos_api, client, order_url):
        clopos_api.get(order_url, body='{"success": true, "data": {"id": 41', content_type="application/json")

        with pytest.raises(CloposResponseError):
            client.get_order(4101)

    def test_empty_body_with_200_is_a_response_error(self, clopos_api, client, order_url):
        clopos_api.get(order_url, body="", content_type="application/json")

        with pytest.raises(CloposResponseError):
            client.get_order(4101)

    def test_html_body_with_502_is_unavailable(self, clopos_api, client, order_url):
        clopos_api.get(
            order_url, status=502, body="<html><body><h1>502 Bad Gateway</h1></body></html>", content_type="text/html"
        )

        with pytest.raises(CloposUnavailableError) as excinfo:
            client.get_order(4101)

        assert excinfo.type is CloposServerError

    def test_html_body_with_200_is_a_response_error(self, clopos_api, client, order_url):
        clopos_api.get(order_url, body="<html>maintenance</html>", content_type="text/html")

        with pytest.raises(CloposResponseError):
            client.get_order(4101)

    def test_data_that_is_not_an_object_is_a_response_error(self, clopos_api, client, order_url):
        clopos_api.get(order_url, json={"success": True, "data": "x"})

        with pytest.raises(CloposResponseError):
            client.get_order(4101)

    def test_list_data_that_is_not_a_list_is_a_response_error(self, clopos_api, client):
        clopos_api.get(api_url("venues"), json={"success": True, "data": {"id": 1}})

        with pytest.raises(CloposResponseError):
            client.get_venues()

    def test_legacy_error_shape_400_is_a_response_error(self, clopos_api, client, order_url):
        clopos_api.get(order_url, status=400, json=load_payload("error_legacy_v1_shape_400.json"))

        with pytest.raises(CloposResponseError):
            client.get_order(4101)

    def test_connection_error_is_unavailable_and_chained(self, clopos_api, client, order_url):
        cause = requests.ConnectionError("connection refused")
        clopos_api.get(order_url, body=cause)

        with pytest.raises(CloposUnavailableError) as excinfo:
            client.get_order(4101)

        assert excinfo.type is CloposUnavailableError
        assert excinfo.value.__cause__ is cause

    def test_read_timeout_is_a_timeout(self, clopos_api, client, order_url):
        cause = requests.ReadTimeout("read timed out")
        clopos_api.get(order_url, body=cause)

        with pytest.raises(CloposTimeoutError) as excinfo:
            client.get_order(4101)

        assert excinfo.value.__cause__ is cause

    @pytest.mark.parametrize(
        ("exc_type", "expected"),
        [
            (requests.ConnectionError, CloposUnavailableError),
            (requests.ConnectTimeout, CloposTimeoutError),
            (requests.ReadTimeout, CloposTimeoutError),
            (requests.exceptions.SSLError, CloposUnavailableError),
            (requests.exceptions.ProxyError, CloposUnavailableError),
            (requests.exceptions.ChunkedEncodingError, CloposUnavailableError),
            (requests.exceptions.ContentDecodingError, CloposUnavailableError),
            (requests.exceptions.TooManyRedirects, CloposUnavailableError),
            (requests.exceptions.InvalidHeader, CloposUnavailableError),
            (requests.RequestException, CloposUnavailableError),
        ],
    )
    def test_no_requests_exception_escapes(self, clopos_api, client, order_url, exc_type, expected):
        clopos_api.get(order_url, body=exc_type("boom"))

        with pytest.raises(CloposError) as excinfo:
            client.get_order(4101)

        assert isinstance(excinfo.value, expected)
        assert not isinstance(excinfo.value, requests.RequestException)
        assert isinstance(excinfo.value.__cause__, exc_type)

    def test_connection_error_during_auth_is_unavailable(self, clopos_api, client):
        clopos_api.replace(responses.POST, api_url("auth"), body=requests.ConnectionError("refused"))

        with pytest.raises(CloposUnavailableError):
            client.get_order(4101)

    def test_oversized_body_is_a_response_error(self, clopos_api, client, order_url, monkeypatch):
        monkeypatch.setattr(client_module, "MAX_BODY_BYTES", 64)
        clopos_api.get(order_url, json=load_payload(ORDER_4101))

        with pytest.raises(CloposResponseError):
            client.get_order(4101)


class _FakeRaw:
    """A response body whose reads follow a script: bytes to return, or exceptions to raise."""

    def __init__(self, *steps, delay: float = 0.0):
        self.steps = list(steps)
        self.delay = delay

    def read1(self, amt=None, decode_content=None):
        time.sleep(self.delay)
        step = self.steps.pop(0) if self.steps else b""
        if isinstance(step, BaseException):
            raise step
        return step

    def close(self):
        pass

    def release_conn(self):
        pass


def _client_answering(raw: _FakeRaw, *, read_timeout: float = 1.0) -> CloposClient:
    """A client whose session returns one scripted 200 response, with a cached token (no auth)."""
    put_token("cached-token", 3600)
    response = requests.Response()
    response.status_code = 200
    response.raw = raw
    session = mock.Mock(spec=requests.Session)
    session.request.return_value = response
    config = CloposConfig.from_settings()
    config = dataclasses.replace(config, timeouts=dataclasses.replace(config.timeouts, read=read_timeout))
    return CloposClient(config, session=session)


class TestBodyReading:
    def test_body_cut_off_is_unavailable(self):
        cause = urllib3.exceptions.ProtocolError("Connection broken: IncompleteRead")
        client = _client_answering(_FakeRaw(b'{"success": true, ', cause))

        with pytest.raises(CloposUnavailableError) as excinfo:
            client.get_order(4101)

        assert excinfo.type is CloposUnavailableError
        assert excinfo.value.__cause__ is cause

    def test_socket_timeout_while_reading_is_a_timeout(self):
        cause = urllib3.exceptions.ReadTimeoutError(None, "/v2/orders/4101", "Read timed out.")
        client = _client_answering(_FakeRaw(b'{"success": true, ', cause))

        with pytest.raises(CloposTimeoutError):
            client.get_order(4101)

    def test_body_dripping_past_the_read_timeout_is_a_timeout(self):
        drip = [b" "] * 20 + [b'{"success": true, "data": {"id": 4101}}']
        client = _client_answering(_FakeRaw(*drip, delay=0.05), read_timeout=0.3)

        with pytest.raises(CloposTimeoutError):
            client.get_order(4101)

    def test_body_in_chunks_is_joined(self):
        client = _client_answering(_FakeRaw(b'{"success": true, ', b'"data": {"id": 4101}}'))

        assert client.get_order(4101) == {"id": 4101}


# --- Retries ----------------------------------------------------------------------------------


class TestRetries:
    def test_retry_policy(self):
        retry = build_session(CloposConfig.from_settings()).get_adapter("https://example.com").max_retries
        assert retry.allowed_methods == frozenset({"GET"})
        assert set(retry.status_forcelist) == {502, 503, 504}
        assert retry.read == 0
        assert retry.respect_retry_after_header is False
        assert retry.total == settings.CLOPOS_MAX_RETRIES

    @pytest.mark.parametrize("status", [502, 503, 504])
    def test_get_is_retried_on_gateway_errors(self, clopos_api, client, order_url, status):
        clopos_api.get(order_url, status=status, json=load_payload("error_500_internal.json"))
        clopos_api.get(order_url, json=load_payload(ORDER_4101))

        assert client.get_order(4101)["id"] == 4101

        assert [c.response.status_code for c in calls_to(clopos_api, "orders/4101")] == [status, 200]

    def test_retries_are_bounded(self, clopos_api, client, order_url):
        assert settings.CLOPOS_MAX_RETRIES == 1
        clopos_api.get(order_url, status=503, json=load_payload("error_500_internal.json"))
        clopos_api.get(order_url, status=503, json=load_payload("error_500_internal.json"))
        clopos_api.get(order_url, json=load_payload(ORDER_4101))

        with pytest.raises(CloposUnavailableError):
            client.get_order(4101)

        assert len(calls_to(clopos_api, "orders/4101")) == 2

    @pytest.mark.parametrize(
        ("status", "payload", "error"),
        [
            (500, "error_500_internal.json", CloposUnavailableError),
            (429, "error_429_rate_limited.json", CloposRateLimitedError),
            (404, "error_404_order_not_found.json", CloposNotFoundError),
            (400, "error_400_invalid_status_filter.json", CloposResponseError),
        ],
    )
    def test_get_is_not_retried_on_other_errors(self, clopos_api, client, order_url, status, payload, error):
        clopos_api.get(order_url, status=status, json=load_payload(payload), headers={"RateLimit-Reset": "5"})
        clopos_api.get(order_url, json=load_payload(ORDER_4101))

        with pytest.raises(error):
            client.get_order(4101)

        assert len(calls_to(clopos_api, "orders/4101")) == 1

    def test_auth_post_is_not_retried_on_503(self, clopos_api, client, order_url):
        # A proxy's HTML page: the status alone decides the error.
        clopos_api.replace(
            responses.POST, api_url("auth"), status=503, body="<html>503</html>", content_type="text/html"
        )
        clopos_api.add(responses.POST, api_url("auth"), json=auth_body("never-used"))
        clopos_api.get(order_url, json=load_payload(ORDER_4101))

        with pytest.raises(CloposUnavailableError):
            client.get_order(4101)

        assert len(calls_to(clopos_api, "auth")) == 1
        assert calls_to(clopos_api, "orders/4101") == []
        assert cache.get(token_key()) is None


@pytest.mark.parametrize(
    ("status", "payload", "error"),
    [
        (500, "error_500_internal.json", CloposUnavailableError),
        (503, "error_500_internal.json", CloposUnavailableError),
        (504, "error_504_upstream_timeout.json", CloposTimeoutError),
        (429, "error_429_rate_limited.json", CloposRateLimitedError),
    ],
)
def test_auth_outage_with_v2_error_envelope_is_not_an_auth_error(clopos_api, client, order_url, status, payload, error):
    clopos_api.replace(responses.POST, api_url("auth"), status=status, json=load_payload(payload))

    with pytest.raises(error):
        client.get_order(4101)


def test_half_open_probe_refused_by_the_budget_keeps_the_circuit_open(clopos_api, order_url):
    """A probe that never reached Clopos proves nothing: the circuit must not close."""
    from clopos.deadline import Priority
    from clopos.guard import CircuitBreaker

    put_token("valid", 3600)  # no /v2/auth call: that would be a real (successful) probe
    client = get_clopos_client()
    breaker: CircuitBreaker = client.breaker
    for _ in range(breaker.threshold):
        breaker.record(ok=False, probe=False)
    cache.set(keys.circuit_key(breaker.scope, "open-until"), time.time() - 1, timeout=60)  # now half-open
    assert breaker.state() == "half-open"
    for _ in range(client.budget.limit(Priority.NORMAL)):  # spend what a page view may use of this window
        client.budget.acquire(1)

    with pytest.raises(CloposRateLimitedError):
        client.get_order(4101)

    assert breaker.state() == "half-open"
    assert cache.get(keys.circuit_key(breaker.scope, "probe")) is None  # the slot is free again
    assert calls_to(clopos_api, "orders/4101") == []


def test_call_log_has_one_line_per_call_and_no_secret(clopos_api, order_url, caplog):
    clopos_api.replace(responses.POST, api_url("auth"), json=auth_body("tok-SECRET-4f7a"))
    clopos_api.get(order_url, status=401, json=load_payload("error_401_token_expired.json"))
    clopos_api.get(order_url, json=load_payload(ORDER_4101))

    with caplog.at_level("INFO", logger="clopos"):
        get_clopos_client().get_order(4101)

    lines = [r.getMessage() for r in caplog.records if r.name == "clopos"]
    # auth, the 401, the re-auth, the retry: one structured line each
    assert [line.split()[1] for line in lines] == ["endpoint=auth", "endpoint=order", "endpoint=auth", "endpoint=order"]
    assert all(re.search(r"status=\d+ duration_ms=\d+ attempts=\d+ cache=\w+ failure=\S+", line) for line in lines)
    for secret in ("tok-SECRET-4f7a", settings.CLOPOS_CLIENT_SECRET, settings.CLOPOS_CLIENT_ID):
        assert secret not in caplog.text


# --- The pre-call state, read ahead by a caller (a cold fill reads it with its lock) ------------


@pytest.fixture
def state_reads(monkeypatch):
    """Every cache read of the client's pre-call state, by the keys it asked for."""
    from django.core.cache import caches

    backend_class = type(caches["default"])
    original = backend_class.get_many
    reads = []

    def spy(self, keys, *args, **kwargs):
        reads.append(list(keys))
        return original(self, keys, *args, **kwargs)

    monkeypatch.setattr(backend_class, "get_many", spy)
    return reads


def test_a_call_reads_its_state_unless_it_was_read_ahead(clopos_api, client, order_url, state_reads):
    clopos_api.get(order_url, json=load_payload(ORDER_4101))
    client.get_order(4101)  # the token, now cached
    state_reads.clear()

    with client.state_read_ahead(cache.get_many(client.state_keys())):
        client.get_order(4101)  # uses what was read ahead
        client.get_order(4101)  # the offer was for one call: reads its own
    client.get_order(4101)  # and outside the block, always its own

    state = client.state_keys()
    state_read = [read for read in state_reads if set(read) & set(state)]  # not the budget's reads
    assert state_read == [state] * 3  # the read ahead, then the second and third calls'


def test_state_read_ahead_is_what_the_call_acts_on(clopos_api, client, order_url):
    clopos_api.get(order_url, json=load_payload(ORDER_4101))
    pause_key = keys.rate_pause_key(settings.CLOPOS_BRAND, settings.CLOPOS_INTEGRATOR_ID)
    put_token("token-read-ahead", 3600)
    read_ahead = cache.get_many(client.state_keys()) | {pause_key: time.time() + 30}  # paused, as read

    with client.state_read_ahead(read_ahead), pytest.raises(CloposRateLimitedError):
        client.get_order(4101)
    assert len(clopos_api.calls) == 0

    with client.state_read_ahead(cache.get_many(client.state_keys())):
        client.get_order(4101)
    assert clopos_api.calls[-1].request.headers["x-token"] == "token-read-ahead"


def test_an_unused_read_ahead_is_gone_after_its_block(clopos_api, client, order_url):
    clopos_api.get(order_url, json=load_payload(ORDER_4101))
    pause_key = keys.rate_pause_key(settings.CLOPOS_BRAND, settings.CLOPOS_INTEGRATOR_ID)

    with client.state_read_ahead({pause_key: time.time() + 30}):
        pass  # no call made: the offer is never used

    client.get_order(4101)  # not paused: the cache holds no pause
    assert len(clopos_api.calls) >= 1


# --- Telling the gunicorn worker when a request thread waits on Clopos (clopos.waiting) ---------


@pytest.fixture
def waits():
    """The waits on Clopos told to listeners: +1 / -1 in order, and the count during each call."""
    from clopos import waiting

    told = []
    waiting.forget_listeners()
    waiting.listen(told.append)
    yield told
    waiting.forget_listeners()


def test_a_request_thread_tells_while_it_waits_on_clopos(clopos_api, client, order_url, waits):
    during = []

    def answer(request):
        during.append(sum(waits))
        return 200, {}, json.dumps(load_payload(ORDER_4101))

    put_token("token", 3600)
    clopos_api.add_callback(responses.GET, order_url, callback=answer)

    client.get_order(4101)

    assert during == [1]  # waiting while Clopos answers
    assert waits == [1, -1, 1, -1]  # for a free upstream slot, then for Clopos' answer


def test_a_failed_call_still_ends_its_wait(clopos_api, client, order_url, waits):
    put_token("token", 3600)
    clopos_api.get(order_url, body=requests.ConnectionError("refused"))

    with pytest.raises(CloposUnavailableError):
        client.get_order(4101)

    assert sum(waits) == 0 and waits[0] == 1


def test_a_background_refresh_does_not_tell(clopos_api, client, order_url, waits):
    from clopos import deadline

    put_token("token", 3600)
    clopos_api.get(order_url, json=load_payload(ORDER_4101))
    token = deadline.begin(budget_seconds=5, background=True)
    try:
        client.get_order(4101)
    finally:
        deadline.end(token)

    assert waits == []  # its thread is not a request thread: the worker's count is of those


def test_a_request_thread_tells_while_it_waits_for_a_free_upstream_slot(clopos_api, client, order_url, waits):
    from clopos.client import _upstream_slots

    put_token("token", 3600)
    clopos_api.get(order_url, json=load_payload(ORDER_4101))
    slots = _upstream_slots(client.config.upstream_concurrency)
    for _ in range(client.config.upstream_concurrency):
        assert slots.acquire(blocking=False)  # every slot of this process waits on Clopos already
    try:
        with pytest.raises(CloposRateLimitedError):
            client.get_order(4101)
    finally:
        for _ in range(client.config.upstream_concurrency):
            slots.release()

    assert waits == [1, -1]  # the wait for a slot, told; no call went out
    assert len(clopos_api.calls) == 0
