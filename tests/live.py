"""A real deployment for integration, browser and fault tests, all on 127.0.0.1.

`LiveApp` runs the project exactly as `make run` does (clopos_admin.settings, gunicorn, sync
workers) against the project's sandbox. The profile follows the environment: with DATABASE_URL
and REDIS_URL set (the production profile) the app gets its own PostgreSQL database and a
private Redis database; otherwise a temporary SQLite file with the shared database cache.
"""

from __future__ import annotations

import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import requests

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "live-test-Passw0rd!"
# username -> create_staff_user arguments
USERS = {
    "manager": ["--role", "manager", "--all-venues"],
    "support": ["--role", "support", "--venue", "3"],
    "support1": ["--role", "support", "--venue", "1"],
    "admin": ["--role", "admin", "--all-venues"],
    "no-venue": ["--role", "support"],
}
LIVE_REDIS_DB = 14
# Every freshness age 0: each request goes to Clopos, yet a previous good copy stays cached.
NO_FRESHNESS = {
    f"CLOPOS_{age}_{kind}": "0"
    for age in ("TTL", "STALE")
    for kind in ("ORDER_ACTIVE", "ORDER_FINAL", "RECEIPT_OPEN", "RECEIPT_CLOSED", "CATALOGUE")
}


def wait_until[T](condition: Callable[[], T], *, timeout: float = 15.0, interval: float = 0.05, what: str = "") -> T:
    """Poll `condition` until it returns something truthy (returned), or fail after `timeout`
    seconds. For observable state (a page attribute, a sandbox counter) instead of a fixed sleep;
    the timeout is generous because a loaded machine is slow, not wrong."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"not within {timeout:g} s: {what or condition}")
        time.sleep(interval)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _with_path(url: str, path: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, parts.fragment))


@dataclass
class LiveApp:
    """One app instance. Instances with the same `name` share a database and a cache (several
    app instances behind a load balancer); different names are fully separate deployments."""

    sandbox_url: str
    tmp_dir: Path
    name: str = "main"
    workers: int = 2
    extra_env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    # The checkout to run: this one, or another revision's (make bench-ablation).
    root: Path = ROOT
    process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def db_name(self) -> str:
        return f"clopos_admin_live_{self.name}"

    @property
    def cache_prefix(self) -> str:
        return f"live-{self.name}"

    @property
    def database_url(self) -> str:
        production = os.environ.get("DATABASE_URL", "")
        if production.startswith("postgres"):
            return _with_path(production, f"/{self.db_name}")
        return f"sqlite:///{self.tmp_dir / f'{self.db_name}.sqlite3'}"

    @property
    def redis_url(self) -> str:
        production = os.environ.get("REDIS_URL", "")
        return _with_path(production, f"/{LIVE_REDIS_DB}") if production else ""

    def env(self) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DJANGO_", "CLOPOS_", "GUNICORN_")) and key not in {"DATABASE_URL", "REDIS_URL"}
        }
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": "clopos_admin.settings",
                "DJANGO_SECRET_KEY": "live-test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
                "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
                "DJANGO_STATIC_ROOT": str(self.tmp_dir / "static"),
                "DJANGO_LOG_LEVEL": "WARNING",
                "DATABASE_URL": self.database_url,
                "DJANGO_CACHE_PREFIX": self.cache_prefix,
                "CLOPOS_DEMO": "1",
                "CLOPOS_BASE_URL": self.sandbox_url,
                # Short timeouts keep the fault tests quick; the logic is the same as production's.
                "CLOPOS_CONNECT_TIMEOUT": "0.5",
                "CLOPOS_READ_TIMEOUT": "1.0",
                "CLOPOS_RETRY_BACKOFF": "0.05",
                "GUNICORN_WORKERS": str(self.workers),
                # Both profiles journal audit rows locally (audit/journal.py): keep the journal
                # with this deployment's other files.
                "AUDIT_JOURNAL_DIR": str(self.tmp_dir / f"journal-{self.name}"),
                "GUNICORN_ACCESSLOG": "",
                "GUNICORN_LOGLEVEL": "warning",
            }
        )
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
        env.update(self.extra_env)
        return env

    def manage(self, *args: str, extra_env: dict[str, str] | None = None) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=self.root,
            env=self.env() | (extra_env or {}),
            capture_output=True,
            text=True,
            timeout=120,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def prepare(self) -> None:
        """A fresh database with the demo roles and one user per role."""
        if self.database_url.startswith("postgres"):
            import psycopg

            admin_url = os.environ["DATABASE_URL"]
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
                conn.execute(f'CREATE DATABASE "{self.db_name}"')
        self.manage("migrate", "--noinput", "-v0")
        self.manage("collectstatic", "--noinput", "-v0")
        for username, arguments in USERS.items():
            self.manage("create_staff_user", username, *arguments, extra_env={"STAFF_PASSWORD": PASSWORD})

    def prepare_like(self, template: LiveApp) -> None:
        """`prepare()`, faster on the SQLite profile: copy the template deployment's prepared
        database (migrations, roles, users; the cache emptied) and reuse its collected static
        files. On the production profile (PostgreSQL) it simply prepares."""
        if self.database_url.startswith("postgres"):
            self.prepare()
            return
        self.extra_env.setdefault("DJANGO_STATIC_ROOT", str(template.tmp_dir / "static"))
        source = sqlite3.connect(urlsplit(template.database_url).path, timeout=20)
        target = sqlite3.connect(urlsplit(self.database_url).path)
        try:
            source.backup(target)
        finally:
            source.close()
            target.close()
        self.clear_cache()

    def start(self) -> LiveApp:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "clopos_admin.wsgi:application",
                "-c",
                "gunicorn.conf.py",
                "--bind",
                f"127.0.0.1:{self.port}",
            ],
            cwd=self.root,
            env=self.env(),
            stdout=subprocess.DEVNULL,
            stderr=open(self.tmp_dir / f"gunicorn-{self.port}.log", "w"),  # noqa: SIM115
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {(self.tmp_dir / f'gunicorn-{self.port}.log').read_text()}")
            try:
                if requests.get(f"{self.base_url}/healthz", timeout=1).status_code == 200:
                    return self
            except requests.ConnectionError:
                pass
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not start within 30 s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def clear_cache(self) -> None:
        """Empty the app's shared cache (tokens, locks, entries) between tests."""
        if self.redis_url:
            import redis

            client = redis.Redis.from_url(self.redis_url)
            for key in client.scan_iter(match=f"{self.cache_prefix}:*", count=1000):
                client.delete(key)
            return
        path = urlsplit(self.database_url).path
        with sqlite3.connect(path, timeout=20) as conn:
            conn.execute("DELETE FROM clopos_admin_cache")

    def login(self, username: str, password: str = PASSWORD) -> requests.Session:
        """A requests session logged in through the real login form."""
        session = requests.Session()
        page = session.get(f"{self.base_url}/accounts/login/", timeout=10)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        response = session.post(
            f"{self.base_url}/accounts/login/",
            data={"username": username, "password": password, "csrfmiddlewaretoken": token},
            headers={"Referer": f"{self.base_url}/accounts/login/"},
            timeout=10,
            allow_redirects=False,
        )
        if response.status_code != 302:
            raise RuntimeError(f"login as {username} failed: HTTP {response.status_code}")
        return session


def csrf_token(session: requests.Session) -> str:
    return session.cookies.get("csrftoken", "")
