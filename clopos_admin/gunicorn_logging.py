"""gunicorn's access log, lean and without query strings.

gunicorn builds a dict of every log atom for every request (all request headers included) and
formats the Apache combined line from it; on a cached page that was a measurable part of the
request (issue 13). This logger writes the facts operators grep for, formatted directly:
the worker's pid, client, time, method, path, status, bytes, duration in ms. The query string is left out on
purpose: it can carry what a user typed (a customer's phone in a search), which has no place in
a log file. Imports no Django: gunicorn's master loads it before the application.
"""

from __future__ import annotations

import os
import time
from typing import Any

from gunicorn import glogging


class AccessLogger(glogging.Logger):  # type: ignore[misc]
    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        if not self.access_log_enabled:
            return
        status = resp.status.split(None, 1)[0] if isinstance(resp.status, str) else resp.status
        milliseconds = request_time.seconds * 1000 + request_time.microseconds / 1000
        try:
            self.access_log.info(
                '<%d> %s [%s] "%s %s" %s %s %.1fms',
                os.getpid(),
                environ.get("REMOTE_ADDR") or "-",
                time.strftime("%d/%b/%Y:%H:%M:%S %z"),
                req.method,
                req.path,
                status,
                getattr(resp, "sent", "-"),
                milliseconds,
            )
        except Exception:  # noqa: BLE001 - as gunicorn's own: a log line never fails a request
            self.error("access log line failed")
