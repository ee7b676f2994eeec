"""Integration fixtures: the project's sandbox in-process, the app under gunicorn, loopback only."""

from __future__ import annotations

import pytest
import requests

from sandbox import start_sandbox
from tests.live import LiveApp


class SandboxControl:
    """The sandbox's control API, as the tests use it."""

    def __init__(self, handle):
        self.handle = handle
        self.url = handle.control_url

    def reset(self) -> None:
        requests.post(f"{self.url}/reset", json={"data": True}, timeout=5).raise_for_status()

    def fault(self, endpoint: str, fault: str, count: int | None = None, **params) -> None:
        body = {"endpoint": endpoint, "fault": fault, "count": count, **params}
        requests.post(f"{self.url}/faults", json=body, timeout=5).raise_for_status()

    def clear_faults(self) -> None:
        requests.delete(f"{self.url}/faults", timeout=5).raise_for_status()

    def stats(self) -> dict:
        return requests.get(f"{self.url}/stats", timeout=5).json()

    def calls(self, endpoint: str) -> int:
        return self.stats()["requests"].get(endpoint, 0)

    def config(self, **values) -> None:
        requests.post(f"{self.url}/config", json=values, timeout=5).raise_for_status()


@pytest.fixture(scope="session")
def sandbox_handle():
    handle = start_sandbox(port=0, auth_rate_limit=10_000)
    yield handle
    handle.stop()


@pytest.fixture(scope="session")
def live_app(sandbox_handle, tmp_path_factory):
    app = LiveApp(sandbox_url=sandbox_handle.base_url, tmp_dir=tmp_path_factory.mktemp("live"))
    app.prepare()
    app.start()
    yield app
    app.stop()


@pytest.fixture
def sandbox(sandbox_handle, live_app):
    """A clean sandbox and an empty app cache for every test."""
    control = SandboxControl(sandbox_handle)
    control.reset()
    control.config(rate_limit=300, token_ttl=3600)
    live_app.clear_cache()
    yield control
    control.clear_faults()
