"""Clopos Open API v2: client, error tree and typed payloads."""

from .client import CloposClient, CloposConfig, get_clopos_client
from .errors import (
    CloposAuthError,
    CloposError,
    CloposNotFoundError,
    CloposRateLimitedError,
    CloposResponseError,
    CloposTimeoutError,
    CloposUnavailableError,
)

__all__ = [
    "CloposAuthError",
    "CloposClient",
    "CloposConfig",
    "CloposError",
    "CloposNotFoundError",
    "CloposRateLimitedError",
    "CloposResponseError",
    "CloposTimeoutError",
    "CloposUnavailableError",
    "get_clopos_client",
]
