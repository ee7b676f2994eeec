"""Deterministic dataset served by the Clopos sandbox.

Everything here is built at import time from the bundled fixtures plus a seeded
``random.Random``; nothing depends on the wall clock, so two imports (or two CI
runs) produce byte-identical JSON. The app's tests may import this module
directly to pick ids without starting a server.
"""

from __future__ import annotations

import base64
import json
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

FIXTURES_DIR = Path(__file__).resolve().parent / "fixtures"
BAKU = timezone(timedelta(hours=4))
SEED = 20260314
STATUSES = ("PENDING", "RECEIVED", "DELIVERED", "IGNORE")
VENUE_IDS = (1, 3, 7)
HOSTILE_ORDER_ID = 4666
HOSTILE_RECEIPT_ID = 34666
HOSTILE_PRODUCT_ID = 1666
FIRST_GENERATED_ORDER = 5001
LAST_GENERATED_ORDER = 5240
FIRST_GENERATED_RECEIPT = 30001

_CENT = Decimal("0.01")
# uuid5 namespace so receipt/line cids are stable without consuming the RNG.
_NS = uuid.UUID("6f1c2b0e-5d4a-4e0f-9a77-20260314c10b")


def load_fixture(name: str) -> Any:
    """Return the parsed JSON of one bundled fixture file."""
    return json.loads((FIXTURES_DIR / name).read_text(encoding="utf-8"))


def money(value: Decimal) -> int | float:
    """Emit a 2-decimal amount the way the fixtures do (18.5, 3, 29.97)."""
    q = value.quantize(_CENT, rounding=ROUND_HALF_UP)
    return int(q) if q == q.to_integral_value() else float(q)


def _dec(value: int | float | str) -> Decimal:
    return Decimal(str(value))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _baku(moment: datetime) -> str:
    return moment.astimezone(BAKU).strftime("%Y-%m-%d %H:%M:%S")


# --------------------------------------------------------------------------- catalogue

# group id -> (name, min_select, max_select, [(modificator id, name, price)])
_GROUPS: dict[int, tuple[str, int, int, list[tuple[int, str, str]]]] = {
    41: ("Plov əlavələri", 0, 2, [(3101, "Əlavə ət", "4"), (3102, "Əlavə qazmaq", "1.5"), (3103, "Şabalıd", "2")]),
    42: (
        "Kabab əlavələri",
        0,
        3,
        [(3201, "Sumaxlı soğan", "0.5"), (3202, "Əlavə lavaş", "0.8"), (3203, "Acı bibər", "0")],
    ),
    43: ("Qutab sousu", 0, 2, [(3301, "Nar turşusu sousu", "0.7"), (3302, "Sumaq", "0"), (3303, "Qatıq", "0.5")]),
    44: ("Bişmə dərəcəsi", 1, 1, [(3401, "Az bişmiş", "0"), (3402, "Orta bişmiş", "0"), (3403, "Yaxşı bişmiş", "0")]),
    45: ("Sous", 0, 2, [(3501, "Qatıq", "1"), (3502, "Sarımsaqlı qatıq", "1.2"), (3503, "Sirkə", "0")]),
    46: ("Çay əlavələri", 0, 3, [(3601, "Limon", "0.5"), (3602, "Kəklikotu", "0.3"), (3603, "Nabat", "0.4")]),
}

# id -> (name, type, category_id, station_id, price, modifier group ids). The ids and
# attributes of fixture products (1205, 1311, 1402, 1408, 1520, 1521, 1601, 1702,
# 1810, 1901) match what the fixture orders and receipts show.
_MENU: dict[int, tuple[str, str, int, int | None, str, tuple[int, ...]]] = {
    1205: ("Şah plov", "DISH", 5, 2, "18.5", (41,)),
    1206: ("Toyuq plov", "DISH", 5, 2, "12", (41,)),
    1311: ("Dövğa", "DISH", 7, 2, "4", ()),
    1312: ("Mərci şorbası", "DISH", 7, 2, "4.5", ()),
    1313: ("Düşbərə", "DISH", 7, 2, "6", (45,)),
    1401: ("Lülə kabab (toyuq)", "DISH", 3, 3, "7", (42,)),
    1402: ("Lülə kabab (quzu)", "DISH", 3, 3, "9", (42,)),
    1408: ("Tikə kabab (quzu)", "DISH", 3, 3, "12", (42,)),
    1409: ("Tikə kabab (toyuq)", "DISH", 3, 3, "8.5", (42,)),
    1410: ("Antrikot", "DISH", 3, 3, "16", (44,)),
    1520: ("Ət qutabı", "DISH", 4, 1, "2.2", (43,)),
    1521: ("Göyərti qutabı", "DISH", 4, 1, "1.8", (43,)),
    1522: ("Balqabaq qutabı", "DISH", 4, 1, "1.9", (43,)),
    1530: ("Kətə", "DISH", 4, 1, "3", ()),
    1601: ("Piti", "DISH", 5, 2, "11.5", ()),
    1602: ("Yarpaq dolması", "DISH", 5, 2, "9", (45,)),
    1603: ("Xəngəl", "DISH", 5, 2, "8", (45,)),
    1604: ("Balıq ləvəngisi", "DISH", 5, 2, "22", ()),
    1650: ("Çoban salatı", "DISH", 9, 1, "5", ()),
    1702: ("Ayran 0.3 L", "GOODS", 6, None, "2", ()),
    1703: ("Albalı kompotu", "GOODS", 6, None, "3", ()),
    1704: ("Tərxun limonadı", "GOODS", 6, None, "4", ()),
    1705: ("Mineral su 0.5 L", "GOODS", 6, None, "1.5", ()),
    1810: ("Çay dəsti (mürəbbə ilə)", "GOODS", 6, None, "7", ()),
    1811: ("Armudu stəkanda çay", "GOODS", 6, None, "1.5", (46,)),
    1901: ("Paxlava (2 ədəd)", "GOODS", 8, None, "3.5", ()),
    1902: ("Şəkərbura", "GOODS", 8, None, "2.5", ()),
    1903: ("Qoğal", "GOODS", 8, None, "1.5", ()),
    # Only used by the hostile order: the app must HTML-escape product names.
    HOSTILE_PRODUCT_ID: ('Dolma "quotes" & <b>tags</b>', "DISH", 5, 2, "10", ()),
}
_GENERATED_MENU = [pid for pid in _MENU if pid != HOSTILE_PRODUCT_ID]
_BASE_PRICES = {pid: _dec(item[4]) for pid, item in _MENU.items()}

# modificator id -> (name, price, group id)
MODIFIERS: dict[int, tuple[str, Decimal, int]] = {
    mid: (name, _dec(price), gid) for gid, (_, _, _, mods) in _GROUPS.items() for mid, name, price in mods
}


def _cost(price: Decimal) -> Decimal:
    # The fixtures' cost_price is 35 % of the sale price, rounded half-up.
    return (price * Decimal("0.35")).quantize(_CENT, rounding=ROUND_HALF_UP)


def _build_products() -> dict[int, dict[str, Any]]:
    template = load_fixture("product_1402_get_by_id_with_modificator_groups.json")["data"]
    products: dict[int, dict[str, Any]] = {}
    for pid, (name, kind, category, station, price, groups) in _MENU.items():
        if pid == 1402:
            products[pid] = template  # served exactly as the fixture
            continue
        product = dict(template)
        product.update(
            id=pid,
            station_id=station,
            category_id=category,
            type=kind,
            name=name,
            full_name=name,
            price=money(_dec(price)),
            cost_price=money(_cost(_dec(price))),
            cooking_time=15 if kind == "DISH" else 0,
            venues=[],
            media=[],
            modificator_groups=[
                {
                    "id": gid,
                    "name": _GROUPS[gid][0],
                    "type": 0,
                    "min_select": _GROUPS[gid][1],
                    "max_select": _GROUPS[gid][2],
                    "modificators": [
                        {
                            "id": mid,
                            "name": mname,
                            "price": money(_dec(mprice)),
                            "cost_price": 0,
                            "max_count": 2,
                            "status": True,
                            "ingredient": None,
                        }
                        for mid, mname, mprice in _GROUPS[gid][3]
                    ],
                }
                for gid in groups
            ],
        )
        products[pid] = product
    return products


# --------------------------------------------------------------------------- people

# fmt: off
_FIRST = ["Leyla", "Tural", "Nigar", "Rauf", "Elvin", "Səbinə", "Orxan", "Günay", "Kamran", "Aytən", "Fərid",
          "Lalə", "Ramil", "Könül", "Murad", "Sevinc"]
_LAST = ["Məmmədov", "Həsənov", "Əliyev", "Kərimov", "Quliyev", "Rzayev", "İsmayılov", "Hüseynov", "Abbasov",
         "Babayev", "Cəfərov", "Nağıyev"]
_FEMALE = {"Leyla", "Nigar", "Səbinə", "Günay", "Aytən", "Lalə", "Könül", "Sevinc"}
_STREETS = ["Nərimanov r., Təbriz küç.", "Yasamal r., Şərifzadə küç.", "Nəsimi r., Füzuli küç.", "Xətai r., Babək pr.",
            "Səbail r., Neftçilər pr.", "Binəqədi r., Ələsgər Qayıbov küç.", "Nərimanov r., Fətəli Xan Xoyski pr."]
_COMMENTS = [None, None, "", "Zəhmət olmasa tez gətirin", "Soğansız olsun", "Qapıda zəng etməyin, uşaq yatır",
             "Acı olmasın", "Çəngəl-bıçaq lazım deyil", "Nağd ödəniş, 50 AZN-dən qalıq hazırlayın"]
# fmt: on
# venue id -> (user id, user name, terminal id)
_STAFF = {1: (8, "Rəşad Məmmədov", 1), 3: (14, "Aysel Quliyeva", 2), 7: (21, "Günel Abbasova", 5)}
_SALE_TYPE_NAMES = {1: "Yerində", 2: "Çatdırılma", 3: "Özü aparır"}


def _customers(rng: random.Random) -> list[dict[str, Any]]:
    people = []
    for n, cid in enumerate(sorted(rng.sample(range(700, 1000), 40))):
        first = rng.choice(_FIRST)
        last = rng.choice(_LAST) + ("a" if first in _FEMALE else "")
        people.append(
            {
                "id": cid,
                "phone": f"+99450{rng.randrange(10**7):07d}",
                "address": f"Bakı, {_STREETS[n % len(_STREETS)]} {rng.randint(1, 120)}, m. {rng.randint(1, 90)}",
                "customer_discount_type": 0,
                "name": f"{first} {last}",
            }
        )
    return people


# --------------------------------------------------------------------------- orders & receipts


@dataclass
class _Line:
    product_id: int
    count: int
    mods: list[tuple[int, int]] = field(default_factory=list)  # (modificator id, count)
    quirk: bool = False  # meta.order_product.product == []

    def unit(self) -> Decimal:
        base = _BASE_PRICES[self.product_id]
        if not self.mods:
            return base
        return base + sum((MODIFIERS[mid][1] * c for mid, c in self.mods), Decimal(0))

    def subtotal(self) -> Decimal:
        return self.unit() * self.count


@dataclass
class _Money:
    subtotal: Decimal
    discount: Decimal
    line_discounts: list[Decimal]
    service_charge: Decimal
    delivery_fee: Decimal

    @property
    def total(self) -> Decimal:
        return self.subtotal - self.discount + self.service_charge + self.delivery_fee


def _price(lines: list[_Line], discount_type: int, discount_value: Decimal, sc_pct: int, fee: Decimal) -> _Money:
    subtotals = [line.subtotal() for line in lines]
    subtotal = sum(subtotals, Decimal(0))
    if discount_type == 1:
        discount = (subtotal * discount_value / 100).quantize(_CENT, rounding=ROUND_HALF_UP)
    elif discount_type == 2:
        discount = min(discount_value, subtotal)
    else:
        discount = Decimal(0)
    # Pro-rata allocation with the last line absorbing rounding, as in receipt 20855.
    shares: list[Decimal] = []
    for sub in subtotals[:-1]:
        shares.append((discount * sub / subtotal).quantize(_CENT, rounding=ROUND_HALF_UP) if subtotal else Decimal(0))
    shares.append(discount - sum(shares, Decimal(0)))
    charge = ((subtotal - discount) * sc_pct / 100).quantize(_CENT, rounding=ROUND_HALF_UP)
    return _Money(subtotal, discount, shares, charge, fee)


def _product_hash(line: _Line) -> str:
    if not line.mods:
        return str(line.product_id)
    raw = ",".join(f"{line.product_id}{c}{mid}" for mid, c in line.mods)
    return base64.b64encode(raw.encode()).decode()


def _payload_line(line: _Line) -> dict[str, Any]:
    name, _, _, _, price, _ = _MENU[line.product_id]
    mods = [{"modificator_id": mid, "count": c} for mid, c in line.mods]
    snapshot: dict[str, Any] | list[Any] = (
        [] if line.quirk else {"id": line.product_id, "name": name, "price": money(_dec(price))}
    )
    return {
        "product_id": line.product_id,
        "count": line.count,
        "product_modificators": mods,
        "meta": {
            "price": money(_dec(price)),
            "order_product": {
                "product": snapshot,
                "count": line.count,
                "status": "completed",
                "product_modificators": [dict(m) for m in mods],
                "product_hash": _product_hash(line),
            },
        },
    }


@dataclass
class _OrderSpec:
    order_id: int
    venue_id: int
    status: str
    sale_type_id: int
    created: datetime
    received: datetime | None
    closed: datetime | None
    updated: datetime
    customer: dict[str, Any]
    lines: list[_Line]
    discount_type: int = 0
    discount_value: Decimal = Decimal(0)
    sc_pct: int = 0
    delivery_fee: Decimal = Decimal(0)
    comment: str | None = None
    externals: tuple[str | None, str | None, str | None] = (None, None, None)
    integration_response: dict[str, Any] | None = None
    auto_accept: bool = False
    auto_station: bool = False


def _order(spec: _OrderSpec, amounts: _Money) -> dict[str, Any]:
    received = spec.status in ("RECEIVED", "DELIVERED")
    staff = _STAFF[spec.venue_id]
    customer = dict(spec.customer)
    customer["customer_discount_type"] = 1 if spec.discount_type == 1 else 0
    if spec.sale_type_id != 2:
        customer["address"] = None
    return {
        "id": spec.order_id,
        "venue_id": spec.venue_id,
        "type": "CALL_CENTER_ORDER",
        "integration": "call_center_new",
        "integration_uuid": spec.externals[0],
        "integration_id": spec.externals[1],
        "customer_ref_id": spec.externals[2],
        "integration_status": "CREATED",
        "status": spec.status,
        "receive_user_id": staff[0] if received else None,
        "receive_terminal_id": staff[2] if received else None,
        "payload": {
            "auto_order_accept": spec.auto_accept,
            "auto_order_sent_to_station": spec.auto_station,
            "delivery_fee": money(spec.delivery_fee),
            "service": {"sale_type_id": spec.sale_type_id, "venue_id": spec.venue_id},
            "customer": customer,
            "products": [_payload_line(line) for line in spec.lines],
            "meta": {
                "comment": spec.comment,
                "discount": {"discount_type": spec.discount_type, "discount_value": money(spec.discount_value)},
                "orderTotal": f"{amounts.total:.4f}",
                "apply_service_charge": spec.sc_pct > 0,
                "customer_discount_type": customer["customer_discount_type"],
                "service_charge_value": spec.sc_pct,
            },
        },
        "integration_response": spec.integration_response,
        "created_at": _iso(spec.created),
        "updated_at": _iso(spec.updated),
    }


def _receipt_lines(
    spec: _OrderSpec, amounts: _Money, receipt_id: int, user_id: int, opened: str, updated: str
) -> list[dict[str, Any]]:
    """The ``receipt_products`` of one receipt (uses no randomness, so it can be built lazily)."""
    lines = []
    for n, (line, share) in enumerate(zip(spec.lines, amounts.line_discounts, strict=True), start=1):
        name, kind, category, station, price, _ = _MENU[line.product_id]
        line_id = receipt_id * 10 + n
        lines.append(
            {
                "id": line_id,
                "cid": str(uuid.uuid5(_NS, f"receipt-product-{line_id}")),
                "product_id": line.product_id,
                "receipt_id": receipt_id,
                "product_hash": _product_hash(line),
                "meta": {},
                "count": line.count,
                "portion_size": 1,
                "price": money(_dec(price)),
                "cost": money(_cost(_dec(price))),
                "total": money(line.subtotal() - share),
                "subtotal": money(line.subtotal()),
                "is_gift": False,
                "preprint_count": 0,
                "station_printed_count": 1 if kind == "DISH" else 0,
                "station_aborted_count": 0,
                "seller_id": user_id,
                "loyalty_type": None,
                "loyalty_value": None,
                "discount_type": None,
                "discount_value": 0,
                "discount_rate": 0,
                "total_discount": 0,
                "receipt_discount": money(share),
                "receipt_product_modificators": [],
                "taxes": [],
                "created_at": opened,
                "updated_at": updated,
                "terminal_updated_at": updated,
                "deleted_at": None,
                "product": {
                    "id": line.product_id,
                    "type": kind,
                    "name": name,
                    "full_name": name,
                    "price": money(_dec(price)),
                    "category_id": category,
                    "station_id": station,
                    "unit_id": 1,
                },
                "modificators": [
                    {
                        "id": line_id * 10 + k,
                        "receipt_product_id": line_id,
                        "modificator_id": mid,
                        "name": MODIFIERS[mid][0],
                        "count": c,
                        "price": money(MODIFIERS[mid][1]),
                        "modificator_group_id": MODIFIERS[mid][2],
                    }
                    for k, (mid, c) in enumerate(line.mods, start=1)
                ],
            }
        )
    return lines


def _receipt(
    rng: random.Random,
    spec: _OrderSpec,
    amounts: _Money,
    receipt_id: int,
    ids: tuple[int, int],
    order_status: str,
    description: str | None = None,
    *,
    with_lines: bool = True,
) -> dict[str, Any]:
    assert spec.received is not None
    user_id, user_name, terminal = _STAFF[spec.venue_id]
    closed = spec.closed is not None
    opened = _baku(spec.received)
    updated = _baku(spec.closed or spec.received)
    dine_in = spec.sale_type_id == 1
    total = amounts.total

    payments: list[dict[str, Any]] = []
    by_cash = by_card = Decimal(0)
    if closed:
        how = rng.choice(["card", "card", "cash", "split"]) if total >= 2 else "card"
        if how == "split":
            by_card = Decimal(rng.randint(1, int(total) - 1))
            by_cash = total - by_card
        elif how == "cash":
            by_cash = total
        else:
            by_card = total
        if by_card:
            payments.append({"id": 2, "name": "Kart", "amount": money(by_card)})
        if by_cash:
            payments.append({"id": 1, "name": "Nağd", "amount": money(by_cash)})

    lines = _receipt_lines(spec, amounts, receipt_id, user_id, opened, updated) if with_lines else []

    meta: dict[str, Any] = {
        "preprint_count": 1 if closed else 0,
        "sale_type": {"name": _SALE_TYPE_NAMES[spec.sale_type_id]},
        "user": {"name": user_name},
        "terminal_updated_at": int((spec.closed or spec.received).timestamp() * 1000) + rng.randrange(1000),
        "availiableDeposit": 0,
    }
    if closed:
        meta["check_close_event"] = {"checked": True, "operated_at": updated, "fails": []}
    subtotal = amounts.subtotal
    if spec.discount_type == 1:
        rate = spec.discount_value
    elif amounts.discount and subtotal:
        rate = amounts.discount * 100 / subtotal
    else:
        rate = Decimal(0)
    shift_date = spec.received.astimezone(BAKU).date().isoformat()
    return {
        "id": receipt_id,
        "venue_id": spec.venue_id,
        "cash_shift_cid": str(uuid.uuid5(_NS, f"shift-{spec.venue_id}-{shift_date}")),
        "cid": str(uuid.uuid5(_NS, f"receipt-{receipt_id}")),
        "user_id": user_id,
        "open_by_user_id": user_id,
        "close_by_user_id": user_id if closed else None,
        "courier_id": rng.choice([31, 32, 35]) if closed and spec.sale_type_id == 2 else None,
        "seller_id": user_id,
        "terminal_id": terminal,
        "source": "web",
        "closed_terminal_id": terminal if closed else None,
        "service_notification_id": spec.order_id,
        "table_id": rng.randint(1, 24) if dine_in else None,
        "hall_id": rng.randint(1, 3) if dine_in else None,
        "customer_id": spec.customer["id"],
        "sale_type_id": spec.sale_type_id,
        "is_returns": False,
        "guests": rng.randint(1, 6) if dine_in else 1,
        "status": 2 if closed else 1,
        "lock": False,
        "inventory_status": 0,
        "report_status": 3 if closed else 0,
        "meta": meta,
        "suspicion": 0,
        "printed": closed or rng.random() < 0.5,
        "total": money(total),
        "subtotal": money(subtotal),
        "original_subtotal": money(subtotal),
        "gift_total": 0,
        "totalCost": money(sum((_cost(_dec(_MENU[ln.product_id][4])) * ln.count for ln in spec.lines), Decimal(0))),
        "payment_methods": payments,
        "fiscal_id": "".join(rng.choices("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789", k=13))
        if closed
        else None,
        "by_cash": money(by_cash),
        "by_card": money(by_card),
        "remaining": 0 if closed else money(total),
        "discount_type": spec.discount_type,
        "discount_value": money(spec.discount_value),
        "discount_rate": money(rate),
        "rps_discount": 0,
        "service_charge": spec.sc_pct,
        "service_charge_value": money(amounts.service_charge),
        "i_tax": 0,
        "delivery_fee": money(amounts.delivery_fee),
        "e_tax": 0,
        "total_tax": 0,
        "description": description,
        "address": spec.customer["address"] if spec.sale_type_id == 2 else None,
        "terminal_version": "3.41.2",
        "loyalty_type": None,
        "loyalty_value": None,
        "order_status": order_status,
        "order_number": None,
        "created_at": opened,
        "updated_at": updated,
        "terminal_updated_at": updated,
        "closed_at": _baku(spec.closed) if spec.closed else None,
        "shift_date": shift_date,
        "deleted_at": None,
        "gift_count": 0,
        "total_discount": money(amounts.discount),
        "properties": {"daily_id": ids[0], "monthly_id": ids[1]},
        "receipt_products": lines,
    }


def _random_lines(rng: random.Random) -> list[_Line]:
    lines = []
    for pid in rng.sample(_GENERATED_MENU, rng.randint(1, 5)):
        mods: list[tuple[int, int]] = []
        for gid in _MENU[pid][5]:
            _, lo, hi, choices = _GROUPS[gid]
            if lo or rng.random() < 0.45:
                picked = rng.sample(choices, rng.randint(max(lo, 1), min(hi, 2)))
                # A double portion only makes sense for optional extras, not e.g. a doneness choice.
                mods += [(mid, 2 if not lo and rng.random() < 0.15 else 1) for mid, _, _ in picked]
        lines.append(_Line(pid, rng.choice([1, 1, 1, 2, 2, 3]), mods, quirk=rng.random() < 1 / 15))
    return lines


def _integration(rng: random.Random, status: str) -> tuple[tuple[str | None, str | None, str | None], Any]:
    roll = rng.random()
    ref = "".join(rng.choices("0123456789abcdef", k=24))
    if roll < 0.15:
        ext_uuid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        ext_id = str(rng.randint(500000, 599999))
        response = None
        if rng.random() < 0.5:
            response = {
                "provider": rng.choice(["wolt", "bolt_food"]),
                "external_status": {"PENDING": "created", "IGNORE": "rejected", "DELIVERED": "delivered"}.get(
                    status, "accepted"
                ),
                "payload": {"external_order_id": ext_id, "courier_eta_minutes": rng.randint(10, 45)},
            }
        return (ext_uuid, ext_id, ref), response
    if roll < 0.25:
        return (None, None, ref), None
    return (None, None, None), None


def _build() -> tuple[dict[int, dict[str, Any]], dict[int, dict[str, Any]]]:
    rng = random.Random(SEED)
    orders: dict[int, dict[str, Any]] = {}
    receipts: dict[int, dict[str, Any]] = {}

    for name in sorted(p.name for p in FIXTURES_DIR.glob("order_41*.json")):
        order = load_fixture(name)["data"]
        order.pop("receipt", None)  # the link lives on the receipt (service_notification_id)
        orders[order["id"]] = order
    for name in sorted(p.name for p in FIXTURES_DIR.glob("receipt_*.json")):
        receipt = load_fixture(name)["data"]
        receipts[receipt["id"]] = receipt

    people = _customers(rng)
    moments = sorted(
        datetime(2026, 3, 1, tzinfo=UTC) + timedelta(days=rng.randrange(14), seconds=rng.randrange(6 * 3600, 70200))
        for _ in range(FIRST_GENERATED_ORDER, LAST_GENERATED_ORDER + 1)
    )
    daily: dict[tuple[int, str], int] = {}
    monthly: dict[int, int] = {}
    next_receipt = FIRST_GENERATED_RECEIPT

    def numbers(venue: int, moment: datetime) -> tuple[int, int]:
        day = moment.astimezone(BAKU).date().isoformat()
        daily[(venue, day)] = daily.get((venue, day), 10) + 1
        monthly[venue] = monthly.get(venue, 600) + 1
        return daily[(venue, day)], monthly[venue]

    for i, created in enumerate(moments):
        order_id = FIRST_GENERATED_ORDER + i
        status = STATUSES[i % 4]
        sale_type = (1, 2, 3)[i % 3]
        venue = VENUE_IDS[(i // 12) % 3]  # every venue gets every status x sale-type combination
        received = closed = None
        if status == "IGNORE":
            updated = created + timedelta(seconds=rng.randint(120, 600))
        elif status == "PENDING":
            updated = created
        else:
            received = updated = created + timedelta(seconds=rng.randint(60, 300))
            if status == "DELIVERED":
                closed = updated = received + timedelta(seconds=rng.randint(1500, 5400))
        lines = _random_lines(rng)
        subtotal = sum((line.subtotal() for line in lines), Decimal(0))
        roll = rng.random()
        discount_type, discount_value = 0, Decimal(0)
        if roll < 0.2:
            discount_type, discount_value = 1, Decimal(rng.choice([5, 10, 15, 20]))
        elif roll < 0.32:
            value = Decimal(rng.choice([1, 2, 3, 5]))
            if value < subtotal:
                discount_type, discount_value = 2, value
        externals, response = _integration(rng, status)
        spec = _OrderSpec(
            order_id=order_id,
            venue_id=venue,
            status=status,
            sale_type_id=sale_type,
            created=created,
            received=received,
            closed=closed,
            updated=updated,
            customer=rng.choice(people),
            lines=lines,
            discount_type=discount_type,
            discount_value=discount_value,
            sc_pct=10 if sale_type == 1 and rng.random() < 0.5 else 0,
            delivery_fee=Decimal(rng.choice([2, 3, 3, 4, 5])) if sale_type == 2 else Decimal(0),
            comment=rng.choice(_COMMENTS),
            externals=externals,
            integration_response=response,
            auto_accept=rng.random() < 0.3,
            auto_station=rng.random() < 0.2,
        )
        amounts = _price(lines, spec.discount_type, spec.discount_value, spec.sc_pct, spec.delivery_fee)
        orders[order_id] = _order(spec, amounts)
        if received is not None:
            if closed is not None:
                order_status = "PICKED_UP" if sale_type == 3 else "COMPLETED"
            else:
                order_status = rng.choice(["NEW", "IN_PROGRESS", "READY"])
            receipts[next_receipt] = _receipt(rng, spec, amounts, next_receipt, numbers(venue, received), order_status)
            next_receipt += 1

    # The hostile order: markup in every free-text field the app is likely to render.
    created = datetime(2026, 3, 14, 17, 30, tzinfo=UTC)
    hostile = _OrderSpec(
        order_id=HOSTILE_ORDER_ID,
        venue_id=3,
        status="RECEIVED",
        sale_type_id=2,
        created=created,
        received=created + timedelta(minutes=3),
        closed=None,
        updated=created + timedelta(minutes=3),
        customer={
            "id": 666,
            "phone": "+994506660666",
            "address": "Bakı, \"Nizami\" küç. 6 & <i>Fəvvarələr</i>, 'A' blok",
            "customer_discount_type": 0,
            "name": '<script>alert("x")</script>Eli',
        },
        lines=[_Line(HOSTILE_PRODUCT_ID, 1), _Line(1402, 2, [(3201, 1)])],
        delivery_fee=Decimal(3),
        comment="<img src=x onerror=alert(1)>",
    )
    amounts = _price(hostile.lines, 0, Decimal(0), 0, hostile.delivery_fee)
    orders[HOSTILE_ORDER_ID] = _order(hostile, amounts)
    receipts[HOSTILE_RECEIPT_ID] = _receipt(
        rng, hostile, amounts, HOSTILE_RECEIPT_ID, (66, 666), "NEW", description=hostile.comment
    )
    return dict(sorted(orders.items())), dict(sorted(receipts.items()))


def _venues() -> list[dict[str, Any]]:
    venues = load_fixture("venues_list.json")["data"]
    venues.append(
        {
            "id": 7,
            "name": "Köhnə Şəhər — Gənclik",
            "address": "Bakı, Nərimanov r., Fətəli Xan Xoyski pr. 111",
            "status": 1,
            "phone": "+994125110077",
            "email": "genclik@example.az",
        }
    )
    return venues


def _sale_types() -> list[dict[str, Any]]:
    types = load_fixture("sale_types_list.json")["data"]
    for sale_type in types:
        sale_type["status"]["7"] = 1
    return types


def payment_methods() -> list[dict[str, Any]]:
    """``GET payment-methods``: the shape of API.md §7.3 (SDK and PHP port); receipts name 1 and 2."""
    stamp = "2025-01-10T09:00:00.000000Z"
    return [
        {
            "id": method_id,
            "name": name,
            "customer_required": 0,
            "is_system": 1,
            "balance_id": None,
            "balance": None,
            "service": None,
            "split": 1,
            "status": {"1": 1, "3": 1, "7": 1},
            "created_at": stamp,
            "updated_at": stamp,
            "deleted_at": None,
        }
        for method_id, name in ((1, "Nağd"), (2, "Kart"))
    ]


def receipt_ref(receipts: dict[int, dict[str, Any]], order_id: int) -> dict[str, Any] | None:
    """The ``with[0]=receipt:...`` projection for an order, or None when it has no receipt."""
    for receipt in receipts.values():
        if receipt.get("service_notification_id") == order_id:
            return {"id": receipt["id"], "service_notification_id": order_id, "status": receipt["status"]}
    return None


def line_uses_quirk(line: dict[str, Any]) -> bool:
    return line.get("meta", {}).get("order_product", {}).get("product") == []


PRODUCTS: dict[int, dict[str, Any]] = _build_products()
ORDERS, RECEIPTS = _build()
VENUES: list[dict[str, Any]] = _venues()
SALE_TYPES: list[dict[str, Any]] = _sale_types()
RECEIPT_BY_ORDER: dict[int, int] = {r["service_notification_id"]: rid for rid, r in RECEIPTS.items()}


def sample_ids() -> dict[str, Any]:
    """Ids a test or a demo user can open, grouped by what they exercise."""
    by_status: dict[str, list[int]] = {s: [] for s in STATUSES}
    by_venue: dict[int, list[int]] = {v: [] for v in VENUE_IDS}
    for oid, order in ORDERS.items():
        by_status[order["status"]].append(oid)
        by_venue[order["venue_id"]].append(oid)
    closed = [rid for rid, r in RECEIPTS.items() if r["status"] == 2]
    return {
        **by_status,
        "by_venue": by_venue,
        "no_receipt": [oid for oid in ORDERS if oid not in RECEIPT_BY_ORDER],
        "hostile": HOSTILE_ORDER_ID,
        "hostile_receipt": HOSTILE_RECEIPT_ID,
        "product_quirk": [oid for oid, o in ORDERS.items() if any(map(line_uses_quirk, o["payload"]["products"]))],
        "service_charge": [oid for oid, o in ORDERS.items() if o["payload"]["meta"]["apply_service_charge"]],
        "external_ids": [oid for oid, o in ORDERS.items() if o["integration_uuid"]],
        "integration_response": [oid for oid, o in ORDERS.items() if o["integration_response"]],
        "split_payment": [r["service_notification_id"] for r in RECEIPTS.values() if len(r["payment_methods"]) > 1],
        "receipts": {"open": [rid for rid in RECEIPTS if rid not in closed], "closed": closed},
        "products": list(PRODUCTS),
        "missing_order": 999999,
    }


# --------------------------------------------------------------------------- living dataset
# The dataset relative to the clock lives in sandbox.living; these are shortcuts for tests.


def boundary_orders(day: date) -> dict[str, int]:
    """Venue 3's boundary orders of ``day`` by Baku creation time: "00:00", "00:01", "03:59", "04:00",
    "04:01", "05:59", "06:00", "06:01" and "23:59" (03:59-04:01 Baku are 23:59-00:01 UTC)."""
    from sandbox import living

    return living.boundary_orders(day)


def boundary_receipts(day: date) -> dict[str, int]:
    """Venue 3's order-less dine-in receipts of ``day`` opened at "02:00", "05:59", "06:00", "06:01" Baku."""
    from sandbox import living

    return living.boundary_receipts(day)


def living_sample_ids(day: date) -> dict[str, Any]:
    """Ids of one living day (orders by final status and venue, receipts by kind, customers)."""
    from sandbox import living

    return living.sample_ids(day)


def business_day(moment: datetime, cutoff_hour: int = 6) -> date:
    """The Baku business day of an aware moment, e.g. 02:00 on the 28th belongs to the 27th."""
    from sandbox import living

    return living.business_day(moment, cutoff_hour)
