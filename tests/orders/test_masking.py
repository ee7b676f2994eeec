"""orders.masking: phones as a user without reveal sees them, and the contact a page gets.
(Addresses: tests/orders/test_masking_address.py.)"""

from __future__ import annotations

import re

import pytest

from clopos.types import Customer
from orders.masking import (
    MASK,
    CustomerContact,
    customer_contact,
    format_phone,
    mask_address,
    mask_phone,
    phone_uri,
)
from tests.conftest import ORDERS, load_payload


@pytest.mark.parametrize(
    ("phone", "expected"),
    [
        ("+994503214567", "+994 50 *** ** 67"),
        ("994503214567", "+994 50 *** ** 67"),
        ("+994 (50) 321-45-67", "+994 50 *** ** 67"),
        ("+994 70 240 99 81", "+994 70 *** ** 81"),
        ("0503214567", "050 *** 67"),  # local form: no country code
        ("+12025550123", "+120 *** 23"),
        ("12345", MASK),  # too short to show any of it
        ("phone: n/a", MASK),
    ],
)
def test_mask_phone(phone, expected):
    assert mask_phone(phone) == expected


@pytest.mark.parametrize("phone", [None, ""])
def test_no_phone_stays_none(phone):
    assert mask_phone(phone) is None


@pytest.mark.parametrize(
    "phone", ["+994503214567", "+994 (55) 765-43-21", "0503214567", "+12025550123", "+442071838750"]
)
def test_a_masked_phone_never_holds_the_subscriber_number(phone):
    digits = re.sub(r"\D", "", phone)
    masked_digits = re.sub(r"\D", "", mask_phone(phone))

    assert len(masked_digits) <= 7  # country + operator + the last two at most
    assert digits[-7:] not in masked_digits
    assert digits[-5:] not in masked_digits


@pytest.mark.parametrize("order_id", sorted(ORDERS))
def test_every_fixture_customer_is_masked_unless_revealed(order_id):
    raw = load_payload(ORDERS[order_id])["data"]["payload"]["customer"]
    customer = Customer(id=raw.get("id"), name=raw.get("name"), phone=raw.get("phone"), address=raw.get("address"))

    masked = customer_contact(customer, reveal=False)
    revealed = customer_contact(customer, reveal=True)

    assert masked == CustomerContact(
        phone=mask_phone(customer.phone), address=mask_address(customer.address), masked=True
    )
    assert masked.phone != customer.phone
    assert masked.address is None or masked.address != customer.address
    # Revealed: grouped for reading, dialable, copyable as Clopos has it.
    assert revealed == CustomerContact(
        phone=format_phone(customer.phone),
        address=customer.address,
        masked=False,
        phone_uri=phone_uri(customer.phone),
        phone_raw=customer.phone,
    )
    assert re.sub(r"\D", "", revealed.phone) == re.sub(r"\D", "", customer.phone)


@pytest.mark.parametrize(
    ("phone", "shown", "uri"),
    [
        ("+994702409981", "+994 70 240 99 81", "tel:+994702409981"),
        ("994503214567", "+994 50 321 45 67", "tel:+994503214567"),
        (" +994 55 730 18 44 ", "+994 55 730 18 44", "tel:+994557301844"),
        ("050 321 45 67", "050 321 45 67", "tel:0503214567"),
        ("+7 912 345 67 89", "+7 912 345 67 89", "tel:+79123456789"),
        ("", None, None),
        (None, None, None),
    ],
)
def test_a_revealed_phone_is_grouped_and_dialable(phone, shown, uri):
    assert format_phone(phone) == shown
    assert phone_uri(phone) == uri


def test_a_customer_without_contact_details():
    contact = customer_contact(Customer(id=None, name="Walk-in", phone=None, address=None), reveal=False)

    assert contact == CustomerContact(phone=None, address=None, masked=True)
