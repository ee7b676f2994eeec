"""The CSRF token of a response, masked once.

Django masks the secret afresh on every `get_token()` call (BREACH: no two responses carry the
same token). Each template render asks for it, and so does each kept fragment (console/fragments.py),
and each mask is 32 calls to the system's random source: about a tenth of a warm list page's
time here (py-spy, issue 13). One mask per response is all BREACH needs, so one is made per
request and reused by every render of it; a rotated secret (login) gets a new one.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.middleware.csrf import get_token

_ATTRIBUTE = "_console_csrf_token"


def request_token(request: HttpRequest) -> str:
    """`get_token(request)`, masked once per request and secret."""
    kept: tuple[str | None, str] | None = getattr(request, _ATTRIBUTE, None)
    if kept is not None and kept[0] is not None and kept[0] == request.META.get("CSRF_COOKIE"):
        return kept[1]
    token = get_token(request)
    setattr(request, _ATTRIBUTE, (request.META.get("CSRF_COOKIE"), token))
    return token
