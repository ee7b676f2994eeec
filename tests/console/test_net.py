"""console.net.client_ip: the address the lockout and the audit log record, behind proxies.

X-Forwarded-For is believed only from a trusted proxy, and then only its rightmost untrusted
entry: anything to the left of it was written by the client and may be forged.
"""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from console.net import client_ip


def request(remote: str | None = "203.0.113.7", forwarded: str | None = None):
    headers = {"X-Forwarded-For": forwarded} if forwarded is not None else {}
    req = RequestFactory().get("/", headers=headers)
    if remote is None:
        del req.META["REMOTE_ADDR"]
    else:
        req.META["REMOTE_ADDR"] = remote
    return req


@pytest.fixture
def behind_proxies(settings):
    settings.DJANGO_TRUSTED_PROXIES = ["10.0.0.0/8", "fd00::/8"]


def test_without_trusted_proxies_the_socket_address_counts(settings):
    settings.DJANGO_TRUSTED_PROXIES = []

    assert client_ip(request("203.0.113.7", forwarded="198.51.100.1")) == "203.0.113.7"


def test_no_address_at_all_is_none(settings):
    settings.DJANGO_TRUSTED_PROXIES = []

    assert client_ip(request(None)) is None
    assert client_ip(request("")) is None


@pytest.mark.usefixtures("behind_proxies")
@pytest.mark.parametrize(
    ("remote", "forwarded", "expected"),
    [
        # one trusted proxy appended the client's address
        ("10.0.0.5", "198.51.100.1", "198.51.100.1"),
        # the client sent its own X-Forwarded-For first: the proxy's entry is the last one
        ("10.0.0.5", "6.6.6.6, 198.51.100.1", "198.51.100.1"),
        ("10.0.0.5", "6.6.6.6,198.51.100.1", "198.51.100.1"),
        # two trusted proxies: skip the inner one
        ("10.0.0.5", "6.6.6.6, 198.51.100.1, 10.1.2.3", "198.51.100.1"),
        # IPv6 client and proxies
        ("fd00::1", "2001:db8::42", "2001:db8::42"),
        ("fd00::1", "2001:db8::42, fd12::9", "2001:db8::42"),
        # nothing forwarded, or only proxies: the socket
        ("10.0.0.5", None, "10.0.0.5"),
        ("10.0.0.5", "", "10.0.0.5"),
        ("10.0.0.5", "10.9.9.9", "10.0.0.5"),
        # a garbled chain: believe only the socket
        ("10.0.0.5", "198.51.100.1, not-an-address", "10.0.0.5"),
        ("10.0.0.5", "198.51.100.1, ", "10.0.0.5"),
    ],
)
def test_behind_trusted_proxies(remote, forwarded, expected):
    assert client_ip(request(remote, forwarded=forwarded)) == expected


@pytest.mark.usefixtures("behind_proxies")
def test_a_client_that_is_not_a_proxy_cannot_forward():
    """Straight to the app (not through the proxy): its X-Forwarded-For is its own invention."""
    assert client_ip(request("203.0.113.7", forwarded="198.51.100.1")) == "203.0.113.7"


@pytest.mark.usefixtures("behind_proxies")
def test_the_answer_is_a_normalised_address():
    assert client_ip(request("10.0.0.5", forwarded=" 2001:DB8:0:0::42 ")) == "2001:db8::42"
