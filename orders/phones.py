"""Phone numbers as people type them, read into one canonical number. Pure: no Django, no network.

A caller reads "050 333 22 11", "+994503332211", "994 50 333-22-11", "(050) 333 22 11",
"0503332211" or "50 333 22 11" (with spaces, dots, dashes, brackets, "tel:", invisible marks or
full-width digits around it) as the same Azerbaijani number: country 994, national number
503332211 (a two-digit operator or area code, then seven digits). Which forms Clopos may have
stored it in is an assumption about Clopos, so it lives in `clopos.listing.phone_stored_forms`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from clopos.listing import phone_stored_forms

AZ = "994"
# Words people put around a number; anything else with letters is a name, not a phone.
_PHONE_WORDS = re.compile(r"(?i)\b(?:tel|telefon|phone|mob|mobil|cell|тел|моб)\b\.?:?")
_LETTER = re.compile(r"[^\W\d_]")
# Digits: at least seven for anything we try (a national number without its code is not enough).
MIN_DIGITS = 7


@dataclass(frozen=True, slots=True)
class PhoneNumber:
    """A number in canonical parts: `country` code digits and the `national` number."""

    country: str
    national: str

    @property
    def e164(self) -> str:
        return f"+{self.country}{self.national}"

    def stored_forms(self) -> tuple[str, ...]:
        """Every form to ask Clopos for (one request, any of them)."""
        return phone_stored_forms(self.national, self.country)


def _clean(text: str) -> str:
    # NFKC turns full-width digits and odd spaces into ASCII ones; format marks (left-to-right
    # marks pasted from a phone's contacts) are dropped.
    folded = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in folded if unicodedata.category(ch) != "Cf").strip()


def looks_like_phone(text: str) -> bool:
    """True when `text` is meant as a phone number: digits with separators and no letters other
    than a "tel:"-like word. A text with letters is searched as a name."""
    cleaned = _PHONE_WORDS.sub(" ", _clean(text))
    return bool(re.search(r"\d", cleaned)) and not _LETTER.search(cleaned)


def parse_phone(text: str) -> PhoneNumber | None:
    """The number in `text`, or None when it cannot be a whole phone number.

    Azerbaijani numbers in every common writing: +994 50 …, 994 50 …, 00994 50 …, 050 …,
    50 … (nine digits), 8 050 … (the old trunk prefix), +994 (0)50 …. Another country's number
    needs its "+" or "00" (country code and number kept as typed). A shorter run of digits (a
    number without its code) is None: too little to find anyone by.
    """
    if not looks_like_phone(text):
        return None
    cleaned = _PHONE_WORDS.sub(" ", _clean(text))
    international = cleaned.lstrip().startswith("+")
    digits = re.sub(r"[^0-9]", "", cleaned)
    if digits.startswith("00"):
        digits, international = digits[2:], True
    if digits.startswith(AZ) and len(digits) in (12, 13):
        national = digits[3:]
        if len(national) == 10 and national.startswith("0"):  # +994 (0)50 333 22 11
            national = national[1:]
        return _azerbaijani(national)
    if international:
        # A country code never starts with 0; E.164 numbers have at most 15 digits.
        valid = 8 <= len(digits) <= 15 and not digits.startswith("0")
        return PhoneNumber(country=digits[:3], national=digits[3:]) if valid else None
    if len(digits) == 11 and digits.startswith("80"):  # 8 050 333 22 11: the old trunk prefix
        return _azerbaijani(digits[2:])
    if len(digits) == 10 and digits.startswith("0"):
        return _azerbaijani(digits[1:])
    if len(digits) == 9:
        return _azerbaijani(digits)
    return None


def _azerbaijani(national: str) -> PhoneNumber | None:
    if len(national) != 9 or national.startswith("0"):
        return None
    return PhoneNumber(country=AZ, national=national)
