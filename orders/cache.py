"""Cache keys and freshness policy: the only place that names a key or a TTL.

Keys are versioned (`clopos:v1:`) so a change of payload handling can abandon old entries by
bumping VERSION. Entries hold the plain Clopos payload plus when it was fetched; they are parsed
after reading. Failures are never written.
"""

from django.conf import settings

VERSION = 1
PREFIX = f"clopos:v{VERSION}"


def token_key(brand: str, integrator_id: str) -> str:
    return f"{PREFIX}:token:{brand}:{integrator_id}"


def rate_pause_key(brand: str, integrator_id: str) -> str:
    return f"{PREFIX}:rate-pause:{brand}:{integrator_id}"


def lock_key(key: str) -> str:
    return f"{key}:lock"


def order_key(order_id: int) -> str:
    return f"{PREFIX}:order:{order_id}"


def receipt_key(receipt_id: int) -> str:
    return f"{PREFIX}:receipt:{receipt_id}"


def venues_key() -> str:
    return f"{PREFIX}:venues"


def sale_types_key() -> str:
    return f"{PREFIX}:sale-types"


def product_key(product_id: int) -> str:
    return f"{PREFIX}:product:{product_id}"


def order_ttl(status: str) -> int:
    """A DELIVERED or IGNOREd order rarely changes; PENDING/RECEIVED ones move on quickly."""
    if status in {"DELIVERED", "IGNORE"}:
        return settings.CLOPOS_TTL_ORDER_FINAL
    return settings.CLOPOS_TTL_ORDER_ACTIVE


def receipt_ttl(is_closed: bool) -> int:
    return settings.CLOPOS_TTL_RECEIPT_CLOSED if is_closed else settings.CLOPOS_TTL_RECEIPT_OPEN


def catalogue_ttl() -> int:
    return settings.CLOPOS_TTL_CATALOGUE
