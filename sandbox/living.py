"""The "living" dataset: orders, receipts and customers relative to the sandbox clock.

Alongside the fixed dataset in :mod:`sandbox.data` (which never changes), the sandbox
serves a venue's last 60 days and today, so that lists, business days and "today"
screens have something realistic to show. Every calendar day (Asia/Baku) is generated
on its own from a seed made of the date, so a given date always yields the same orders,
receipts and ids, whatever the current time, the order of requests or the process.
Days are built lazily on first use and cached for the whole process; a day costs a few
milliseconds, so starting a sandbox generates nothing.

Ids encode the day they belong to (the Baku date the order was created, or the receipt's
generation day), so they never collide with the fixed dataset:

* orders ``1YYMMDDNN`` (e.g. 126112705 = 2026-11-27, 6th order of the day, all venues)
* receipts ``2YYMMDDNNN`` (e.g. 2261127013)
* customers 1000-1239 (plus the customers of the fixed dataset, below 1000)

Each order and receipt has a timeline (created, received, closed, ignored). The server
shows it as it stands at the sandbox clock ``now``: an order created at 13:58 that will be
delivered at 15:00 is PENDING at 13:59, RECEIVED with an open receipt at 14:10, DELIVERED
with a closed receipt at 15:00, and does not exist at all at 13:57.

The records returned by this module are shared by every sandbox in the process: treat
them as read-only.
"""

from __future__ import annotations

import bisect
import random
import threading
import unicodedata
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from itertools import accumulate
from typing import Any

from sandbox import data
from sandbox.data import (
    _CENT,
    _COMMENTS,
    _NS,
    _STAFF,
    _STREETS,
    BAKU,
    STATUSES,
    VENUE_IDS,
    _integration,
    _iso,
    _Line,
    _Money,
    _order,
    _OrderSpec,
    _price,
    _random_lines,
    _receipt,
    _receipt_lines,
    money,
)

DAYS_BACK = 60  # the window is [today - 60 days, today], today being the Baku date of ``now``
CUTOFF_HOUR = 6  # business day cutoff used for ``shift_date`` (06:00 Baku)
FIRST_ORDER_ID = 100_000_000
LAST_ORDER_ID = 199_999_999
FIRST_RECEIPT_ID = 2_000_000_000
LAST_RECEIPT_ID = 2_999_999_999
FIRST_CUSTOMER_ID = 1000
CUSTOMER_POOL = 240  # 1000..1239, 80 per venue
BOUNDARY_VENUE = 3
# Baku times; 03:59/04:00/04:01 Baku are 23:59/00:00/00:01 UTC.
BOUNDARY_ORDER_TIMES = ("00:00", "00:01", "03:59", "04:00", "04:01", "05:59", "06:00", "06:01", "23:59")
BOUNDARY_RECEIPT_TIMES = ("02:00", "05:59", "06:00", "06:01")
OVERDUE = "overdue"
VAT_VENUES = {1: 18, 7: 18}  # venue 3 (the fixtures' venue) shows no tax, like the fixtures
PAYMENT_METHODS = {1: "Nağd", 2: "Kart"}
CUSTOMER_GROUPS = {1: "Standart", 2: "VIP", 3: "Korporativ"}
SALE_TYPES = (1, 2, 3)

# Relative weights of the hour of day (Baku) at which things happen.
# fmt: off
_ORDER_HOURS = (1, 1, 0.5, 0, 0, 0, 0, 0, 0.3, 1, 2, 4, 7, 8, 6, 4, 4, 5, 7, 9, 9, 7, 4, 2)
_DINE_HOURS = (0.6, 0.3, 0.2, 0, 0, 0, 0, 0, 0.2, 0.5, 1, 2, 6, 8, 6, 3, 2, 3, 6, 9, 10, 8, 5, 2)
# fmt: on
_RECEIPTS_PER_DAY = {1: (60, 90), 3: (50, 80), 7: (40, 70)}  # per venue, order receipts included

# --------------------------------------------------------------------------- text helpers


def fold(text: str) -> str:
    """Case-fold for name search: Azerbaijani-aware, dotted and dotless i are the same letter.

    ``str.casefold`` turns "İ" into "i" + U+0307, so "ismayıl" would not find "İsmayıl";
    here İ, I, ı and i all fold to "i", and ə/ğ/ö/ü/ç/ş fold to their lower case as usual.
    """
    return unicodedata.normalize("NFC", text).replace("İ", "i").casefold().replace("ı", "i")


def business_day(moment: datetime, cutoff_hour: int = CUTOFF_HOUR) -> date:
    """The Baku business day of an aware moment: before ``cutoff_hour`` it is still the day before."""
    return (moment.astimezone(BAKU) - timedelta(hours=cutoff_hour)).date()


def window(now: datetime) -> tuple[date, date]:
    """First and last Baku calendar day of the living dataset at ``now``."""
    today = now.astimezone(BAKU).date()
    return today - timedelta(days=DAYS_BACK), today


def _yymmdd(day: date) -> int:
    return (day.year % 100) * 10000 + day.month * 100 + day.day


def _decode(code: int) -> date | None:
    try:
        return date(2000 + code // 10000, code // 100 % 100, code % 100)
    except ValueError:
        return None


def order_day(order_id: int) -> date | None:
    """The Baku day a living order id belongs to, or None if it is not a living order id."""
    if FIRST_ORDER_ID <= order_id <= LAST_ORDER_ID:
        return _decode((order_id - FIRST_ORDER_ID) // 100)
    return None


def receipt_day(receipt_id: int) -> date | None:
    """The generation day of a living receipt id (its order's day), or None."""
    if FIRST_RECEIPT_ID <= receipt_id <= LAST_RECEIPT_ID:
        return _decode((receipt_id - FIRST_RECEIPT_ID) // 1000)
    return None


def _hhmm(label: str) -> int:
    hours, minutes = label.split(":")
    return int(hours) * 3600 + int(minutes) * 60


def _seeded(kind: str, *parts: object) -> random.Random:
    # String seeds are hashed with SHA-512 by random.seed, so they do not depend on PYTHONHASHSEED.
    return random.Random(":".join(["clopos-sandbox-living", kind, *map(str, parts)]))


# --------------------------------------------------------------------------- customers

# fmt: off
_MALE = ["Əli", "Rauf", "Tural", "Elvin", "Orxan", "Kamran", "Fərid", "Ramil", "Murad", "Elşən", "Vüqar", "Rəşad",
         "Səməd", "Cavid", "Nicat", "Ülvi", "Şahin", "Həsən", "Hüseyn", "İlqar", "İsmayıl", "Tofiq", "Zaur", "Anar",
         "Ağasəf", "Çingiz"]
_FEMALE = ["Leyla", "Nigar", "Səbinə", "Günay", "Aytən", "Lalə", "Könül", "Sevinc", "Şəbnəm", "Gülşən", "Aynur",
           "Nərmin", "Xədicə", "Ülviyyə", "Fidan", "Türkan", "Aysel", "Gülnar", "Çiçək", "Səadət", "İlahə"]
_SURNAMES = ["Məmmədov", "Həsənov", "Əliyev", "Kərimov", "Quliyev", "Rzayev", "İsmayılov", "Hüseynov", "Abbasov",
             "Babayev", "Cəfərov", "Nağıyev", "Ağayev", "Çələbiyev", "Şükürov", "Güləliyev", "Vəliyev", "Əhmədov",
             "Bağırov", "Süleymanov", "Qasımov", "Novruzov", "Əlizadə", "Həsənli"]
_RU_MALE = [("Сергей", "Иванов"), ("Дмитрий", "Кузнецов"), ("Игорь", "Соколов"), ("Андрей", "Смирнов"),
            ("Алексей", "Попов"), ("Михаил", "Волков")]
_RU_FEMALE = [("Анна", "Петрова"), ("Ольга", "Смирнова"), ("Елена", "Попова"), ("Наталья", "Васильева"),
              ("Татьяна", "Морозова"), ("Ирина", "Лебедева")]
_MORE_STREETS = ["Səbail r., Üzeyir Hacıbəyov küç.", "Nəsimi r., Şəmsi Bədəlbəyli küç.",
                 "Yasamal r., Həsən bəy Zərdabi pr.", "Xətai r., Xocalı pr.", "Nizami r., Qara Qarayev pr.",
                 "Binəqədi r., 20 Yanvar küç.",
                 "Suraxanı r., Qaraçuxur qəs.", "Xəzər r., Mərdəkan qəs., Şağan yolu"]
_RU_STREETS = ["г. Баку, ул. Низами", "г. Баку, пр. Бюльбюля", "г. Баку, ул. Самеда Вургуна",
               "г. Баку, ул. Рашида Бейбутова"]
_MORE_COMMENTS = ["Kuryer gələndə zəng etsin", "Ağ çörək əlavə edin", "Əlavə salfet qoyun", "Qalıq üçün 20 AZN",
                  "Позвоните за 10 минут до доставки", "Без лука, пожалуйста",
                  "Домофон не работает, звоните на телефон", "Şəkərsiz çay olsun", None, None, None]
_RECEIPT_NOTES = [None] * 12 + ["Ad günü masası", "Rezerv: 19:30", "Hesabı ikiyə bölün", "Счёт на двоих",
                                "Masa pəncərə kənarında", "Uşaq stulu lazımdır"]
_CUSTOMER_NOTES = [None] * 6 + ["VIP müştəri", "Allergiya: qoz-fındıq", "Həmişə nağd ödəyir", "Постоянный клиент",
                                "Korporativ hesab (ofis)", "Gecikmə olarsa zəng edin"]
_TRANSLIT = str.maketrans({"ə": "e", "ğ": "g", "ö": "o", "ü": "u", "ç": "c", "ş": "s"})
# fmt: on
_PHONE_PREFIXES = ["50", "51", "55", "70", "77", "99", "10"]
PHONE_FORMATS = ("e164", "spaced", "local", "bare", "dashed", "parens")


def format_phone(prefix: str, digits: str, style: str) -> str:
    """One Azerbaijani number (operator prefix + 7 digits) in one of the stored styles."""
    a, b, c = digits[:3], digits[3:5], digits[5:]
    return {
        "e164": f"+994{prefix}{digits}",  # +994503332211
        "spaced": f"+994 {prefix} {a} {b} {c}",  # +994 50 333 22 11
        "local": f"0{prefix}{digits}",  # 0503332211
        "bare": f"994{prefix}{digits}",  # 994503332211
        "dashed": f"0{prefix}-{a}-{b}-{c}",  # 050-333-22-11
        "parens": f"(0{prefix}) {a} {b} {c}",  # (050) 333 22 11
    }[style]


# Customers the README and the tests name. Note 1000 and 1005 share a number in two formats.
# (id, venue, name, gender, phones, group)
SHOWCASE_CUSTOMERS: tuple[tuple[int, int, str, int, tuple[str, ...], int], ...] = (
    (1000, 3, "Əli Məmmədov", 1, ("+994503332211",), 1),
    (1001, 3, "Şəbnəm Quliyeva", 2, ("+994 55 444 33 22",), 2),
    (1002, 1, "Gülşən Ağayeva", 2, ("0705556677", "+994124401122"), 1),
    (1003, 7, "İsmayıl Həsənov", 1, ("994517778899",), 1),
    (1004, 3, "Ülviyyə Çələbiyeva", 2, ("050-222-33-44",), 3),
    (1005, 1, "Анна Петрова", 2, ("(050) 333 22 11",), 1),
    (1006, 7, "Сергей Иванов", 1, ("+994 70 123 45 67", "0771234567"), 2),
    (1007, 3, "Vüqar Əlizadə", 1, ("(055) 987 65 43", "+994129876543"), 1),
    (1008, 1, "Xədicə Bağırova", 2, ("994775550011",), 1),
)


def _slug(name: str) -> str:
    return ".".join(fold(part).translate(_TRANSLIT) for part in name.split())


def _cyrillic(text: str) -> bool:
    return any("\u0400" <= ch <= "\u04ff" for ch in text)


def _customer_record(
    rng: random.Random,
    cid: int,
    venue: int,
    name: str,
    gender: int,
    phones: list[str],
    addresses: list[str],
    group: int,
    *,
    spent: Decimal | None = None,
    receipt_count: int | None = None,
) -> dict[str, Any]:
    created = datetime(2024, 1, 10, 9, tzinfo=UTC) + timedelta(seconds=rng.randrange(700 * 86400))
    updated = created + timedelta(seconds=rng.randrange(60 * 86400))
    if receipt_count is None:
        receipt_count = rng.randint(1, 60)
    if spent is None:
        spent = Decimal(rng.randint(receipt_count * 1200, receipt_count * 4500)) / 100
    email = f"{_slug(name)}@example.az" if not _cyrillic(name) and rng.random() < 0.35 else None
    return {
        "id": cid,
        "venue_id": venue,
        "cid": str(uuid.uuid5(_NS, f"customer-{cid}")),
        "group_id": group,
        "balance_id": 3000 + cid,
        "name": name,
        "discount": 10 if group == 2 else 0,
        "email": email,
        "phones": phones,
        "phone": phones[0] if phones else None,
        "address": addresses[0] if addresses else None,
        "description": rng.choice(_CUSTOMER_NOTES),
        "addresses": addresses,
        "address_data": [{"type": "plain", "source": "client", "formattedAddress": a} for a in addresses],
        "bonus_balance_id": None,
        "cashback_balance_id": None,
        "spent": money(spent),
        "total_discount": money(spent * Decimal("0.04")),
        "total_bonus": 0,
        "receipt_count": receipt_count,
        "gender": gender,
        "date_of_birth": f"{rng.randint(1960, 2004)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        if rng.random() < 0.3
        else None,
        "code": None,
        "created_at": _iso(created),
        "updated_at": _iso(updated),
        "deleted_at": None,
        "source": None,
        "reference_id": "".join(rng.choices("0123456789abcdef", k=24)) if rng.random() < 0.2 else None,
        "phone_verified_at": None,
        "status": True,
        "can_use_loyalty_system": False,
        "is_verified": False,
    }


def _address(rng: random.Random, russian: bool) -> str:
    if russian:
        return f"{rng.choice(_RU_STREETS)} {rng.randint(1, 150)}, кв. {rng.randint(1, 120)}"
    street = rng.choice(_STREETS + _MORE_STREETS)
    return f"Bakı, {street} {rng.randint(1, 150)}, m. {rng.randint(1, 120)}"


def _fixed_customers() -> dict[int, dict[str, Any]]:
    """Customers behind the fixed dataset's orders (ids below 1000), plus fixture customer 512."""
    seen: dict[int, dict[str, Any]] = {}
    venue_of: dict[int, int] = {}
    addresses: dict[int, list[str]] = {}
    for order in data.ORDERS.values():
        person = order["payload"]["customer"]
        seen.setdefault(person["id"], person)
        venue_of.setdefault(person["id"], order["venue_id"])
        if person.get("address") and person["address"] not in addresses.setdefault(person["id"], []):
            addresses[person["id"]].append(person["address"])
    counts: dict[int, int] = {}
    spent: dict[int, Decimal] = {}
    for receipt in data.RECEIPTS.values():
        cid = receipt["customer_id"]
        counts[cid] = counts.get(cid, 0) + 1
        if receipt["status"] == 2:
            spent[cid] = spent.get(cid, Decimal(0)) + Decimal(str(receipt["total"]))
    customers = {}
    for cid in sorted(seen):
        if cid == 512:
            customers[cid] = data.load_fixture("customer_512_get_by_id_bare_object.json")
            continue
        person = seen[cid]
        first = person["name"].split()[0]
        gender = 2 if first in data._FEMALE else 1
        customers[cid] = _customer_record(
            _seeded("customer", cid),
            cid,
            venue_of[cid],
            person["name"],
            gender,
            [person["phone"]],
            addresses.get(cid, []),
            1,
            spent=spent.get(cid, Decimal(0)),
            receipt_count=counts.get(cid, 0),
        )
    return customers


def _pool_customers() -> dict[int, dict[str, Any]]:
    customers: dict[int, dict[str, Any]] = {}
    taken = {
        "".join(ch for ch in phone if ch.isdigit())[-9:] for *_, phones, _ in SHOWCASE_CUSTOMERS for phone in phones
    }
    for cid, venue, name, gender, phones, group in SHOWCASE_CUSTOMERS:
        rng = _seeded("customer", cid)
        russian = _cyrillic(name)
        addresses = [_address(rng, russian) for _ in range(1 + (cid % 3 == 0))]
        customers[cid] = _customer_record(rng, cid, venue, name, gender, list(phones), addresses, group)
    for cid in range(FIRST_CUSTOMER_ID + len(SHOWCASE_CUSTOMERS), FIRST_CUSTOMER_ID + CUSTOMER_POOL):
        rng = _seeded("customer", cid)
        venue = VENUE_IDS[(cid - FIRST_CUSTOMER_ID) % 3]
        gender = rng.choice((1, 2))
        russian = rng.random() < 0.12
        if russian:
            first, last = rng.choice(_RU_MALE if gender == 1 else _RU_FEMALE)
        else:
            first = rng.choice(_MALE if gender == 1 else _FEMALE)
            last = rng.choice(_SURNAMES)
            if gender == 2 and last.endswith(("ov", "yev", "ev")):
                last += "a"
        phones = []
        for _ in range(2 if rng.random() < 0.2 else 1):
            while True:
                prefix, digits = rng.choice(_PHONE_PREFIXES), f"{rng.randrange(2_000_000, 10**7):07d}"
                if prefix + digits not in taken:
                    taken.add(prefix + digits)
                    break
            phones.append(format_phone(prefix, digits, rng.choice(PHONE_FORMATS)))
        addresses = [_address(rng, russian) for _ in range(rng.choice((1, 1, 1, 2)))]
        group = rng.choices((1, 2, 3), (85, 10, 5))[0]
        customers[cid] = _customer_record(rng, cid, venue, f"{first} {last}", gender, phones, addresses, group)
    return customers


def _build_customers() -> dict[int, dict[str, Any]]:
    return {**_fixed_customers(), **_pool_customers()}


CUSTOMERS: dict[int, dict[str, Any]] = _build_customers()
_POOL_BY_VENUE: dict[int, list[dict[str, Any]]] = {
    v: [c for cid, c in CUSTOMERS.items() if cid >= FIRST_CUSTOMER_ID and c["venue_id"] == v] for v in VENUE_IDS
}


def _pick_customer(rng: random.Random, venue: int) -> dict[str, Any]:
    pool = _POOL_BY_VENUE[venue]
    # A quarter of the pool are regulars who order several times a week.
    return rng.choice(pool[: len(pool) // 4]) if rng.random() < 0.5 else rng.choice(pool)


# --------------------------------------------------------------------------- plans (timelines only)

_UNIX_ORDINAL = date(1970, 1, 1).toordinal()
_BAKU_OFFSET = 4 * 3600


def _midnight(day: date) -> int:
    """Epoch seconds of 00:00 Baku on ``day``."""
    return (day.toordinal() - _UNIX_ORDINAL) * 86400 - _BAKU_OFFSET


def _shift_of(epoch: int) -> date:
    return date.fromordinal((epoch + _BAKU_OFFSET - CUTOFF_HOUR * 3600) // 86400 + _UNIX_ORDINAL)


def _baku_text(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, BAKU).strftime("%Y-%m-%d %H:%M:%S")


def _iso_text(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _moment(epoch: int | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, BAKU)


_ORDER_CUM = list(accumulate(_ORDER_HOURS))
_DINE_CUM = list(accumulate(_DINE_HOURS))
_HOURS = range(24)


def _second_of_day(rng: random.Random, cum_weights: list[float]) -> int:
    return rng.choices(_HOURS, cum_weights=cum_weights)[0] * 3600 + rng.randrange(3600)


@dataclass(frozen=True, slots=True)
class _PlannedOrder:
    seq: int
    created: int  # epoch seconds
    status: str  # final status
    sale_type: int
    received: int | None
    closed: int | None
    ignored: int | None
    boundary: str | None
    overdue: bool = False


@dataclass(frozen=True, slots=True)
class _PlannedReceipt:
    key: tuple[int, int, int]  # (opened, 0 order / 1 POS, seq): the order of ids and daily ids
    opened: int
    closed: int | None
    order_seq: int | None
    boundary: str | None


@dataclass(frozen=True, slots=True)
class _Plan:
    orders: tuple[_PlannedOrder, ...]
    receipts: tuple[_PlannedReceipt, ...]


@lru_cache(maxsize=4096)
def _plan(day: date, venue: int) -> _Plan:
    """The timelines of one venue's day. Cheap, so daily and monthly receipt numbers can count them."""
    rng = _seeded("plan", day.isoformat(), venue)
    start = _midnight(day)
    combos = [(status, sale_type) for status in STATUSES for sale_type in SALE_TYPES]
    for _ in range(rng.randint(0, 8)):
        combos.append((rng.choices(STATUSES, (1, 1, 7, 1))[0], rng.choices(SALE_TYPES, (2, 5, 3))[0]))
    combos.remove(("PENDING", 2))  # planned apart below: the day's overdue order
    rng.shuffle(combos)
    seconds = sorted(_second_of_day(rng, _ORDER_CUM) for _ in combos)
    planned: list[tuple[int, str, int, str | None]] = [
        (sec, status, sale_type, None) for sec, (status, sale_type) in zip(seconds, combos, strict=True)
    ]
    # A delivery order placed in the morning that nobody ever accepts: still PENDING hours later.
    planned.append((rng.randint(9 * 3600 + 1800, 11 * 3600 + 1800), "PENDING", 2, OVERDUE))
    if venue == BOUNDARY_VENUE:
        planned += [(_hhmm(label), "DELIVERED", rng.choice(SALE_TYPES), label) for label in BOUNDARY_ORDER_TIMES]
    planned.sort(key=lambda p: p[0])
    orders = []
    for seq, (sec, status, sale_type, mark) in enumerate(planned):
        label = None if mark == OVERDUE else mark
        created = start + sec
        received = closed = ignored = None
        if status in ("RECEIVED", "DELIVERED"):
            # Boundary orders are auto-accepted: their receipt opens in the same second.
            received = created if label else created + rng.randint(60, 720)
            if status == "DELIVERED":
                closed = received + rng.randint(2700, 6000)  # paid and closed 45-100 minutes later
        elif status == "IGNORE":
            ignored = created + rng.randint(120, 900)
        orders.append(_PlannedOrder(seq, created, status, sale_type, received, closed, ignored, label, mark == OVERDUE))

    receipts = [
        _PlannedReceipt((o.received, 0, o.seq), o.received, o.closed, o.seq, o.boundary)
        for o in orders
        if o.received is not None
    ]
    low, high = _RECEIPTS_PER_DAY[venue]
    target = rng.randint(low, high) + (10 if day.weekday() in (4, 5) else 0)
    count = max(12, target - len(receipts))
    pos_seconds = sorted(_second_of_day(rng, _DINE_CUM) for _ in range(count))
    still_open = set(rng.sample(range(count), rng.randint(1, 2)))
    pos: list[tuple[int, bool, str | None]] = [(sec, i in still_open, None) for i, sec in enumerate(pos_seconds)]
    if venue == BOUNDARY_VENUE:
        pos += [(_hhmm(label), False, label) for label in BOUNDARY_RECEIPT_TIMES]
    for seq, (sec, stays_open, label) in enumerate(pos):
        opened = start + sec
        closed = None if stays_open else opened + rng.randint(1800, 8400)
        receipts.append(_PlannedReceipt((opened, 1, seq), opened, closed, None, label))
    receipts.sort(key=lambda r: r.key)
    return _Plan(tuple(orders), tuple(receipts))


@lru_cache(maxsize=4096)
def _shift_keys(shift: date, venue: int) -> tuple[tuple[int, int, int], ...]:
    """Sorted keys of the venue's receipts whose shift_date is ``shift`` (opened that day or the next night)."""
    nxt = shift + timedelta(days=1)
    keys = [r.key for d in (shift, nxt) for r in _plan(d, venue).receipts if _shift_of(r.opened) == shift]
    return tuple(sorted(keys))


@lru_cache(maxsize=4096)
def _month_offset(shift: date, venue: int) -> int:
    """Receipts of the venue's earlier shifts in the same month: monthly_id runs on from there."""
    if shift.day == 1:
        return 0
    previous = shift - timedelta(days=1)
    return _month_offset(previous, venue) + len(_shift_keys(previous, venue))


def _numbers(venue: int, planned: _PlannedReceipt) -> tuple[int, int]:
    """(daily_id, monthly_id): running numbers of the venue's receipts per shift and per month of shifts."""
    shift = _shift_of(planned.opened)
    daily = bisect.bisect_left(_shift_keys(shift, venue), planned.key) + 1
    return daily, _month_offset(shift, venue) + daily


@lru_cache(maxsize=1024)
def _ids(day: date) -> tuple[dict[tuple[int, int], int], dict[tuple[int, tuple[int, int, int]], int]]:
    """Order ids by (venue, seq) and receipt ids by (venue, key), numbered across venues in time order."""
    plans = {venue: _plan(day, venue) for venue in VENUE_IDS}
    orders = sorted((o.created, v, o.seq) for v, p in plans.items() for o in p.orders)
    receipts = sorted((r.key[0], v, r.key) for v, p in plans.items() for r in p.receipts)
    order_base = FIRST_ORDER_ID + _yymmdd(day) * 100
    receipt_base = FIRST_RECEIPT_ID + _yymmdd(day) * 1000
    return (
        {(v, seq): order_base + n for n, (_, v, seq) in enumerate(orders)},
        {(v, key): receipt_base + n for n, (_, v, key) in enumerate(receipts)},
    )


def boundary_orders(day: date) -> dict[str, int]:
    """Ids of venue 3's boundary orders of ``day``, keyed by their Baku creation time ("05:59", ...)."""
    order_ids, _ = _ids(day)
    plan = _plan(day, BOUNDARY_VENUE)
    return {o.boundary: order_ids[(BOUNDARY_VENUE, o.seq)] for o in plan.orders if o.boundary}


def overdue_orders(day: date) -> dict[int, int]:
    """Per venue, the id of the day's morning delivery order (09:30-11:30 Baku) that stays PENDING for good."""
    order_ids, _ = _ids(day)
    return {v: order_ids[(v, o.seq)] for v in VENUE_IDS for o in _plan(day, v).orders if o.overdue}


def boundary_receipts(day: date) -> dict[str, int]:
    """Ids of venue 3's order-less dine-in receipts opened at 02:00, 05:59, 06:00 and 06:01 Baku on ``day``."""
    _, receipt_ids = _ids(day)
    plan = _plan(day, BOUNDARY_VENUE)
    return {
        r.boundary: receipt_ids[(BOUNDARY_VENUE, r.key)] for r in plan.receipts if r.boundary and r.order_seq is None
    }


# --------------------------------------------------------------------------- records

# A day is indexed from its plans alone (ids and timelines). Everything else (customer,
# lines, money, payments, then the JSON itself) is computed on first use from generators
# seeded with the record's own id, so it does not depend on what was asked for before.


def _vat(amount: Decimal, rate: int) -> int | float:
    return money((amount * rate / (100 + rate)).quantize(_CENT, rounding=ROUND_HALF_UP))


def _discount(rng: random.Random, subtotal: Decimal) -> tuple[int, Decimal]:
    roll = rng.random()
    if roll < 0.18:
        return 1, Decimal(rng.choice([5, 10, 15, 20]))
    if roll < 0.28:
        value = Decimal(rng.choice([1, 2, 3, 5]))
        if value < subtotal:
            return 2, value
    return 0, Decimal(0)


def _payment(rng: random.Random, total: Decimal) -> tuple[Decimal, Decimal]:
    """(by_card, by_cash), drawn like the fixed dataset's receipts: card, cash or split."""
    how = rng.choice(["card", "card", "cash", "split"]) if total >= 2 else "card"
    if how == "split":
        by_card = Decimal(rng.randint(1, int(total) - 1))
        return by_card, total - by_card
    return (Decimal(0), total) if how == "cash" else (total, Decimal(0))


class _Rendered:
    """A bounded, process-wide memory of rendered JSON, so paging through months stays small."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.items: OrderedDict[tuple[str, int], Any] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple[str, int]) -> Any:
        with self.lock:
            value = self.items.get(key)
            if value is not None:
                self.items.move_to_end(key)
            return value

    def put(self, key: tuple[str, int], value: Any) -> Any:
        with self.lock:
            self.items[key] = value
            while len(self.items) > self.size:
                self.items.popitem(last=False)
        return value


RENDERED = _Rendered(4000)  # a few pages of 200 receipts and their orders


@dataclass(slots=True)
class _Content:
    customer: dict[str, Any] | None
    lines: list[_Line]
    discount: tuple[int, Decimal]
    sc_pct: int
    delivery_fee: Decimal
    amounts: _Money


def _content(rng: random.Random, venue: int, sale_type: int, customer: dict[str, Any] | None) -> _Content:
    lines = _random_lines(rng)
    subtotal = sum((line.subtotal() for line in lines), Decimal(0))
    discount = _discount(rng, subtotal) if sale_type != 1 or rng.random() < 0.6 else (0, Decimal(0))
    sc_pct = 10 if sale_type == 1 and rng.random() < 0.6 else 0
    fee = Decimal(rng.choice([2, 3, 3, 4, 5])) if sale_type == 2 else Decimal(0)
    return _Content(customer, lines, discount, sc_pct, fee, _price(lines, *discount, sc_pct, fee))


def _person(customer: dict[str, Any] | None) -> dict[str, Any]:
    """The ``payload.customer`` snapshot of an order (and the customer of a receipt spec)."""
    if customer is None:
        return {"id": None, "phone": None, "address": None, "customer_discount_type": 0, "name": None}
    return {
        "id": customer["id"],
        "phone": customer["phone"],
        "address": customer["address"],
        "customer_discount_type": 0,
        "name": customer["name"],
    }


class LivingOrder:
    """One order and its timeline; ``view(t)`` is the order as Clopos would show it at epoch ``t``."""

    __slots__ = (
        "_customer_id",
        "boundary",
        "closed",
        "created",
        "done",
        "final_status",
        "id",
        "ignored",
        "receipt",
        "received",
        "sale_type_id",
        "venue_id",
    )

    def __init__(self, order_id: int, venue: int, planned: _PlannedOrder) -> None:
        self.id = order_id
        self.venue_id = venue
        self.sale_type_id = planned.sale_type
        self.final_status = planned.status
        self.boundary = planned.boundary
        self.created = planned.created
        self.received = planned.received
        self.closed = planned.closed
        self.ignored = planned.ignored
        self.done = max(t for t in (self.created, self.received, self.closed, self.ignored) if t is not None)
        self.receipt: LivingReceipt | None = None
        self._customer_id: int | None = None

    @property
    def content(self) -> _Content:
        """Customer, lines and money (computed on every call: cheap, and nothing to keep in memory)."""
        rng = random.Random(self.id * 2)
        return _content(rng, self.venue_id, self.sale_type_id, _pick_customer(rng, self.venue_id))

    @property
    def customer_id(self) -> int:
        if self._customer_id is None:
            # The customer is the generator's first draw: no need to build the lines for a filter.
            self._customer_id = _pick_customer(random.Random(self.id * 2), self.venue_id)["id"]
        return self._customer_id

    def status_at(self, t: float) -> str | None:
        if t < self.created:
            return None
        if self.ignored is not None and t >= self.ignored:
            return "IGNORE"
        if self.closed is not None and t >= self.closed:
            return "DELIVERED"
        if self.received is not None and t >= self.received:
            return "RECEIVED"
        return "PENDING"

    def updated(self, t: float) -> int:
        """Epoch of the order's last change at or before ``t``."""
        return max(x for x in (self.created, self.received, self.closed, self.ignored) if x is not None and x <= t)

    def _render(self) -> tuple[_OrderSpec, dict[str, Any]]:
        cached = RENDERED.get(("order", self.id))
        if cached is None:
            content = self.content
            rng = random.Random(self.id * 2 + 1)
            externals, response = _integration(rng, self.final_status)
            spec = _OrderSpec(
                order_id=self.id,
                venue_id=self.venue_id,
                status=self.final_status,
                sale_type_id=self.sale_type_id,
                created=_moment(self.created),  # type: ignore[arg-type]
                received=_moment(self.received),
                closed=_moment(self.closed),
                updated=_moment(self.done),  # type: ignore[arg-type]
                customer=_person(content.customer),
                lines=content.lines,
                discount_type=content.discount[0],
                discount_value=content.discount[1],
                sc_pct=content.sc_pct,
                delivery_fee=content.delivery_fee,
                comment=rng.choice(_COMMENTS + _MORE_COMMENTS),
                externals=externals,
                integration_response=response,
                auto_accept=self.boundary is not None or rng.random() < 0.3,
                auto_station=rng.random() < 0.2,
            )
            cached = RENDERED.put(("order", self.id), (spec, _order(spec, content.amounts)))
        return cached

    @property
    def spec(self) -> _OrderSpec:
        return self._render()[0]

    @property
    def final(self) -> dict[str, Any]:
        """The order once its timeline is complete."""
        return self._render()[1]

    def view(self, t: float) -> dict[str, Any] | None:
        if t < self.created:
            return None
        if t >= self.done:
            return self.final
        status = self.status_at(t)
        view = {**self.final, "status": status, "updated_at": _iso_text(self.updated(t))}
        if status == "PENDING":
            view["receive_user_id"] = view["receive_terminal_id"] = None
        return view


@dataclass(slots=True)
class _Payment:
    by_card: Decimal
    by_cash: Decimal
    open_status: str
    final_status: str

    @property
    def method_ids(self) -> tuple[int, ...]:
        return tuple(pid for pid, amount in ((2, self.by_card), (1, self.by_cash)) if amount)


class LivingReceipt:
    """One receipt: its final form, and the open form it has while ``now`` is before its closing."""

    __slots__ = (
        "_customer_id",
        "_payment",
        "_total",
        "boundary",
        "closed",
        "id",
        "opened",
        "order",
        "planned",
        "sale_type_id",
        "shift_date",
        "venue_id",
    )

    def __init__(self, receipt_id: int, venue: int, planned: _PlannedReceipt, order: LivingOrder | None) -> None:
        self.id = receipt_id
        self.venue_id = venue
        self.planned = planned
        self.order = order
        self.boundary = planned.boundary
        self.opened = planned.opened
        self.closed = planned.closed
        self.sale_type_id = 1 if order is None else order.sale_type_id
        self.shift_date = _shift_of(self.opened).isoformat()
        self._customer_id: int | None | bool = False  # False: not computed yet
        self._total: int | float | None = None
        self._payment: _Payment | None = None

    @property
    def content(self) -> _Content:
        """Customer, lines and money (computed on every call, like the order's)."""
        if self.order is not None:
            return self.order.content
        rng = random.Random(self.id * 2)
        customer = _pick_customer(rng, self.venue_id) if rng.random() < 0.25 else None
        return _content(rng, self.venue_id, 1, customer)

    def _payment_of(self, content: _Content) -> _Payment:
        if self._payment is None:
            rng = random.Random(self.id * 2 + 1)
            by_card, by_cash = _payment(rng, content.amounts.total)
            open_status = rng.choice(["NEW", "IN_PROGRESS", "READY"])
            if self.closed is None:
                final_status = open_status
            else:
                final_status = "PICKED_UP" if self.sale_type_id == 3 else "COMPLETED"
            self._payment = _Payment(by_card, by_cash, open_status, final_status)
        return self._payment

    @property
    def payment(self) -> _Payment:
        return self._payment or self._payment_of(self.content)

    @property
    def customer_id(self) -> int | None:
        if self.order is not None:
            return self.order.customer_id
        if self._customer_id is False:
            rng = random.Random(self.id * 2)  # as in ``content``: the customer is drawn first
            self._customer_id = _pick_customer(rng, self.venue_id)["id"] if rng.random() < 0.25 else None
        return self._customer_id  # type: ignore[return-value]

    @property
    def order_id(self) -> int | None:
        return None if self.order is None else self.order.id

    @property
    def total(self) -> int | float:
        if self._total is None:
            self._total = money(self.content.amounts.total)
        return self._total

    def is_open_at(self, t: float) -> bool:
        return self.closed is None or t < self.closed

    def method_ids_at(self, t: float) -> tuple[int, ...]:
        return () if self.is_open_at(t) else self.payment.method_ids

    def _spec(self, content: _Content) -> _OrderSpec:
        if self.order is not None:
            return self.order.spec
        return _OrderSpec(
            order_id=0,
            venue_id=self.venue_id,
            status="DELIVERED" if self.closed else "RECEIVED",
            sale_type_id=1,
            created=_moment(self.opened),  # type: ignore[arg-type]
            received=_moment(self.opened),
            closed=_moment(self.closed),
            updated=_moment(self.closed or self.opened),  # type: ignore[arg-type]
            customer=_person(content.customer),
            lines=content.lines,
            discount_type=content.discount[0],
            discount_value=content.discount[1],
            sc_pct=content.sc_pct,
        )

    @property
    def final(self) -> dict[str, Any]:
        """The receipt header (without ``receipt_products``) once its timeline is complete."""
        receipt = RENDERED.get(("receipt", self.id))
        if receipt is None:
            content = self.content
            payment = self._payment_of(content)
            amounts = content.amounts
            rng = random.Random(f"receipt-render:{self.id}")
            description = rng.choice(_RECEIPT_NOTES) if self.order is None else None
            numbers = _numbers(self.venue_id, self.planned)
            spec = self._spec(content)
            status = payment.final_status
            receipt = _receipt(rng, spec, amounts, self.id, numbers, status, description, with_lines=False)
            receipt.pop("receipt_products", None)
            if self.order is None:
                receipt["service_notification_id"] = None
                receipt["source"] = "pos"
            if self.closed is not None:
                payments = []
                if payment.by_card:
                    payments.append({"id": 2, "name": PAYMENT_METHODS[2], "amount": money(payment.by_card)})
                if payment.by_cash:
                    payments.append({"id": 1, "name": PAYMENT_METHODS[1], "amount": money(payment.by_cash)})
                receipt.update(payment_methods=payments, by_card=money(payment.by_card), by_cash=money(payment.by_cash))
            receipt["shift_date"] = self.shift_date
            receipt["cash_shift_cid"] = str(uuid.uuid5(_NS, f"shift-{self.venue_id}-{self.shift_date}"))
            rate = VAT_VENUES.get(self.venue_id)
            if rate:
                receipt["i_tax"] = receipt["total_tax"] = _vat(amounts.total, rate)
            RENDERED.put(("receipt", self.id), receipt)
        return receipt

    def view(self, t: float) -> dict[str, Any] | None:
        """The receipt header as it stands at epoch ``t``; None before it is opened."""
        if t < self.opened:
            return None
        if not self.is_open_at(t) or self.closed is None:
            return self.final
        view = RENDERED.get(("open receipt", self.id))
        if view is None:
            view = RENDERED.put(("open receipt", self.id), _reopen(self.final, self.payment.open_status, self.opened))
        return view

    def lines(self, t: float) -> list[dict[str, Any]]:
        """``receipt_products`` at epoch ``t``, each with ``product`` and ``modificators``.

        Built on every call (a fraction of a millisecond), so a month paged through with its
        lines does not stay in memory."""
        header = self.final
        updated = header["created_at"] if self.is_open_at(t) else header["closed_at"]
        content = self.content
        spec = self._spec(content)
        lines = _receipt_lines(spec, content.amounts, self.id, _STAFF[self.venue_id][0], header["created_at"], updated)
        rate = VAT_VENUES.get(self.venue_id)
        if rate:
            for line in lines:
                amount = _vat(Decimal(str(line["total"])), rate)
                line["taxes"] = [{"id": 1, "name": f"ƏDV {rate}%", "rate": rate, "amount": amount}]
        return lines


def _reopen(final: dict[str, Any], open_status: str, opened: int) -> dict[str, Any]:
    """The open form of a receipt that closes later: what it looked like before payment."""
    meta = {k: v for k, v in final["meta"].items() if k != "check_close_event"}
    meta.update(preprint_count=0, terminal_updated_at=opened * 1000 + final["meta"]["terminal_updated_at"] % 1000)
    view = dict(final)
    view.update(
        status=1,
        close_by_user_id=None,
        courier_id=None,
        closed_terminal_id=None,
        payment_methods=[],
        fiscal_id=None,
        by_cash=0,
        by_card=0,
        remaining=final["total"],
        report_status=0,
        meta=meta,
        printed=False,
        order_status=open_status,
        updated_at=final["created_at"],
        terminal_updated_at=final["created_at"],
        closed_at=None,
    )
    return view


@dataclass
class LivingDay:
    day: date
    orders: list[LivingOrder]  # by id (= by creation time)
    receipts: list[LivingReceipt]  # by id
    order_by_id: dict[int, LivingOrder]
    receipt_by_id: dict[int, LivingReceipt]
    done: int  # every timeline of the day is complete from this epoch on


def _build_day(day: date) -> LivingDay:
    order_ids, receipt_ids = _ids(day)
    orders: list[LivingOrder] = []
    receipts: list[LivingReceipt] = []
    for venue in VENUE_IDS:
        plan = _plan(day, venue)
        by_seq = {}
        for planned in plan.orders:
            order = LivingOrder(order_ids[(venue, planned.seq)], venue, planned)
            orders.append(order)
            by_seq[planned.seq] = order
        for planned in plan.receipts:
            order = None if planned.order_seq is None else by_seq[planned.order_seq]
            receipt = LivingReceipt(receipt_ids[(venue, planned.key)], venue, planned, order)
            receipts.append(receipt)
            if order is not None:
                order.receipt = receipt
    orders.sort(key=lambda o: o.id)
    receipts.sort(key=lambda r: r.id)
    done = max([o.done for o in orders] + [r.closed or r.opened for r in receipts])
    return LivingDay(day, orders, receipts, {o.id: o for o in orders}, {r.id: r for r in receipts}, done)


_CACHE: OrderedDict[date, LivingDay] = OrderedDict()
_CACHE_LOCK = threading.Lock()
MAX_CACHED_DAYS = 400


def living_day(day: date) -> LivingDay:
    """The (cached) living data of one Baku calendar day, whatever the clock says."""
    with _CACHE_LOCK:
        cached = _CACHE.get(day)
        if cached is not None:
            _CACHE.move_to_end(day)
            return cached
        built = _build_day(day)
        _CACHE[day] = built
        while len(_CACHE) > MAX_CACHED_DAYS:
            _CACHE.popitem(last=False)
        return built


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def visible_days(now: datetime, first: date | None = None, last: date | None = None) -> list[date]:
    """Days of the window at ``now`` that intersect [first, last] (either may be None)."""
    low, high = window(now)
    if first is not None and first > low:
        low = first
    if last is not None and last < high:
        high = last
    return days_between(low, high) if low <= high else []


def find_order(order_id: int, now: datetime) -> LivingOrder | None:
    """The living order with that id, if it exists at ``now`` (inside the window and already created)."""
    day = order_day(order_id)
    low, high = window(now)
    if day is None or not low <= day <= high:
        return None
    record = living_day(day).order_by_id.get(order_id)
    return record if record is not None and record.created <= now.timestamp() else None


def find_receipt(receipt_id: int, now: datetime) -> LivingReceipt | None:
    """The living receipt with that id, if it exists at ``now`` (inside the window and already opened)."""
    day = receipt_day(receipt_id)
    low, high = window(now)
    if day is None or not low <= day <= high:
        return None
    record = living_day(day).receipt_by_id.get(receipt_id)
    return record if record is not None and record.opened <= now.timestamp() else None


def sample_ids(day: date) -> dict[str, Any]:
    """Ids of one day to open, by final status (as at the end of the day), venue and kind."""
    living = living_day(day)
    by_status: dict[str, list[int]] = {s: [] for s in STATUSES}
    for order in living.orders:
        by_status[order.final_status].append(order.id)
    pos = [r for r in living.receipts if r.order is None]
    return {
        **by_status,
        "by_venue": {v: [o.id for o in living.orders if o.venue_id == v] for v in VENUE_IDS},
        "boundary_orders": boundary_orders(day),
        "boundary_receipts": boundary_receipts(day),
        "overdue": overdue_orders(day),
        "order_receipts": [r.id for r in living.receipts if r.order is not None],
        "pos_receipts": {
            "open": [r.id for r in pos if r.closed is None],
            "closed": [r.id for r in pos if r.closed is not None],
        },
        "split_payment": [r.id for r in living.receipts if r.closed and len(r.payment.method_ids) > 1],
        "customers": sorted({o.customer_id for o in living.orders}),
    }
