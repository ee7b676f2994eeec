"""System checks of the console's own settings, run by `manage.py check` (and `--deploy`)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register


@register(Tags.security, deploy=True)
def check_not_demo(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """A deployment must not run on the public demo secret key or in demo mode."""
    problems: list[CheckMessage] = []
    if settings.SECRET_KEY == settings.DEMO_SECRET_KEY:
        problems.append(
            Error(
                "SECRET_KEY is the public demo key from this repository.",
                hint="Set DJANGO_SECRET_KEY to a long random value.",
                id="console.E001",
            )
        )
    if settings.CLOPOS_DEMO:
        problems.append(
            Error(
                "CLOPOS_DEMO is on: the console talks to the bundled sandbox with its public credentials.",
                hint="Unset CLOPOS_DEMO and set the CLOPOS_* credentials.",
                id="console.E002",
            )
        )
    return problems
