"""Customer contact details as a given user may see them. Masking happens on the server: the
full value never reaches a browser that is not allowed to see it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from orders.clopos.types import Customer

MASK = "***"


def mask_phone(phone: str | None) -> str | None:
    """+994503214567 → "+994 50 *** ** 67": operator code and last two digits only."""
    if not phone:
        return None
    digits = re.sub(r"\D", "", phone)
    if len(digits) < 6:
        return MASK
    if digits.startswith("994") and len(digits) == 12:
        return f"+994 {digits[3:5]} *** ** {digits[-2:]}"
    prefix = "+" if phone.strip().startswith("+") else ""
    return f"{prefix}{digits[:3]} *** {digits[-2:]}"


def mask_address(address: str | None) -> str | None:
    """Keep the city (the first part), hide the street and flat: "Bakı, ***"."""
    if not address:
        return None
    city = address.split(",", 1)[0].strip()
    if "," not in address or len(city) > 40:
        return MASK
    return f"{city}, {MASK}"


@dataclass(frozen=True, slots=True)
class CustomerContact:
    phone: str | None
    address: str | None
    masked: bool


def customer_contact(customer: Customer, *, reveal: bool) -> CustomerContact:
    if reveal:
        return CustomerContact(phone=customer.phone, address=customer.address, masked=False)
    return CustomerContact(phone=mask_phone(customer.phone), address=mask_address(customer.address), masked=True)
