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

import hashlib
from collections.abc import Iterable
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


def actor_budget_key(scope: str, actor: str, window: str) -> str:
    return f"{PREFIX}:actor-budget:{scope}:{actor}:{window}"


def circuit_key(scope: str, name: str) -> str:
    return f"{PREFIX}:circuit:{scope}:{name}"


def health_key(scope: str, name: str) -> str:
    return f"{PREFIX}:health:{scope}:{name}"


def lock_key(key: str) -> str:
    return f"{key}:lock"


def order_key(order_id: int) -> str:
    return f"{PREFIX}:order:{order_id}"


def not_visible_key(record_id: int, venue_ids: Iterable[int] | None, kind: str = "order") -> str:
    """ "This record (an order by default; a receipt, a customer) is unknown, or outside these
    venues": one entry per record and venue scope."""
    scope = "all" if venue_ids is None else hashlib.sha256(",".join(map(str, sorted(venue_ids))).encode()).hexdigest()
    what = "" if kind == "order" else f"{kind}:"
    return f"{PREFIX}:not-visible:{what}{record_id}:{scope[:16]}"


def not_visible_seconds() -> int:
    return int(settings.CLOPOS_TTL_NOT_FOUND)


def receipt_key(receipt_id: int) -> str:
    return f"{PREFIX}:receipt:{receipt_id}"


def venues_key() -> str:
    return f"{PREFIX}:venues"


def sale_types_key() -> str:
    return f"{PREFIX}:sale-types"


def product_key(product_id: int) -> str:
    return f"{PREFIX}:product:{product_id}"


def order_list_key(fingerprint: str) -> str:
    """One page of the orders list, by the fingerprint of the Clopos query it makes."""
    return f"{PREFIX}:order-list:{fingerprint}"


def receipt_list_key(fingerprint: str) -> str:
    """One page of the receipts list, by the fingerprint of its Clopos query."""
    return f"{PREFIX}:receipt-list:{fingerprint}"


def customer_key(customer_id: int) -> str:
    return f"{PREFIX}:customer:{customer_id}"


def customer_search_key(fingerprint: str) -> str:
    """One customer search (its one Clopos page), by the fingerprint of its query."""
    return f"{PREFIX}:customer-search:{fingerprint}"


def payment_methods_key() -> str:
    return f"{PREFIX}:payment-methods"


def customer_ages() -> Ages:
    """A customer record, or a search's page of them: people change numbers rarely, but a search
    should find a customer created a minute ago."""
    return Ages(settings.CLOPOS_TTL_CUSTOMER, settings.CLOPOS_STALE_CUSTOMER)


def order_list_ages(*, today: bool) -> Ages:
    """A list that covers now keeps changing; a past day's list hardly does."""
    if today:
        return Ages(settings.CLOPOS_TTL_LIST_TODAY, settings.CLOPOS_STALE_LIST_TODAY)
    return Ages(settings.CLOPOS_TTL_LIST_PAST, settings.CLOPOS_STALE_LIST_PAST)


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
