"""console.ids: Clopos ids as the console accepts them in URLs and forms."""

from __future__ import annotations

import pytest

from console.ids import ID_PATTERN, MAX_ID, LookupTarget, parse_id, parse_lookup_target


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", 1),
        ("4101", 4101),
        (" 42 ", 42),  # pasted with spaces
        ("0007", 7),
        (str(MAX_ID), MAX_ID),  # 2^53 - 1: still exact in a browser's JavaScript
    ],
)
def test_valid_ids(raw, expected):
    assert parse_id(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "0",
        "-5",
        "+5",
        "1.5",
        "1e3",
        "12a",
        "abc",
        "4 101",
        str(MAX_ID + 1),
        "1" * 17,
        "١٢٣",  # Arabic-Indic digits: str.isdigit() says yes, Clopos would not
        "４１０１",  # full-width digits
        "4101\n5",
    ],
)
def test_invalid_ids_are_none(raw):
    assert parse_id(raw) is None


def test_the_pattern_fits_the_bound():
    assert ID_PATTERN.fullmatch(str(MAX_ID))
    assert MAX_ID == 2**53 - 1


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("4103", LookupTarget("order", 4103)),
        ("#4103", LookupTarget("order", 4103)),
        ("/orders/4103/", LookupTarget("order", 4103)),
        ("r20855", LookupTarget("receipt", 20855)),
        ("R20855", LookupTarget("receipt", 20855)),
        (" r 20855 ", LookupTarget("receipt", 20855)),
        ("r#20855.", LookupTarget("receipt", 20855)),
        ("/receipts/20855/", LookupTarget("receipt", 20855)),
        ("https://admin.example.az/receipts/20855/", LookupTarget("receipt", 20855)),
        ("integrations.clopos.com/open-api/v2/receipts/20855", LookupTarget("receipt", 20855)),
    ],
)
def test_the_lookup_box_tells_orders_from_receipts(raw, expected):
    assert parse_lookup_target(raw) == expected


@pytest.mark.parametrize(
    "raw", ["r", "r0", "rr1", "receipt", "x20855", "r-5", "r1.5", f"r{MAX_ID + 1}", "/receipts/abc/"]
)
def test_a_receipt_lookup_is_never_guessed(raw):
    assert parse_lookup_target(raw) is None
