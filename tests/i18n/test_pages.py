"""Whole pages in az, ru and en through the Django test client (Clopos mocked): no English left
on the az and ru pages, money and dates in the language's form, Clopos' data marked `lang="az"`.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from staff.models import StaffProfile
from tests.conftest import UNKNOWN_ORDER, api_url, load_payload
from tests.i18n.english import english_left, english_phrases, page_text
from tests.orders.test_order_list import list_body

pytestmark = pytest.mark.django_db

NBSP = "\xa0"
DATA = 'lang="az"'


def in_language(users, username: str, language: str) -> Client:
    StaffProfile.objects.filter(user=users[username]).update(language=language)
    client = Client()
    client.force_login(users[username])
    return client


def html_lang(markup: str) -> str:
    return re.search(r'<html lang="([^"]+)"', markup).group(1)


def test_the_english_phrases_are_the_catalogues_msgids():
    phrases = english_phrases()
    assert "Refresh from Clopos" in phrases and "Back to order lookup" in phrases
    assert len(phrases) > 150


def receipt_page(client: Client, order_id: int) -> str:
    return client.get(f"/orders/{order_id}/receipt/").content.decode()


@pytest.mark.parametrize(
    ("language", "strings"),
    [
        ("az", ["Sifariş 4103", "Müştəri", "Məhsullar", "Çatdırılıb", "Clopos-dan yenilə", f"3,00{NBSP}₼"]),
        ("ru", ["Заказ 4103", "Клиент", "Позиции", "Доставлен", "Обновить из Clopos", f"3,00{NBSP}₼"]),
    ],
)
def test_the_order_page_has_no_english_left(api, users, language, strings):
    client = in_language(users, "manager", language)

    page = client.get("/orders/4103/").content.decode()
    receipt = receipt_page(client, 4103)

    assert html_lang(page) == html_lang(receipt) == language
    for text in strings:
        assert text in page
    assert english_left(page) == []
    assert english_left(receipt) == []
    assert f"38,20{NBSP}₼" in receipt  # the receipt total, with payments in the language's form
    assert re.search(r"27 (noyabr|ноября) 2026|\d+ (mart|марта) 2026", page_text(page) + page_text(receipt))


def test_the_order_page_in_english_is_unchanged(api, users):
    page = in_language(users, "manager", "en").get("/orders/4103/").content.decode()

    assert html_lang(page) == "en"
    assert "Order 4103" in page and "Refresh from Clopos" in page
    assert f"3.00{NBSP}AZN" in page


def test_clopos_data_is_marked_with_its_language(api, users):
    client = in_language(users, "manager", "ru")

    page = client.get("/orders/4103/").content.decode()
    revealed = client.post("/orders/4103/customer/reveal/", headers={"HX-Request": "true"}).content.decode()
    receipt = receipt_page(client, 4103)

    for name in ("Nigar Əliyeva", "Piti", "Göyərti qutabı", "Köhnə Şəhər — Nərimanov", "Çatdırılma"):
        assert f"<span {DATA}>{name}</span>" in page, name
    assert f"<span {DATA}>Bakı, Yasamal r., Şərifzadə küç. 12, m. 5</span>" in revealed
    for name in ("Kart", "Nağd"):  # the fragment's payments; its lines are the page's, marked above
        assert f"<span {DATA}>{name}</span>" in receipt, name
    # The page's own words are not marked: they are in the page's language.
    assert f"<span {DATA}>Клиент" not in page


def test_the_data_language_is_a_setting(api, users, settings):
    settings.CLOPOS_DATA_LANGUAGE = "ru"

    page = in_language(users, "manager", "az").get("/orders/4103/").content.decode()

    assert '<span lang="ru">Nigar Əliyeva</span>' in page


def test_an_order_not_found_speaks_the_language(api, users):
    response = in_language(users, "support", "az").get(f"/orders/{UNKNOWN_ORDER}/")

    assert response.status_code == 404
    markup = response.content.decode()
    assert f"Sifariş {UNKNOWN_ORDER} tapılmadı" in markup
    assert "Clopos-da bu ID ilə sifariş yoxdur" in markup
    assert english_left(markup) == []


def test_the_lookup_and_its_errors_speak_the_language(users):
    client = in_language(users, "support", "ru")

    page = client.get("/orders/lookup/").content.decode()
    bad = client.get("/orders/lookup/", {"order_id": "pizza"})

    assert english_left(page) == []
    assert bad.status_code == 400
    assert "например 4103" in bad.content.decode()
    assert english_left(bad.content.decode()) == []


# --- The orders list (frozen on 14 Mar 2026, 21:30 Baku, as in tests/orders/test_order_list.py) --


@pytest.fixture
def list_api(clopos_api):
    clopos_api.get(api_url("venues"), json=load_payload("venues_list.json"))
    clopos_api.get(api_url("sale-types"), json=load_payload("sale_types_list.json"))
    clopos_api.get(api_url("orders"), json=list_body())
    with time_machine.travel(dt.datetime(2026, 3, 14, 21, 30, tzinfo=ZoneInfo("Asia/Baku")), tick=False):
        yield clopos_api


@pytest.mark.parametrize(
    ("language", "strings"),
    [
        (
            "az",
            [
                "İş günü: 14 mart 2026",
                "6:00–6:00",
                "Clopos 14 mart–15 mart tarixlərində yaradılmış 23 sifariş tapdı",
                f'Bağlı</span><span class="num receipt-total">38,20{NBSP}₼',
                f"Bu səhifədəki çeklərin cəmi: 90,06{NBSP}₼ (3 çek).",
            ],
        ),
        (
            "ru",
            [
                "Рабочий день 14 марта 2026 г.",
                "6:00–6:00",
                "Clopos нашёл 23 заказа, созданных 14 марта–15 марта",
                f'Закрыт</span><span class="num receipt-total">38,20{NBSP}₼',
                f"Сумма чеков на этой странице: 90,06{NBSP}₼ (3 чека).",
            ],
        ),
    ],
)
def test_the_orders_list_has_no_english_left(list_api, users, language, strings):
    markup = in_language(users, "manager", language).get("/orders/", {"day": "2026-03-14"}).content.decode()

    assert html_lang(markup) == language
    for text in strings:
        assert text in markup, text
    assert english_left(markup) == []


def test_the_list_marks_clopos_data(list_api, users):
    markup = in_language(users, "manager", "ru").get("/orders/", {"day": "2026-03-14"}).content.decode()

    rows = re.findall(r"<tr class=\"order-row.*?</tr>", markup, re.S)
    assert rows
    assert all(f"<span {DATA}>Köhnə Şəhər — Nərimanov</span>" in row for row in rows)
    assert f"<span {DATA}>Nigar Əliyeva</span>" in markup
    assert f"<span {DATA}>Çatdırılma</span>" in markup  # a sale type, in the filters and the rows


def test_an_invalid_filter_is_explained_in_the_language(list_api, users):
    response = in_language(users, "manager", "az").get("/orders/", {"day": "14.03.2026"})

    assert response.status_code == 400
    assert "Tarixi İİİİ-AA-GG formatında daxil edin." in response.content.decode()
    assert english_left(response.content.decode()) == []


@pytest.mark.parametrize("language", ["az", "ru"])
def test_the_other_console_pages_have_no_english_left(api, users, language):
    client = in_language(users, "manager", language)
    client.get("/orders/4103/")  # one audit entry and a Clopos call, for the log and the panel

    for path in ("/audit/", "/status/", "/orders/lookup/"):
        markup = client.get(path).content.decode()
        assert html_lang(markup) == language, path
        assert english_left(markup) == [], path


def test_no_access_and_login_pages_have_no_english_left(users):
    StaffProfile.objects.update_or_create(user=users["norole"], defaults={"language": "ru"})  # a profile, no role
    no_access = in_language(users, "norole", "ru").get("/orders/")
    login = Client(headers={"accept-language": "az"}).get("/accounts/login/")
    failed = Client(headers={"accept-language": "ru"}).post(
        "/accounts/login/", {"username": "manager", "password": "wrong"}
    )

    assert no_access.status_code == 403
    for response in (no_access, login, failed):
        assert english_left(response.content.decode()) == []
    # Django's own form error, from its Russian catalogue.
    assert "Пожалуйста, введите правильные имя пользователя и пароль" in failed.content.decode()


def test_the_admin_site_shows_our_models_in_the_language(users):
    client = in_language(users, "admin", "ru")

    index = client.get("/admin/").content.decode()
    user_page = client.get(f"/admin/auth/user/{users['support'].pk}/change/").content.decode()
    users_list = client.get("/admin/auth/user/").content.decode()

    assert html_lang(index) == "ru"
    for text in ("Журнал аудита", "Настройки заведения", "Пользователи"):
        assert text.lower() in index.lower(), text
    assert "Доступ к заведениям и язык" in user_page
    assert '<option value="az">Azərbaycanca</option>' in user_page  # each language in its own words
    assert "Роль" in users_list and "Поддержка" in users_list  # the role's name, not its code


@pytest.mark.parametrize("language", ["az", "ru", "en"])
def test_date_inputs_keep_iso_dates_in_every_language(users, language):
    """A browser's date input drops a value that is not YYYY-MM-DD ("27.11.2026" in az and ru)."""
    client = in_language(users, "manager", language)

    markup = client.get("/audit/", {"date_from": "2026-11-01", "date_to": "2026-11-27"}).content.decode()

    assert 'type="date" name="date_from" value="2026-11-01"' in markup
    assert 'type="date" name="date_to" value="2026-11-27"' in markup
