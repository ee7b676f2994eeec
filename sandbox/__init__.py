"""Clopos Open API v2 look-alike for tests and demos (standard library only).

Start one in-process with :func:`start_sandbox`, or run ``python -m sandbox``.
"""

from sandbox.server import SandboxConfig, SandboxHandle, SandboxState, make_server, start_sandbox

__all__ = ["SandboxConfig", "SandboxHandle", "SandboxState", "make_server", "start_sandbox"]
