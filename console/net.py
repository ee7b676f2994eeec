"""The client's address, as the lockout, the login throttle and the audit log see it."""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

type Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(trusted: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in trusted)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    """The client address.

    X-Forwarded-For is read only when the socket peer is one of DJANGO_TRUSTED_PROXIES; then the
    address is its rightmost entry that is not itself a trusted proxy (each proxy appends the
    address it saw, so anything left of that was written by the client and may be forged).
    """
    remote = request.META.get("REMOTE_ADDR") or None
    trusted = _networks(tuple(settings.DJANGO_TRUSTED_PROXIES))
    peer = _address(remote or "")
    if not trusted or peer is None or not any(peer in network for network in trusted):
        return remote
    for entry in reversed(request.headers.get("x-forwarded-for", "").split(",")):
        address = _address(entry)
        if address is None:
            return remote  # a garbled chain: believe only the socket
        if not any(address in network for network in trusted):
            return str(address)
    return remote
