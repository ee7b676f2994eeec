"""clopos.errors: every error class carries its failure kind, the HTTP status a page answers with,
and a safe message; one mapping that the breaker, the health counters and the views all read."""

from __future__ import annotations

import pytest

from clopos import errors
from clopos.errors import (
    FAILURE_KINDS,
    CloposAuthError,
    CloposError,
    CloposNotFoundError,
    CloposRateLimitedError,
    CloposResponseError,
    CloposServerError,
    CloposTimeoutError,
    CloposUnavailableError,
    FailureKind,
)

# class -> (kind, http_status). A change here is a change of what users and operators see.
EXPECTED = {
    CloposNotFoundError: (FailureKind.NOT_FOUND, 404),
    CloposUnavailableError: (FailureKind.UNAVAILABLE, 503),
    CloposServerError: (FailureKind.SERVER_ERROR, 503),
    CloposTimeoutError: (FailureKind.TIMEOUT, 503),
    CloposRateLimitedError: (FailureKind.RATE_LIMITED, 503),
    CloposAuthError: (FailureKind.AUTH, 503),
    CloposResponseError: (FailureKind.BAD_RESPONSE, 502),
}


def all_error_classes() -> set[type[CloposError]]:
    found, todo = set(), [CloposError]
    while todo:
        cls = todo.pop()
        found.add(cls)
        todo.extend(cls.__subclasses__())
    return {cls for cls in found if cls.__module__ == errors.__name__}


@pytest.mark.parametrize(("error_class", "expected"), EXPECTED.items(), ids=lambda v: getattr(v, "__name__", ""))
def test_kind_and_http_status_per_class(error_class, expected):
    kind, status = expected
    error = error_class("upstream said something")

    assert (error.kind, error.http_status) == (kind, status)
    assert isinstance(error.kind, FailureKind)


def test_every_class_has_its_own_kind_and_a_safe_message():
    classes = all_error_classes() - {CloposError}

    assert set(EXPECTED) <= classes
    kinds = [cls.kind for cls in classes]
    assert len(kinds) == len(set(kinds)), "two classes share a failure kind: the counters could not tell them apart"
    for cls in classes:
        assert 400 <= cls.http_status < 600, cls
        assert cls.user_message.endswith("."), cls
    assert {cls.kind for cls in classes} == set(FailureKind)


def test_user_message_never_carries_upstream_text():
    error = CloposServerError("HTTP 500 from https://integrations.clopos.com/secret-path token=abc")

    assert "secret" not in error.user_message
    assert "500" not in error.user_message
    assert str(error).startswith("HTTP 500")  # the detail stays in the log message only


def test_retry_after_is_kept():
    assert CloposRateLimitedError("busy", retry_after=7).retry_after == 7
    assert CloposUnavailableError("down").retry_after is None


def test_unavailable_family_is_caught_as_unavailable():
    """Callers fall back to a still-valid token or a stale copy on CloposUnavailableError."""
    for cls in (CloposServerError, CloposTimeoutError, CloposRateLimitedError):
        assert issubclass(cls, CloposUnavailableError)
    assert not issubclass(CloposAuthError, CloposUnavailableError)
    assert not issubclass(CloposNotFoundError, CloposUnavailableError)


def test_failure_kinds_exclude_not_found():
    assert FailureKind.NOT_FOUND not in FAILURE_KINDS
    assert "not_found" not in [kind.value for kind in FAILURE_KINDS]
    for kind in (
        FailureKind.TIMEOUT,
        FailureKind.UNAVAILABLE,
        FailureKind.SERVER_ERROR,
        FailureKind.RATE_LIMITED,
        FailureKind.BAD_RESPONSE,
        FailureKind.AUTH,
    ):
        assert kind in FAILURE_KINDS
    assert len(FAILURE_KINDS) == len(set(FAILURE_KINDS))


@pytest.mark.parametrize(
    ("kind", "opens"),
    [
        (FailureKind.TIMEOUT, True),
        (FailureKind.UNAVAILABLE, True),
        (FailureKind.SERVER_ERROR, True),
        (FailureKind.BAD_RESPONSE, True),
        (FailureKind.AUTH, True),  # a 403 is a failure of the integration, not a missing record
        (FailureKind.RATE_LIMITED, False),  # Clopos is alive, merely busy
        (FailureKind.NOT_FOUND, False),  # a good answer about a missing record
    ],
)
def test_which_kinds_open_the_circuit(kind, opens):
    assert kind.opens_circuit is opens
    assert kind.is_failure is (kind is not FailureKind.NOT_FOUND)
