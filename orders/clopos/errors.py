"""Every way a Clopos call can fail, as one tree.

Views and services catch these, never a `requests` exception: the client translates at the
boundary and chains the original (`raise ... from exc`). Which errors a user may see:

* CloposNotFoundError: the order or receipt does not exist (or is out of the user's scope);
  shown as a 404 page.
* CloposUnavailableError and subclasses: Clopos is down, slow, busy or returned a 5xx; shown as
  a 503 page saying when to retry.
* CloposAuthError: our credentials or integrator are wrong or disabled; an operator problem,
  shown as a 503 page without details.
* CloposResponseError: Clopos answered something we cannot read; shown as a 502-style page.
"""


class CloposError(Exception):
    """Base of every Clopos failure."""

    #: A short, safe sentence for the user; never upstream text.
    user_message = "Clopos could not answer this request."


class CloposNotFoundError(CloposError):
    user_message = "Clopos has no such record."


class CloposUnavailableError(CloposError):
    """Connection failure, 5xx or an open circuit: try again later."""

    user_message = "Clopos is unreachable right now."

    def __init__(self, message: str = "", *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class CloposTimeoutError(CloposUnavailableError):
    user_message = "Clopos did not answer in time."


class CloposRateLimitedError(CloposUnavailableError):
    """Clopos answered 429, or our own share of the brand's budget is spent."""

    user_message = "Clopos is busy."


class CloposAuthError(CloposError):
    """401/403 that survived a re-authentication, or /v2/auth refused our credentials."""

    user_message = "Clopos refused our credentials. An administrator must check the configuration."


class CloposResponseError(CloposError):
    """A body we cannot read: not JSON, HTML, truncated, or the wrong shape."""

    user_message = "Clopos sent a response we could not read."
