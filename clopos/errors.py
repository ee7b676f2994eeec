"""Every way a Clopos call can fail, as one tree.

Views and services catch these, never a `requests` exception: the client translates at the
boundary and chains the original (`raise ... from exc`). Each class carries, in one place:

* `kind`: how the circuit breaker, the health counters, the status panel and the call log name
  the failure (`FailureKind`);
* `http_status`: what a console page answers when this error ends the request;
* `user_message`: a short, safe sentence for the user (never upstream text), in English and
  marked with gettext_noop: pages translate it where they show it (`gettext(exc.user_message)`,
  `{% translate freshness.error.user_message %}`), in the reader's language, not the one active
  when the class was defined.

Which errors a user may see:

* CloposNotFoundError: the record does not exist (or is out of the user's scope): 404.
* CloposUnavailableError and subclasses: Clopos is down, slow, busy or returned a 5xx: 503,
  with Retry-After when known.
* CloposAuthError: our credentials or integrator are wrong or disabled (401/403): an operator
  problem, 503 without details.
* CloposResponseError: Clopos answered something we cannot read: 502.
"""

from __future__ import annotations

from enum import StrEnum

from django.utils.translation import gettext_noop


class FailureKind(StrEnum):
    TIMEOUT = "timeout"
    UNAVAILABLE = "unavailable"
    SERVER_ERROR = "server_error"
    RATE_LIMITED = "rate_limited"
    THROTTLED = "throttled"
    BAD_RESPONSE = "bad_response"
    AUTH = "auth"
    NOT_FOUND = "not_found"

    @property
    def opens_circuit(self) -> bool:
        """Clopos is failing (not merely busy, and not answering "no such record")."""
        return self not in {FailureKind.RATE_LIMITED, FailureKind.THROTTLED, FailureKind.NOT_FOUND}

    @property
    def is_failure(self) -> bool:
        """A 404 is a good answer about a missing record, and a throttled user is our own
        decision: neither is a failure of Clopos."""
        return self not in {FailureKind.NOT_FOUND, FailureKind.THROTTLED}


# The kinds the status panel counts, in the order it shows them.
FAILURE_KINDS: tuple[FailureKind, ...] = tuple(kind for kind in FailureKind if kind.is_failure)


class CloposError(Exception):
    """Base of every Clopos failure."""

    kind: FailureKind = FailureKind.BAD_RESPONSE
    http_status: int = 502
    #: A short, safe sentence for the user; never upstream text.
    user_message = gettext_noop("Clopos could not answer this request.")

    def __init__(self, message: str = "", *, retry_after: int | None = None) -> None:
        super().__init__(message)
        #: Seconds after which trying again makes sense, when known.
        self.retry_after = retry_after


class CloposNotFoundError(CloposError):
    kind = FailureKind.NOT_FOUND
    http_status = 404
    user_message = gettext_noop("Clopos has no such record.")


class CloposUnavailableError(CloposError):
    """Connection failure or an open circuit: try again later."""

    kind = FailureKind.UNAVAILABLE
    http_status = 503
    user_message = gettext_noop("Clopos is unreachable right now.")


class CloposServerError(CloposUnavailableError):
    """Clopos answered with a 5xx."""

    kind = FailureKind.SERVER_ERROR


class CloposTimeoutError(CloposUnavailableError):
    kind = FailureKind.TIMEOUT
    user_message = gettext_noop("Clopos did not answer in time.")


class CloposRateLimitedError(CloposUnavailableError):
    """Clopos answered 429, or our own share of the brand's budget is spent."""

    kind = FailureKind.RATE_LIMITED
    user_message = gettext_noop("Clopos is busy.")


class CloposThrottledError(CloposRateLimitedError):
    """This user made too many requests that needed Clopos in a short time (our per-user
    budget); everyone else goes on. Not a failure of Clopos."""

    kind = FailureKind.THROTTLED
    http_status = 429
    user_message = gettext_noop("You have opened many pages that need Clopos in a short time.")


class CloposAuthError(CloposError):
    """401 that survived a re-authentication, a 403, or /v2/auth refused our credentials."""

    kind = FailureKind.AUTH
    http_status = 503
    user_message = gettext_noop("Clopos refused our credentials. An administrator must check the configuration.")


class CloposResponseError(CloposError):
    """A body we cannot read: not JSON, HTML, truncated, or the wrong shape."""

    kind = FailureKind.BAD_RESPONSE
    http_status = 502
    user_message = gettext_noop("Clopos sent a response we could not read.")
