"""The CSRF token of a response is masked once (console/csrf.py): every form and htmx header of
one page carries the same token, whichever render made it (the page, a kept fragment); every
response carries another; it is Django's own token, accepted on a POST; a rotated secret (login)
gets a new one."""

from __future__ import annotations

import re

import pytest
from django.middleware.csrf import _unmask_cipher_token, get_token, rotate_token
from django.test import RequestFactory

from console.csrf import request_token

pytestmark = pytest.mark.django_db

FORM_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
HEADER_TOKEN = re.compile(r'"X-CSRFToken": "([^"]+)"')


def tokens(response) -> list[str]:
    content = response.content.decode()
    return FORM_TOKEN.findall(content) + HEADER_TOKEN.findall(content)


def test_one_page_carries_one_token_across_its_renders(api, client_for):
    """The order page is several renders (the page, its main block kept per process, the header's
    navigation): one mask for all of them."""
    client = client_for("manager")
    client.get("/orders/4103/")  # fetched live; the next view uses the kept main block
    page = client.get("/orders/4103/")
    content = page.content.decode()
    main = content[content.index('<article id="order"') :]

    assert FORM_TOKEN.search(main), "the kept main block has a form of its own (refresh, reveal)"
    assert len(tokens(page)) >= 3
    assert len(set(tokens(page))) == 1


def test_each_response_carries_a_new_mask_of_the_same_secret(api, client_for):
    client = client_for("manager")
    first, second = (tokens(client.get("/orders/4103/"))[0] for _ in range(2))

    assert first != second  # BREACH: no two responses carry the same token
    assert _unmask_cipher_token(first) == _unmask_cipher_token(second)


def test_the_token_of_a_page_is_accepted_and_a_forged_one_refused(api, client_for):
    client = client_for("manager", enforce_csrf_checks=True)
    token = tokens(client.get("/orders/4103/"))[0]

    assert client.post("/preferences/theme/", {"theme": "dark", "csrfmiddlewaretoken": token}).status_code != 403
    forged = token[:-1] + ("a" if token[-1] != "a" else "b")
    assert client.post("/preferences/theme/", {"theme": "dark", "csrfmiddlewaretoken": forged}).status_code == 403


def test_a_rotated_secret_gets_a_new_token():
    request = RequestFactory().get("/")
    before = request_token(request)
    assert request_token(request) == before

    rotate_token(request)  # what login does
    after = request_token(request)

    assert after != before
    assert _unmask_cipher_token(after) == request.META["CSRF_COOKIE"] != _unmask_cipher_token(before)
    assert _unmask_cipher_token(get_token(request)) == _unmask_cipher_token(after)
