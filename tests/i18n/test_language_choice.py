"""Which language a page is in: the user's own choice, then the language cookie, then the
browser's Accept-Language, then LANGUAGE_CODE; and the header's switcher that saves the choice.

No URL prefixes: the same link opens in each reader's language.
"""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from staff.models import StaffProfile
from tests.conftest import PASSWORD
from tests.pages import text_of
from tests.production.test_settings_profile import manage

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
#: The login page's heading in each language: the page's language at a glance.
LOG_IN = {"az": "Daxil ol", "ru": "Войти", "en": "Log in"}


def html_lang(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.content.decode()).group(1)


def heading(response) -> str:
    return text_of(re.search(r"<h1[^>]*>(.*?)</h1>", response.content.decode(), re.S).group(1))


def prefer(user, language: str) -> None:
    StaffProfile.objects.update_or_create(user=user, defaults={"language": language})


# --- Before login: Accept-Language, the cookie, the default ----------------------------------


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("az", "az"),
        ("ru-RU,ru;q=0.9,en;q=0.5", "ru"),
        ("az-Latn-AZ,az;q=0.9", "az"),
        ("de-DE,ru;q=0.8", "ru"),  # the first language we have
        ("de-DE,fr;q=0.8", "en"),  # none we have: the default
        ("", "en"),
    ],
)
def test_before_login_the_browser_decides(accept, expected):
    response = Client(headers={"accept-language": accept} if accept else {}).get(LOGIN)

    assert response.status_code == 200
    assert html_lang(response) == expected
    assert response["Content-Language"] == expected
    assert heading(response) == LOG_IN[expected]
    assert "Accept-Language" in response["Vary"]


def test_the_language_cookie_beats_accept_language():
    client = Client(headers={"accept-language": "ru"})
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "az"

    assert html_lang(client.get(LOGIN)) == "az"


def test_the_default_is_configurable(settings):
    settings.LANGUAGE_CODE = "az"

    assert html_lang(Client().get(LOGIN)) == "az"
    # A language we have still comes first.
    assert html_lang(Client(headers={"accept-language": "en"}).get(LOGIN)) == "en"


def test_no_url_prefix_a_link_opens_in_each_readers_language(users, api):
    """One shared order link, two colleagues, two languages."""
    prefer(users["manager"], "ru")
    prefer(users["admin"], "az")
    russian, azerbaijani = Client(), Client()
    russian.force_login(users["manager"])
    azerbaijani.force_login(users["admin"])

    assert html_lang(russian.get("/orders/4103/")) == "ru"
    assert html_lang(azerbaijani.get("/orders/4103/")) == "az"
    assert Client().get("/az/orders/4103/").status_code in {302, 404}  # no /az/ prefix exists


# --- After login: the user's own choice --------------------------------------------------------


def test_the_users_choice_beats_the_cookie_and_the_browser(users):
    prefer(users["manager"], "ru")
    client = Client(headers={"accept-language": "en"})
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "az"
    client.force_login(users["manager"])

    response = client.get("/")

    assert html_lang(response) == "ru"
    assert response["Content-Language"] == "ru"


def test_without_a_choice_the_browser_still_decides(users):
    client = Client(headers={"accept-language": "az"})
    client.force_login(users["manager"])  # a profile with language ""

    assert html_lang(client.get("/")) == "az"


def test_a_language_no_longer_offered_is_ignored(users):
    StaffProfile.objects.filter(user=users["manager"]).update(language="de")
    client = Client(headers={"accept-language": "ru"})
    client.force_login(users["manager"])

    assert html_lang(client.get("/")) == "ru"


def test_a_user_without_a_profile_follows_the_browser(users):
    client = Client(headers={"accept-language": "ru"})
    client.force_login(users["norole"])  # no StaffProfile at all

    response = client.get("/")

    assert response.status_code == 403  # "no access yet", in Russian
    assert html_lang(response) == "ru"
    assert "Доступа пока нет" in text_of(response.content)


def test_the_users_language_costs_no_query(users):
    """The profile comes with the user (staff.backends): a chosen language adds no query."""

    def queries_for(language: str) -> int:
        prefer(users["support"], language)
        client = Client(headers={"accept-language": "en"})
        client.force_login(users["support"])
        client.get("/orders/lookup/")  # warm: session, permission cache
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/orders/lookup/")
        assert html_lang(response) == (language or "en")
        return len(captured)

    assert queries_for("ru") == queries_for("")


def test_error_pages_speak_the_language(users):
    client = Client(headers={"accept-language": "ru"})

    for signed_in in (False, True):
        if signed_in:
            client.force_login(users["manager"])
        response = client.get("/no-such-page/")
        assert response.status_code == 404
        assert html_lang(response) == "ru"
        assert "Не найдено" in text_of(response.content)
        assert "Not found" not in text_of(response.content)


# --- The switcher ------------------------------------------------------------------------------


def switch(client: Client, language: str, **extra):
    return client.post(reverse("set-language"), {"language": language, **extra})


def test_the_switcher_is_in_the_header_of_every_page(users):
    client = Client()
    for page in (client.get(LOGIN), client_logged_in(users, "manager").get("/orders/lookup/")):
        html = page.content.decode()
        switcher = re.search(r"<form[^>]*data-language-switcher.*?</form>", html, re.S).group(0)
        assert 'method="post"' in switcher
        assert 'name="csrfmiddlewaretoken"' in switcher
        assert re.findall(r'<option value="(\w+)" lang="(\w+)"', switcher) == [("az", "az"), ("ru", "ru"), ("en", "en")]
        # Each language is named in its own language.
        assert "Azərbaycanca" in switcher and "Русский" in switcher and "English" in switcher


def client_logged_in(users, username: str, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(users[username])
    return client


def test_switching_saves_the_choice_and_goes_back(users):
    client = client_logged_in(users, "manager")

    response = switch(client, "az", next="/orders/lookup/?order_id=")

    assert response.status_code == 302
    assert response["Location"] == "/orders/lookup/?order_id="
    assert StaffProfile.objects.get(user=users["manager"]).language == "az"
    cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "az"
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert html_lang(client.get("/orders/lookup/")) == "az"


def test_the_choice_follows_the_user_to_another_browser(users):
    switch(client_logged_in(users, "manager"), "ru")

    elsewhere = client_logged_in(users, "manager", headers={"accept-language": "az"})

    assert html_lang(elsewhere.get("/")) == "ru"


def test_switching_before_login_sets_only_the_cookie(users):
    client = Client(headers={"accept-language": "en"})

    response = switch(client, "ru", next=LOGIN)

    assert response["Location"] == LOGIN
    assert heading(client.get(LOGIN)) == "Войти"
    assert not StaffProfile.objects.exclude(language="").exists()
    # Logging in keeps it (the cookie), and the user's own choice stays empty until they switch.
    response = client.post(LOGIN, {"username": "support", "password": PASSWORD})
    assert html_lang(client.get(response["Location"])) == "ru"


def test_a_user_without_a_profile_gets_one_with_no_venues(users):
    switch(client_logged_in(users, "norole"), "az")

    profile = StaffProfile.objects.get(user=users["norole"])
    assert profile.language == "az"
    assert profile.venues == frozenset() and not profile.all_venues


def test_the_switcher_is_post_only(users):
    client = client_logged_in(users, "manager")

    response = client.get(reverse("set-language"), {"language": "ru"})

    assert response.status_code == 405
    assert StaffProfile.objects.get(user=users["manager"]).language == ""


def test_the_switcher_needs_the_csrf_token(users):
    client = Client(enforce_csrf_checks=True)
    client.force_login(users["manager"])

    response = switch(client, "ru")

    assert response.status_code == 403
    assert StaffProfile.objects.get(user=users["manager"]).language == ""


def test_the_switcher_accepts_the_token_of_the_page(users):
    client = Client(enforce_csrf_checks=True)
    client.force_login(users["manager"])
    page = client.get("/orders/lookup/").content.decode()
    form = re.search(r"<form[^>]*data-language-switcher.*?</form>", page, re.S).group(0)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)

    response = switch(client, "ru", csrfmiddlewaretoken=token, next="/orders/lookup/")

    assert response.status_code == 302
    assert StaffProfile.objects.get(user=users["manager"]).language == "ru"


@pytest.mark.parametrize("language", ["", "de", "RU", "ru-ru", "en-us'><script>"])
def test_only_our_languages_are_accepted(users, language):
    response = switch(client_logged_in(users, "manager"), language)

    assert response.status_code == 400
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
    assert StaffProfile.objects.get(user=users["manager"]).language == ""


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "http://testserver.evil.example/",
        "https:///evil.example/",
        "/\\evil.example/",
        "javascript:alert(1)",
    ],
)
def test_the_switcher_never_redirects_off_the_site(users, target):
    client = client_logged_in(users, "manager")

    by_next = switch(client, "ru", next=target)
    by_referer = client.post(reverse("set-language"), {"language": "ru"}, headers={"referer": target})

    for response in (by_next, by_referer):
        assert response.status_code == 302
        assert response["Location"] == reverse("orders:order-list")


def test_without_next_it_goes_back_to_the_referring_page(users):
    response = client_logged_in(users, "manager").post(
        reverse("set-language"), {"language": "ru"}, headers={"referer": "http://testserver/orders/4103/"}
    )

    assert response["Location"] == "http://testserver/orders/4103/"


def test_the_admin_site_speaks_the_users_language(users):
    prefer(users["admin"], "ru")
    admin = get_user_model().objects.get(username="admin")

    response = client_logged_in(users, "admin").get("/admin/")

    assert admin.is_staff and response.status_code == 200
    assert html_lang(response) == "ru"
    assert "Пользователи" in text_of(response.content)  # Django's own Russian catalogue


# --- Settings ----------------------------------------------------------------------------------


@pytest.mark.subprocess
@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("DJANGO_LANGUAGE_CODE", "de", "DJANGO_LANGUAGE_CODE"),
        ("CLOPOS_DATA_LANGUAGE", "az;drop", "CLOPOS_DATA_LANGUAGE"),
    ],
)
def test_a_wrong_language_setting_stops_start_up_naming_it(variable, value, named):
    result = manage("check", env={"CLOPOS_DEMO": "1", variable: value})

    assert result.returncode != 0
    assert named in result.stderr.splitlines()[-1]


@pytest.mark.subprocess
def test_the_default_language_comes_from_the_environment():
    result = manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings; print(settings.LANGUAGE_CODE)",
        env={"CLOPOS_DEMO": "1", "DJANGO_LANGUAGE_CODE": "ru"},
    )

    assert result.stdout.strip() == "ru", result.stderr
