"""Cache keys and freshness policy: the only place that names a key or a TTL.

Keys are versioned (`clopos:v2:`) so a change of payload handling can abandon old entries by
bumping VERSION. Entries hold the plain Clopos payload plus when it was fetched; they are parsed
after reading. Failures are never written.

Every entry has two ages, by state:
* fresh age: served as is;
* stale age (longer): served at once while one worker refreshes it in the background;
beyond the stale age the next request fetches before answering. Entries are kept a further
CLOPOS_STALE_IF_ERROR_SECONDS so that a previous good copy can be shown when Clopos fails.
"""

from dataclasses import dataclass

from django.conf import settings

# Bump when the shape of an entry changes: old entries are then simply never read again.
VERSION = 2
PREFIX = f"clopos:v{VERSION}"


@dataclass(frozen=True, slots=True)
class Ages:
    fresh: int
    stale: int

    @property
    def keep(self) -> int:
        """How long the cache holds the entry at all."""
        return max(self.fresh, self.stale) + settings.CLOPOS_STALE_IF_ERROR_SECONDS


def token_key(brand: str, integrator_id: str) -> str:
    return f"{PREFIX}:token:{brand}:{integrator_id}"


def rate_pause_key(brand: str, integrator_id: str) -> str:
    return f"{PREFIX}:rate-pause:{brand}:{integrator_id}"


def budget_key(scope: str, window: int) -> str:
    return f"{PREFIX}:budget:{scope}:{window}"


def circuit_key(scope: str, name: str) -> str:
    return f"{PREFIX}:circuit:{scope}:{name}"


def health_key(scope: str, name: str) -> str:
    return f"{PREFIX}:health:{scope}:{name}"


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


def order_ages(status: str) -> Ages:
    """A DELIVERED or IGNOREd order rarely changes; PENDING/RECEIVED ones move on quickly."""
    if status in {"DELIVERED", "IGNORE"}:
        return Ages(settings.CLOPOS_TTL_ORDER_FINAL, settings.CLOPOS_STALE_ORDER_FINAL)
    return Ages(settings.CLOPOS_TTL_ORDER_ACTIVE, settings.CLOPOS_STALE_ORDER_ACTIVE)


def receipt_ages(is_closed: bool) -> Ages:
    if is_closed:
        return Ages(settings.CLOPOS_TTL_RECEIPT_CLOSED, settings.CLOPOS_STALE_RECEIPT_CLOSED)
    return Ages(settings.CLOPOS_TTL_RECEIPT_OPEN, settings.CLOPOS_STALE_RECEIPT_OPEN)


def catalogue_ages() -> Ages:
    return Ages(settings.CLOPOS_TTL_CATALOGUE, settings.CLOPOS_STALE_CATALOGUE)
