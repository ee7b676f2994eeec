"""orders.forms: the order lookup box and order ids in URLs (a bad id is a 400, never a call)."""

from __future__ import annotations

import pytest

from console.access import InputError
from console.ids import INVALID_ORDER_ID, LOOKUP_HELP
from orders.forms import OrderLookupForm, order_id_from_url


@pytest.mark.parametrize(("raw", "expected"), [("4101", 4101), (" 4101 ", 4101), ("1", 1)])
def test_order_id_from_url(raw, expected):
    assert order_id_from_url(raw) == expected


@pytest.mark.parametrize("raw", ["abc", "0", "-5", "9007199254740992", "12a", " ", "4101/receipt"])
def test_a_bad_id_in_the_url_is_an_input_error(raw):
    with pytest.raises(InputError) as error:
        order_id_from_url(raw)

    assert error.value.message == INVALID_ORDER_ID
    assert error.value.value == raw  # shown back in the lookup box


@pytest.mark.parametrize(("raw", "expected"), [("4101", 4101), ("  4103\t", 4103), ("0042", 42)])
def test_lookup_form_accepts_an_id(raw, expected):
    form = OrderLookupForm(data={"order_id": raw})

    assert form.is_valid(), form.errors
    assert form.cleaned_data["order_id"] == expected


@pytest.mark.parametrize("raw", ["abc", "0", "-1", "1.5", "١٢٣"])
def test_lookup_form_explains_a_bad_id(raw):
    form = OrderLookupForm(data={"order_id": raw})

    assert not form.is_valid()
    # The lookup box takes "#4103", "4103." and links too; anything else gets the short hint.
    assert form.errors["order_id"] == [LOOKUP_HELP]


@pytest.mark.parametrize("data", [{}, {"order_id": ""}, {"order_id": "   "}])
def test_lookup_form_needs_an_id(data):
    form = OrderLookupForm(data=data)

    assert not form.is_valid()
    assert form.errors["order_id"] == ["This field is required."]


def test_lookup_form_refuses_an_overlong_value():
    form = OrderLookupForm(data={"order_id": "1" * 33})

    assert not form.is_valid()
    assert "order_id" in form.errors
