"""Reading the console's responses in tests: visible text, decoded bodies, htmx headers, redirects."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit


def text_of(content: bytes | str) -> str:
    """The visible text: tags dropped, entities decoded, whitespace collapsed."""
    raw = content.decode() if isinstance(content, bytes) else content
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", raw))).strip()


def body(response) -> str:
    """The response body, with HTML entities decoded, so no escaped form can hide a value."""
    return html.unescape(response.content.decode())


def page_path(page: int | str) -> str:
    """An order page (by id) or another console page (by path)."""
    return f"/orders/{page}/" if isinstance(page, int) else page


def htmx_headers(page: int | str) -> dict[str, str]:
    """What htmx sends from the order page (an order id) or another page (its path)."""
    return {"HX-Request": "true", "HX-Current-URL": f"http://testserver{page_path(page)}"}


def login_redirect_target(response) -> tuple[str, str | None]:
    """(path, next) of a redirect's Location."""
    parts = urlsplit(response["Location"])
    return parts.path, parse_qs(parts.query).get("next", [None])[0]


def hx_redirect_target(response) -> tuple[str, str | None]:
    """(path, next) of an htmx redirect (HX-Redirect)."""
    parts = urlsplit(response["HX-Redirect"])
    return parts.path, parse_qs(parts.query).get("next", [None])[0]


def nav_of(response) -> str:
    """The main navigation's HTML."""
    match = re.search(r'<nav class="nav"[^>]*>(.*?)</nav>', response.content.decode(), re.S)
    assert match, "no main navigation"
    return match.group(1)


# The masked CSRF token and the CSP nonce: what differs in every response of the same page.
MASKED_TOKEN = re.compile(r"[A-Za-z0-9]{64}")
NONCE = re.compile(r'nonce="[^"]+"')


def normalised(response) -> str:
    """A page without what differs in every response: the masked CSRF token and the CSP nonce."""
    return NONCE.sub("NONCE", MASKED_TOKEN.sub("TOKEN", response.content.decode()))


def count_fragment_renders(monkeypatch, template_prefix: str) -> list[str]:
    """The renders of kept fragments (console/fragments.py) of templates named `template_prefix…`,
    appended to the returned list as they happen: a fragment served from the cache adds none."""
    from console import fragments

    rendered: list[str] = []
    real = fragments.render_to_string

    def counting(template, *args, **kwargs):
        if template.startswith(template_prefix):
            rendered.append(template)
        return real(template, *args, **kwargs)

    monkeypatch.setattr(fragments, "render_to_string", counting)
    return rendered
