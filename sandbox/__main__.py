"""``python -m sandbox --host 127.0.0.1 --port 8100``: serve the Clopos sandbox until interrupted."""

from __future__ import annotations

import argparse
import sys

from sandbox.server import SandboxConfig, make_server


def main(argv: list[str] | None = None) -> int:
    defaults = SandboxConfig()
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100, help="0 picks a free port (printed on start)")
    parser.add_argument("--token-ttl", type=int, default=defaults.token_ttl, help="token lifetime in seconds")
    parser.add_argument("--rate-limit", type=int, default=defaults.rate_limit, help="requests/min per brand")
    parser.add_argument("--auth-rate-limit", type=int, default=defaults.auth_rate_limit, help="auth calls/min per IP")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    parser.add_argument(
        "--now", default=None, help="pin the sandbox clock, e.g. 2026-11-27T14:00:00+04:00 (default: real time)"
    )
    parser.add_argument(
        "--date-zone",
        default=defaults.date_zone,
        choices=["UTC", "Asia/Baku"],
        help="time zone of the orders list's date[] filter",
    )
    args = parser.parse_args(argv)

    server = make_server(
        args.host,
        args.port,
        token_ttl=args.token_ttl,
        rate_limit=args.rate_limit,
        auth_rate_limit=args.auth_rate_limit,
        verbose=args.verbose,
        now=args.now,
        date_zone=args.date_zone,
    )
    host, port = server.server_address[:2]
    # Printed (and flushed) so scripts starting us as a subprocess can wait for readiness.
    print(f"Clopos sandbox listening; CLOPOS_BASE_URL=http://{host}:{port}/open-api", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
