"""clopos.timeouts: the worst-case arithmetic, written once, and everyone who must agree with it
(the settings' defaults, the client's locks and probe, gunicorn.conf.py's worker timeout)."""

from __future__ import annotations

import runpy

import pytest
from django.conf import settings

from clopos.client import CloposConfig, get_clopos_client, timeouts_from_settings
from clopos.timeouts import DEFAULTS, Timeouts, from_environ, worst_case_seconds
from tests.live import ROOT

TIMEOUT_VARIABLES = (
    "CLOPOS_CONNECT_TIMEOUT",
    "CLOPOS_READ_TIMEOUT",
    "CLOPOS_MAX_RETRIES",
    "CLOPOS_RETRY_BACKOFF",
    "CLOPOS_REQUEST_BUDGET_SECONDS",
)


@pytest.fixture
def clean_environ(monkeypatch):
    """No timeout or gunicorn variable from the environment this suite runs in."""
    for name in (*TIMEOUT_VARIABLES, "GUNICORN_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def django_settings_module() -> dict:
    """clopos_admin/settings.py evaluated afresh under the current environment."""
    return runpy.run_path(str(ROOT / "clopos_admin" / "settings.py"))


def gunicorn_config() -> dict:
    return runpy.run_path(str(ROOT / "gunicorn.conf.py"))


# --- The formula ------------------------------------------------------------------------------


def test_defaults_give_a_call_of_24_25_s_and_a_worst_case_of_34_25_s():
    # One attempt: connect 2 + first byte 5 + body 5 = 12 s; two attempts and one backoff of 0.25 s.
    assert DEFAULTS.attempt_seconds == 12.0
    assert DEFAULTS.backoff_seconds == 0.25
    assert DEFAULTS.call_seconds == 24.25
    # No call starts after the 10 s request budget; the last one may take a whole call.
    assert worst_case_seconds(DEFAULTS) == DEFAULTS.worst_case_seconds == 34.25


@pytest.mark.parametrize(
    ("timeouts", "call", "worst"),
    [
        (Timeouts(connect=0.5, read=3.0, retries=0, backoff=0.25, request_budget=10.0), 6.5, 16.5),
        (Timeouts(connect=1.0, read=1.0, retries=2, backoff=0.5, request_budget=5.0), 3 * 3.0 + 0.5 + 1.0, 15.5),
        (Timeouts(connect=0.5, read=1.0, retries=1, backoff=0.0, request_budget=10.0), 5.0, 15.0),
    ],
)
def test_call_and_worst_case(timeouts, call, worst):
    assert timeouts.call_seconds == pytest.approx(call)
    assert worst_case_seconds(timeouts) == pytest.approx(worst)


def test_a_drip_for_the_whole_read_timeout_fits_in_one_attempt():
    """The body may take a full read timeout after the first byte did: C + 2R, not C + R."""
    timeouts = Timeouts(connect=0.5, read=3.0, retries=0, backoff=0.0, request_budget=10.0)

    assert timeouts.attempt_seconds >= timeouts.connect + timeouts.read + timeouts.read


# --- Everyone uses the same numbers -----------------------------------------------------------


def test_from_environ_reads_the_variables_the_settings_read(clean_environ):
    assert from_environ({}) == DEFAULTS
    environ = {
        "CLOPOS_CONNECT_TIMEOUT": "0.5",
        "CLOPOS_READ_TIMEOUT": "3",
        "CLOPOS_MAX_RETRIES": "0",
        "CLOPOS_RETRY_BACKOFF": "0.1",
        "CLOPOS_REQUEST_BUDGET_SECONDS": "8",
    }
    for name, value in environ.items():
        clean_environ.setenv(name, value)

    django_settings = django_settings_module()

    expected = Timeouts(connect=0.5, read=3.0, retries=0, backoff=0.1, request_budget=8.0)
    assert from_environ(environ) == expected
    assert (
        django_settings["CLOPOS_CONNECT_TIMEOUT"],
        django_settings["CLOPOS_READ_TIMEOUT"],
        django_settings["CLOPOS_MAX_RETRIES"],
        django_settings["CLOPOS_RETRY_BACKOFF"],
        django_settings["CLOPOS_REQUEST_BUDGET_SECONDS"],
    ) == (0.5, 3.0, 0, 0.1, 8.0)


def test_the_settings_defaults_are_the_formulas_defaults(clean_environ):
    """gunicorn.conf.py reads the environment without Django: both must default alike."""
    django_settings = django_settings_module()

    assert (
        Timeouts(
            connect=django_settings["CLOPOS_CONNECT_TIMEOUT"],
            read=django_settings["CLOPOS_READ_TIMEOUT"],
            retries=django_settings["CLOPOS_MAX_RETRIES"],
            backoff=django_settings["CLOPOS_RETRY_BACKOFF"],
            request_budget=django_settings["CLOPOS_REQUEST_BUDGET_SECONDS"],
        )
        == DEFAULTS
    )


def test_the_client_locks_outlive_the_leaders_worst_case():
    config = CloposConfig.from_settings()
    timeouts = timeouts_from_settings()

    assert config.timeouts == timeouts
    assert timeouts.connect == settings.CLOPOS_CONNECT_TIMEOUT
    assert timeouts.read == settings.CLOPOS_READ_TIMEOUT
    assert config.lock_seconds > worst_case_seconds(timeouts)
    assert config.lock_seconds >= timeouts.request_budget + timeouts.call_seconds + 1
    # The half-open probe is a leader too: it keeps its slot as long.
    assert get_clopos_client().breaker.probe_seconds == config.lock_seconds


def test_gunicorn_timeout_derives_from_the_worst_case(clean_environ):
    config = gunicorn_config()

    assert config["WORST_CASE_PAGE_SECONDS"] == worst_case_seconds(DEFAULTS) == 34.25
    assert config["timeout"] == int(34.25 * 1.5) + 1 == 52
    assert config["timeout"] > config["WORST_CASE_PAGE_SECONDS"]


def test_gunicorn_timeout_follows_longer_clopos_timeouts(clean_environ):
    clean_environ.setenv("CLOPOS_READ_TIMEOUT", "20")
    clean_environ.setenv("CLOPOS_MAX_RETRIES", "2")

    config = gunicorn_config()

    worst = worst_case_seconds(from_environ({"CLOPOS_READ_TIMEOUT": "20", "CLOPOS_MAX_RETRIES": "2"}))
    assert worst == 10 + 3 * (2 + 40) + 0.25 + 0.5
    assert config["WORST_CASE_PAGE_SECONDS"] == worst
    assert config["timeout"] == int(worst * 1.5) + 1


def test_gunicorn_timeout_is_never_below_30_s_and_can_be_set(clean_environ):
    for name, value in {"CLOPOS_CONNECT_TIMEOUT": "0.1", "CLOPOS_READ_TIMEOUT": "0.1"}.items():
        clean_environ.setenv(name, value)
        clean_environ.setenv("CLOPOS_REQUEST_BUDGET_SECONDS", "1")
    assert gunicorn_config()["timeout"] == 30

    clean_environ.setenv("GUNICORN_TIMEOUT", "90")
    assert gunicorn_config()["timeout"] == 90
