"""The stock Django reference project (../shared/perf/reference), run beside the app in the same
sitting: scenario C (a login-required 8 KB page, SQLite sessions), C2 (C with persistent
connections and cached_db sessions on Redis) and E (the admin change view of an 18-field model).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from tests.live import free_port

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "perf" / "reference"
ADMIN_PASSWORD = "perf-admin-Passw0rd"


@dataclass
class Reference:
    tmp_dir: Path
    variant: str = "stock"  # or "c2"
    redis_url: str = "redis://127.0.0.1:6379/11"
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    cookie: str = ""

    @property
    def root(self) -> Path:
        return self.tmp_dir / "reference"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CLOPOS_", "GUNICORN_"))}
        return clean | {
            "DJANGO_SETTINGS_MODULE": "djb.settings",
            "BASE_VARIANT": self.variant,
            "BASE_REDIS_URL": self.redis_url,
            "BASE_DB": str(self.root / "db.sqlite3"),
        }

    def prepare(self) -> None:
        if not self.root.exists():
            shutil.copytree(REFERENCE, self.root, ignore=shutil.ignore_patterns("db.sqlite3", "__pycache__"))
            for args in (["migrate", "--noinput", "-v0"], ["shell", "-c", "import bench.seed"]):
                subprocess.run([sys.executable, "manage.py", *args], cwd=self.root, env=self.env(), check=True)

    def start(self) -> Reference:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "djb.wsgi:application", "-b", f"127.0.0.1:{self.port}"]
            + ["-k", "sync", "--workers", "3", "--log-level", "warning"],
            cwd=self.root,
            env=self.env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.base_url}/plain", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        self.cookie = self._login()
        return self

    def _login(self) -> str:
        """A real admin login form POST, as the reference's README says."""
        session = requests.Session()
        page = session.get(f"{self.base_url}/admin/login/", timeout=10)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        session.post(
            f"{self.base_url}/admin/login/?next=/admin/",
            data={"username": "admin", "password": ADMIN_PASSWORD, "csrfmiddlewaretoken": token},
            headers={"Referer": f"{self.base_url}/admin/login/"},
            timeout=10,
        )
        return "; ".join(f"{k}={v}" for k, v in session.cookies.items())

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)
