"""Customer contact details as a given user may see them. Masking happens on the server: the
full value never reaches a browser that is not allowed to see it."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from clopos.types import Customer

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


def format_phone(phone: str | None) -> str | None:
    """+994702409981 → "+994 70 240 99 81" (an Azerbaijani number, grouped as people read it);
    any other number as Clopos gave it."""
    if not phone:
        return None
    digits = re.sub(r"\D", "", phone)
    if digits.startswith("994") and len(digits) == 12:
        return f"+994 {digits[3:5]} {digits[5:8]} {digits[8:10]} {digits[10:]}"
    return phone.strip()


def phone_uri(phone: str | None) -> str | None:
    """A `tel:` link for the number: digits only, with the + of an international number."""
    if not phone:
        return None
    digits = re.sub(r"\D", "", phone)
    if not digits:
        return None
    international = phone.strip().startswith("+") or (digits.startswith("994") and len(digits) == 12)
    return f"tel:{'+' if international else ''}{digits}"


# Places an address may be reduced to, as people write them in Azerbaijani, Latin transliteration
# and Russian; compared after `_place_key` normalisation. Cities stand alone; a district counts
# only with its marker ("Nərimanov r.", "Ясамальский р-н"), since streets carry the same names.
_CITIES = {
    "bakı", "baku", "баку", "sumqayıt", "sumgait", "сумгаит", "сумгайыт", "gəncə", "ganja", "гянджа",
    "xırdalan", "khirdalan", "хырдалан", "mingəçevir", "мингечевир", "lənkəran", "ленкорань", "şirvan",
    "ширван", "şəki", "шеки", "quba", "куба", "qəbələ", "габала", "naxçıvan", "нахчыван", "masallı",
    "şamaxı", "шемаха", "qusar", "гусар", "xaçmaz", "хачмаз", "bərdə", "барда", "yevlax", "евлах",
}  # fmt: skip
_DISTRICTS = {
    "nərimanov", "nerimanov", "narimanov", "нариманов", "наримановский", "yasamal", "ясамал", "ясамальский", "nəsimi",
    "nesimi", "nasimi", "насими", "насиминский", "xətai", "khatai", "хатаи", "хатаинский", "səbail", "sabail",
    "сабаил", "сабаильский", "binəqədi", "binagadi", "бинагадинский", "nizami", "низами", "низаминский",
    "suraxanı", "surakhani", "сураханский", "sabunçu", "sabunchu", "сабунчинский", "xəzər", "khazar",
    "хазарский", "qaradağ", "garadagh", "garadag", "гарадагский", "pirallahı", "pirallahi", "пираллахинский",
}  # fmt: skip
# Words that only say what kind of place a part names ("Nərimanov r.", "г. Баку", "Ясамальский р-н").
_PLACE_WORDS = re.compile(r"(?i)\b(?:r|ray|rayonu|rayon|şəh|şəhəri|city|district|г|город|р-н|район|р)\b\.?")
# Anything that names a street, a building or a flat: never kept.
_STREET_WORDS = re.compile(
    r"(?i)(?:küç|küçəsi|prosp|pr\.|döngə|dalan|mənzil|\bm\.|\bev\b|bina|blok|massiv|qəs|st\b|street|"
    r"avenue|ave\b|apt|ул\.?|улица|пр-т|проспект|пер\.?|переулок|д\.|дом|кв\.?|квартира|корп)"
)


def _place_key(part: str) -> str:
    return " ".join(_PLACE_WORDS.sub(" ", part).replace(".", " ").split()).casefold()


def _is_place(part: str) -> bool:
    key = _place_key(part)
    if key in _CITIES:
        return True
    return key in _DISTRICTS and (bool(_PLACE_WORDS.search(part)) or key.endswith("ский"))


def mask_address(address: str | None) -> str | None:
    """Only where, never which door: the known city and district parts of the address, then ***.

    "Bakı, Nərimanov r., Təbriz küç. 71, m. 24" → "Bakı, Nərimanov r., ***";
    "Şərifzadə küç. 12, m. 5, Bakı" → "Bakı, ***". When no part is a known place, the last part
    may stand for the town, unless it holds a digit or a street word; otherwise just "***".
    """
    if not address:
        return None
    parts = [part.strip() for part in address.split(",") if part.strip()]
    places = [part for part in parts if _is_place(part)]
    if not places and len(parts) > 1:
        last = parts[-1]
        if not re.search(r"\d", last) and not _STREET_WORDS.search(last) and len(last) <= 30:
            places = [last]
    if not places:
        return MASK
    return ", ".join([*places, MASK])


@dataclass(frozen=True, slots=True)
class CustomerContact:
    phone: str | None
    address: str | None
    masked: bool
    # Revealed only: the number to dial (a `tel:` URI) and to copy (digits, as Clopos has it).
    phone_uri: str | None = None
    phone_raw: str | None = None


def customer_contact(customer: Customer, *, reveal: bool) -> CustomerContact:
    if reveal:
        return CustomerContact(
            phone=format_phone(customer.phone),
            address=customer.address,
            masked=False,
            phone_uri=phone_uri(customer.phone),
            phone_raw=customer.phone.strip() if customer.phone else None,
        )
    return _masked_contact(customer.phone, customer.address)


@functools.lru_cache(maxsize=4096)
def _masked_contact(phone: str | None, address: str | None) -> CustomerContact:
    """Masking is a pure function of the two strings, and a list page masks the same 50 rows on
    every view: kept per process (issue 13), bounded."""
    return CustomerContact(phone=mask_phone(phone), address=mask_address(address), masked=True)
