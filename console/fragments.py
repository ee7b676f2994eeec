"""Rendered page fragments kept per process, keyed by everything they depend on.

Rendering the order page's main block, or the orders list's rows, is most of a warm page's time
(issue 13). That HTML depends only on the cache entry it shows (when it was fetched, from where),
the names the catalogue gave it, what the user may do there (a few permissions), the language and
time zone, and the minute (relative times such as "5 minutes ago", the overdue cue). The key
holds all of these, so a hit is the same HTML a fresh render would give; what is per request
stays per request: the CSRF token (rendered as a per-process placeholder, replaced on the way
out), masking decisions (in the key through the permissions and the entry), and everything
outside the fragment.

Per process, bounded (LRU), and entries expire after a minute anyway: no shared cache round trip
for a hit, nothing to invalidate across workers.

A whole page can be kept too (`render_kept_page`): its key adds the page's chrome (who the user
is and may do, their colour scheme), and the fragments rendered inside it keep their placeholders
until the page is filled in once, on the way out. A page with messages to show is never kept.
A page given as parts (the HTML that differs from one page to the next, such as an order's main
block) is assembled on a miss from a shell kept per chrome: the page rendered once with a
placeholder where each part goes and none of the page's own data, so a new order's page renders
only its own parts, not the header and navigation again.
"""

from __future__ import annotations

import contextvars
import logging
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from typing import Any

from django.contrib.messages import get_messages
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from console.chrome import chrome_key
from console.csrf import request_token
from console.http import ConsoleRequest

logger = logging.getLogger("console")

MAX_ENTRIES = 256
# Values no page can contain by chance, different in every process.
CSRF_PLACEHOLDER = f"csrf-placeholder-{secrets.token_hex(16)}"
PATH_PLACEHOLDER = f"path-placeholder-{secrets.token_hex(16)}"

# Set while a page is rendered to be kept: fragments inside it keep their placeholders, so no
# request's own CSRF token or path ends up in a kept page.
_keeping_page: contextvars.ContextVar[bool] = contextvars.ContextVar("keeping_page", default=False)

_lock = threading.Lock()
_entries: OrderedDict[Hashable, str] = OrderedDict()


def cached_html(key: Hashable, render: Callable[[], str]) -> str:
    """`render()`, or the same HTML from this process's cache. `key` must capture everything the
    HTML shows; language, time zone and the minute are added here."""
    full_key = (key, get_language(), timezone.get_current_timezone_name(), int(time.time() // 60))
    with _lock:
        html = _entries.get(full_key)
        if html is not None:
            _entries.move_to_end(full_key)
    if html is None:
        html = render()
        with _lock:
            _entries[full_key] = html
            while len(_entries) > MAX_ENTRIES:
                _entries.popitem(last=False)
    return html


def cached_markup(key: Hashable | None, build: Callable[[], SafeString]) -> SafeString:
    """`build()`, markup built in Python and escaped there (a list's rows), kept under `key` as
    `cached_html` keeps it; built every time when there is no key."""
    if key is None:
        return build()
    return mark_safe(cached_html(key, build))  # noqa: S308 - `build` returns escaped markup


def _kept_render(request: ConsoleRequest, template: str, context: dict[str, Any], key: Hashable) -> str:
    """The HTML kept for `key`, with the CSRF and path placeholders still in it."""
    return cached_html(
        (template, key),
        lambda: render_to_string(
            template, context | {"csrf_token": CSRF_PLACEHOLDER, "next_path": PATH_PLACEHOLDER}, request=request
        ),
    )


def _filled(request: ConsoleRequest, html: str) -> SafeString:
    html = html.replace(CSRF_PLACEHOLDER, request_token(request))
    return mark_safe(html.replace(PATH_PLACEHOLDER, escape(request.get_full_path())))  # noqa: S308 - our render


def render_cached(request: ConsoleRequest, template: str, context: dict[str, Any], key: Hashable) -> SafeString:
    """`template` rendered with `context`, or the same HTML from this process's cache (see
    `cached_html`). Two things in it are this request's own: the CSRF token, and `next_path` (the
    page to come back to, for the header's forms), so one rendering serves every page."""
    html = _kept_render(request, template, context, key)
    if _keeping_page.get():
        return mark_safe(html)  # noqa: S308 - our render; the kept page around it is filled once
    return _filled(request, html)


def render_kept_page(
    request: ConsoleRequest,
    template: str,
    context: dict[str, Any],
    key: Hashable,
    *,
    status: int = 200,
    parts: Mapping[str, Callable[[], str]] | None = None,
) -> HttpResponse:
    """The whole page, kept like a fragment: `key` must capture everything `context` and `parts`
    show; the chrome (user, permissions, colour scheme) is added here, and language, time zone
    and minute by `cached_html`. Messages waiting to be shown are this request's own: such a page
    is rendered, shown (which consumes them) and not kept.

    `parts` maps context names to the HTML the template shows under them (safe, rendered by us),
    built only when the page is not kept yet. With parts, nothing but them may differ from one
    page to the next: the page around them is the shell, kept per chrome (see `_assembled`)."""
    if len(get_messages(request)):
        context = context | {name: build() for name, build in (parts or {}).items()}
        return HttpResponse(render_to_string(template, context, request=request), status=status)
    keeping = _keeping_page.set(True)
    try:
        chrome = chrome_key(request)
        if parts:
            page_key = (template, ("page", status, chrome, key))
            html = cached_html(page_key, lambda: _assembled(request, template, parts, ("shell", status, chrome)))
        else:
            html = _kept_render(request, template, context, ("page", status, chrome, key))
    finally:
        _keeping_page.reset(keeping)
    return HttpResponse(_filled(request, html), status=status)


# One placeholder per part name, different in every process, like the CSRF one.
_part_placeholders: dict[str, str] = {}


def _part_placeholder(name: str) -> str:
    return _part_placeholders.get(name) or _part_placeholders.setdefault(
        name, f"part-placeholder-{name}-{secrets.token_hex(16)}"
    )


def _assembled(
    request: ConsoleRequest, template: str, parts: Mapping[str, Callable[[], str]], shell_key: tuple[Any, ...]
) -> str:
    """The shell (kept under `shell_key` and the parts' names) with the parts put in. The shell is
    rendered from the placeholders alone (the page's own context never reaches it, so no page's
    data can be kept in it for another), and the parts go in in one pass: a part's HTML is never
    searched for another's placeholder."""
    names = {_part_placeholder(name): name for name in parts}
    shell = _kept_render(
        request,
        template,
        {name: mark_safe(placeholder) for placeholder, name in names.items()},  # noqa: S308 - tokens of ours
        (*shell_key, tuple(sorted(parts))),
    )
    pieces = re.split(f"({'|'.join(map(re.escape, names))})", shell)
    return "".join(str(parts[names[piece]]()) if piece in names else piece for piece in pieces)


def clear() -> None:
    with _lock:
        _entries.clear()
