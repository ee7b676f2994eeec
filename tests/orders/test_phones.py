"""orders.phones: a phone number however a caller types it, read into one number; and the forms
Clopos may have stored it in (clopos.listing.phone_stored_forms). Pure: no database, no network."""

from __future__ import annotations

import pytest

from clopos.listing import phone_stored_forms
from orders.customers import read_search_term
from orders.phones import PhoneNumber, looks_like_phone, parse_phone

ALI = PhoneNumber("994", "503332211")

# How people type one number: every row must read as +994 50 333 22 11.
TYPED = [
    # The forms the issue names.
    "050 333 22 11",
    "+994503332211",
    "994 50 333-22-11",
    "(050) 333 22 11",
    "0503332211",
    "50 333 22 11",
    # Other writings seen in practice.
    "+994 50 333 22 11",
    "994503332211",
    "050-333-22-11",
    "+994 (50) 333-22-11",
    "+994 (050) 333 22 11",
    "00994 50 333 22 11",
    "8 050 333 22 11",
    "503332211",
    # Stray characters around and inside.
    " 050 333 22 11 ",
    "050.333.22.11",
    "050/333 22 11",
    "050_333_22_11",
    "tel: 050 333 22 11",
    "Tel.: +994 50 333 22 11",
    "тел. 050 333 22 11",
    "\u202a+994 50 333 22 11\u202c",  # bidi marks pasted from a phone's contacts
    "\u200e050 333 22 11",
    "０５０ ３３３ ２２ １１",  # full-width digits
    "050\u00a0333\u00a022\u00a011",  # non-breaking spaces
    "+994-50-333-22-11.",
]


@pytest.mark.parametrize("typed", TYPED)
def test_every_typed_form_reads_as_one_number(typed):
    assert looks_like_phone(typed)
    assert parse_phone(typed) == ALI


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("012 440 11 22", PhoneNumber("994", "124401122")),  # Baku landline
        ("+994 12 440 11 22", PhoneNumber("994", "124401122")),
        ("070 555 66 77", PhoneNumber("994", "705556677")),
        ("(055) 987 65 43", PhoneNumber("994", "559876543")),
        ("+7 916 123-45-67", PhoneNumber("791", "61234567")),  # another country: kept as typed
        ("0049 30 1234567", PhoneNumber("493", "01234567")),
    ],
)
def test_other_numbers(typed, expected):
    assert parse_phone(typed) == expected


@pytest.mark.parametrize(
    "typed",
    [
        "333 22 11",  # no operator code: too little to find anyone by
        "22 11",
        "0 333 22 11",
        "050 333 22 1",  # a digit short
        "050 333 22 111",  # a digit too many
        "000 333 22 11",
        "+994 050 333 22 1",
        "+12345",
    ],
)
def test_an_incomplete_number_is_not_guessed(typed):
    assert looks_like_phone(typed)
    assert parse_phone(typed) is None


@pytest.mark.parametrize("typed", ["Əli", "Əli 050", "ismayıl", "Анна", "room 12", "", "   ", "-"])
def test_text_with_letters_is_a_name_not_a_phone(typed):
    assert not looks_like_phone(typed)
    assert parse_phone(typed) is None


def test_the_stored_forms_of_an_azerbaijani_number():
    # Every format the sandbox stores numbers in is among them (its six), and the docs' own.
    forms = ALI.stored_forms()
    assert forms == phone_stored_forms("503332211")
    for stored in (
        "+994503332211",
        "+994 50 333 22 11",
        "0503332211",
        "994503332211",
        "050-333-22-11",
        "(050) 333 22 11",
    ):
        assert stored in forms
    assert len(forms) == len(set(forms)) == 8
    # ... and every form reads back as the same number.
    assert {parse_phone(form) for form in forms} == {ALI}


def test_another_country_is_tried_as_typed_with_and_without_plus():
    assert PhoneNumber("791", "61234567").stored_forms() == ("+79161234567", "79161234567")


@pytest.mark.parametrize(
    ("typed", "kind", "text", "audit"),
    [
        ("050 333 22 11", "phone", "+994503332211", "phone +994 50 *** ** 11"),
        ("  Əli   Məmmədov ", "name", "Əli Məmmədov", "name Əli Məmmədov"),
        ("ismayıl", "name", "ismayıl", "name ismayıl"),
        ("İSMAYIL", "name", "İSMAYIL", "name İSMAYIL"),
        # NFD input (a decomposed "ç") is searched as NFC, as Clopos stores names.
        ("Çələbiyeva".replace("Ç", "C\u0327"), "name", "Çələbiyeva", "name Çələbiyeva"),
    ],
)
def test_a_search_term(typed, kind, text, audit):
    term, problem = read_search_term(typed)
    assert problem == ""
    assert term is not None
    assert (term.kind, term.text, term.masked) == (kind, text, audit)
    # The audit text never holds the whole number.
    assert "3332211" not in term.masked and "333 22 11" not in term.masked


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("333 22 11", "Type the whole phone number with its code, e.g. 050 333 22 11."),
        ("Ə", "Type at least two letters of the name, or a phone number."),
        ("--", "Type at least two letters of the name, or a phone number."),
    ],
)
def test_a_search_term_that_cannot_be_searched(typed, problem):
    assert read_search_term(typed) == (None, problem)
