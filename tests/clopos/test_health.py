"""clopos.health: what operators see (the status panel's data and /readyz), and how a failed call
gets there: through the client, the breaker and the health counters (Clopos mocked with
`responses`)."""

from __future__ import annotations

import time

import pytest
from django.conf import settings
from django.core.cache import cache

from clopos import health, keys
from clopos.client import get_clopos_client
from clopos.errors import FAILURE_KINDS, CloposAuthError, CloposUnavailableError
from tests.conftest import api_url, calls, load_payload

pytestmark = pytest.mark.django_db

ORDER_4101 = "order_4101_pending_delivery_receipt_null.json"


def breaker_failures() -> int:
    return cache.get(keys.circuit_key(get_clopos_client().config.scope, "failures")) or 0


# --- A 403 is an auth failure -------------------------------------------------------------------


def test_a_403_is_an_auth_failure_that_opens_the_circuit(clopos_api):
    clopos_api.get(api_url("orders/4101"), status=403, json=load_payload("error_403_module_not_enabled.json"))
    client = get_clopos_client()
    threshold = settings.CLOPOS_CIRCUIT_FAILURES

    for failures in range(1, threshold + 1):
        assert client.breaker.state() == "closed"
        with pytest.raises(CloposAuthError):
            client.get_order(4101)
        assert breaker_failures() == failures  # counted as a failure, not as a successful call

    assert client.breaker.state() == "open"
    with pytest.raises(CloposUnavailableError):
        client.get_order(4101)  # refused without a call
    assert calls(clopos_api, "orders/4101") == threshold
    status = health.status()
    assert status["failures"]["auth"] == threshold
    assert sum(status["failures"].values()) == threshold
    assert status["last_failure"]["kind"] == "auth"
    assert status["last_failure"]["endpoint"] == "order"
    assert status["circuit"] == "open"


def test_a_401_that_survives_reauthentication_opens_the_circuit_like_a_403(clopos_api):
    clopos_api.get(api_url("orders/4101"), status=401, json=load_payload("error_401_unauthorized_missing_headers.json"))
    client = get_clopos_client()

    for _ in range(settings.CLOPOS_CIRCUIT_FAILURES):
        with pytest.raises(CloposAuthError):
            client.get_order(4101)

    assert health.status()["failures"]["auth"] == settings.CLOPOS_CIRCUIT_FAILURES
    assert client.breaker.state() == "open"


def test_a_404_is_not_a_failure(clopos_api):
    clopos_api.get(api_url("orders/999999"), status=404, json=load_payload("error_404_order_not_found.json"))

    with pytest.raises(Exception, match="not found"):
        get_clopos_client().get_order(999999)

    status = health.status()
    assert "not_found" not in status["failures"]
    assert set(status["failures"].values()) == {0}
    assert status["last_failure"] is None
    assert status["last_success"]["endpoint"] == "order"
    assert breaker_failures() == 0


# --- status() ---------------------------------------------------------------------------------


def test_status_before_any_call():
    status = health.status()

    assert status["token_valid"] is False
    assert status["token_expires_at"] is None
    assert status["last_success"] is None
    assert status["failures"] == {kind.value: 0 for kind in FAILURE_KINDS}
    assert status["budget_remaining"] == status["budget_per_window"] > 0
    assert status["budget_per_minute"] == settings.CLOPOS_RATE_BUDGET_PER_MINUTE
    assert status["paused_for"] == 0
    assert status["circuit"] == "closed"


def test_status_after_a_good_call(clopos_api):
    clopos_api.get(
        api_url("orders/4101"),
        json=load_payload(ORDER_4101),
        headers={"RateLimit-Remaining": "57", "RateLimit-Limit": "60"},
    )

    get_clopos_client().get_order(4101)
    status = health.status()

    assert status["token_valid"] is True
    assert status["token_expires_at"].timestamp() == 4102444800
    assert status["last_success"]["endpoint"] == "order"
    assert abs(status["last_success"]["at"].timestamp() - time.time()) < 60
    assert status["last_success"]["at"].tzinfo is not None
    assert status["clopos_ratelimit"]["remaining"] == "57"
    assert status["budget_remaining"] < status["budget_per_window"]  # the calls were counted


def test_status_holds_no_secret(clopos_api):
    clopos_api.get(api_url("orders/4101"), json=load_payload(ORDER_4101))
    get_clopos_client().get_order(4101)

    text = repr(health.status())

    for secret in (
        load_payload("auth_v2_200.json")["token"],
        settings.CLOPOS_CLIENT_SECRET,
        settings.CLOPOS_CLIENT_ID,
        settings.CLOPOS_BASE_URL,
    ):
        assert secret not in text


# --- readiness() ------------------------------------------------------------------------------


def test_readiness_reports_states_only(clopos_api):
    assert health.readiness() == {"database": "ok", "cache": "ok", "clopos_token": "none", "clopos_circuit": "closed"}

    clopos_api.get(api_url("orders/4101"), json=load_payload(ORDER_4101))
    get_clopos_client().get_order(4101)

    assert health.readiness()["clopos_token"] == "valid"
    assert len(clopos_api.calls) == 2  # readiness itself called nothing


def test_readiness_without_a_cache_skips_the_clopos_checks(monkeypatch):
    def broken(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(health.cache, "set", broken)

    assert health.readiness() == {"database": "ok", "cache": "failing"}
