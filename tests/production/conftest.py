"""Tests here that run `manage.py` in a child process (they call this package's `manage` helper)
are marked `subprocess`, so `make test-fast` leaves them out; the in-process ones stay in."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config, items):
    for item in items:
        function = getattr(item, "function", None)
        if item.path.parent.name == "production" and function is not None and "manage" in function.__code__.co_names:
            item.add_marker(pytest.mark.subprocess)
