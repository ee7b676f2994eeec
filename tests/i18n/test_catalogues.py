"""Every user-facing string is marked for translation, and every catalogue translates all of them.

* templates and Python are scanned for unmarked text (tests/i18n/scan.py: the heuristic and its
  allow-list are documented there and in the README);
* `manage.py translations check` (also run by `make check`) extracts the source afresh into a
  temporary copy and compares it with locale/, then refuses empty, fuzzy or incomplete messages.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from console import catalogues
from tests.i18n.scan import ROOT, python_files, python_problems, template_problems, templates

# --- Marked: the scanners on the project ---------------------------------------------------------


def test_every_template_marks_its_text_for_translation():
    found = {str(path.relative_to(ROOT)): template_problems(path.read_text()) for path in templates()}

    assert {path: problems for path, problems in found.items() if problems} == {}
    assert len(found) >= 19


def test_every_python_string_shown_to_users_is_marked():
    found = [problem for path in python_files() for problem in python_problems(path.read_text(), str(path))]

    assert found == []


# --- The scanners themselves -------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "<h1>Orders</h1>",
        '<button type="submit">Log out</button>',
        '<input type="search" placeholder="Order number">',
        '<nav aria-label="Main">…</nav>',
        '<input type="submit" value="Apply">',
        '<img src="x.png" alt="Logo">',
        "{{ name|default:'Unknown venue' }}",
        '{{ created|date:"d M Y" }}',
        '{% blocktranslate with day=d|date:"j M" %}{{ day }}{% endblocktranslate %}',
        "<p>{% translate 'Fine' %} but not this</p>",
        "<td>Ödəniş</td>",  # any language, not only English
    ],
)
def test_the_template_scanner_finds_unmarked_text(source):
    assert template_problems(source)


@pytest.mark.parametrize(
    "source",
    [
        "<h1>{% translate 'Orders' %}</h1>",
        '<nav aria-label="{% translate "Main" %}"></nav>',
        "{% blocktranslate count n=k %}{{ n }} guest{% plural %}{{ n }} guests{% endblocktranslate %}",
        '<td class="num">{{ total|money }}</td> · — × → # % (#{{ id }})',
        '{{ name|default:_("Unknown venue") }} {{ x|default:"—" }}',
        '<time datetime="{{ t|date:\'c\' }}">{{ t|date:"DATETIME_FORMAT" }}</time>',
        "<title>{% block title %}{% endblock %} · Clopos Admin</title>",
        "{# Comments are for developers #}{% comment %}Also these{% endcomment %}",
        '<script src="x.js"></script><style>body { color: red }</style>',
        '<section class="card narrow" id="receipt" data-kind="open"></section>',
        "{% block page_class %}page-wide{% endblock %}",
        '<button type="submit" name="theme" value="dark"><span aria-hidden="true">☾</span></button>',
        '<a class="brand" href="/">Clopos <span class="brand-rest">Admin</span></a>',
    ],
)
def test_the_template_scanner_lets_marked_text_symbols_and_data_through(source):
    assert template_problems(source) == []


@pytest.mark.parametrize(
    "source",
    [
        'name = forms.CharField(label="Name")',
        'x = forms.IntegerField(error_messages={"invalid": "Enter a number."})',
        'raise forms.ValidationError("Too late.")',
        'raise InputError("Bad id")',
        'messages.success(request, "Saved.")',
        'class E(Exception):\n    user_message = "Clopos is down."',
        'class Action(models.TextChoices):\n    VIEW = "view", "Viewed"',
        'class Meta:\n    verbose_name = "entry"',
        'f = models.CharField("name", help_text="Shown to admins")',
        'context = {"reveal_error": "Could not reveal."}',
        '@admin.display(description="Role")\ndef role(obj):\n    return "none"',
        'x = forms.ChoiceField(choices=[("a", "Apples")])',
        'label = forms.CharField(label=f"Venue {number}")',
    ],
)
def test_the_python_scanner_finds_unmarked_strings(source):
    assert python_problems(source)


@pytest.mark.parametrize(
    "source",
    [
        'name = forms.CharField(label=_("Name"))',
        'raise forms.ValidationError(gettext("Too late."), code="late")',
        'class E(Exception):\n    user_message = gettext_noop("Clopos is down.")',
        'class Action(models.TextChoices):\n    VIEW = "view", _("Viewed")',
        'logger.warning("recent orders unavailable")',
        'raise ImproperlyConfigured("DJANGO_SECRET_KEY is not set.")',
        'label = f"{name} (#{number})"',
        'context = {"reveal_error": gettext("Could not reveal."), "order_id": 4103}',
        'x = ngettext("%(n)d day", "%(n)d days", n) % {"n": n}',
    ],
)
def test_the_python_scanner_lets_marked_and_internal_strings_through(source):
    assert python_problems(source) == []


# --- Translated: the catalogues ------------------------------------------------------------------


def test_the_catalogues_cover_every_language_but_the_source():
    assert catalogues.languages() == ["az", "ru"]
    for language in catalogues.languages():
        header, messages = catalogues.read_catalogue(catalogues.catalogue_path(language))
        assert header["Language"] == language
        assert catalogues.plural_count(header) == {"az": 2, "ru": 4}[language]  # as Django's own catalogues
        assert len(messages) > 250


@pytest.mark.subprocess
def test_the_catalogues_match_the_source_and_are_complete():
    """What `make check` runs: a fresh extraction compared with locale/, and every message
    translated (no empty or fuzzy one, every plural form)."""
    assert catalogues.problems() == []


PO_HEADER = """msgid ""
msgstr ""
"Language: ru\\n"
"MIME-Version: 1.0\\n"
"Content-Type: text/plain; charset=UTF-8\\n"
"Content-Transfer-Encoding: 8bit\\n"
"Plural-Forms: nplurals=4; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && "
"n%10<=4 && (n%100<12 || n%100>14) ? 1 : n%10==0 || (n%10>=5 && n%10<=9) || "
"(n%100>=11 && n%100<=14)? 2 : 3);\\n"
"""


def write_po(path: Path, body: str) -> Path:
    path.write_text(PO_HEADER + "\n" + body, encoding="utf-8")
    return path


@pytest.mark.subprocess
def test_an_incomplete_catalogue_is_refused(tmp_path):
    po = write_po(
        tmp_path / "django.po",
        """
msgid "Orders"
msgstr ""

#, fuzzy
msgid "Order"
msgstr "Заказ"

msgid "%(n)d day"
msgid_plural "%(n)d days"
msgstr[0] "%(n)d день"
msgstr[1] "%(n)d дня"

#, python-format
msgid "Order %(id)s"
msgstr "Заказ %(number)s"

msgctxt "receipt"
msgid "Open"
msgstr "Открыт"

#~ msgid "Gone"
#~ msgstr "Ушло"
""",
    )

    found = "\n".join(catalogues.catalogue_problems(po, "ru"))

    assert "'Orders': not translated" in found
    assert "'Order': fuzzy" in found
    assert "'%(n)d day': 2 plural forms, the language has 4" in found
    assert "msgfmt --check failed" in found  # the placeholder differs from the msgid's
    assert "'Gone': obsolete" in found
    assert "Open" not in found  # a complete message with a context


def test_the_reader_handles_contexts_plurals_and_continued_lines(tmp_path):
    po = write_po(
        tmp_path / "django.po",
        """
#: templates/x.html
msgctxt "order status"
msgid ""
"Pending "
"for long"
msgstr "Ожидает "
"давно"

msgid "%(n)s guest"
msgid_plural "%(n)s guests"
msgstr[0] "%(n)s гость"
msgstr[1] "%(n)s гостя"
msgstr[2] "%(n)s гостей"
msgstr[3] "%(n)s гостя"

msgid "A \\"quoted\\" word"
msgstr "Слово в \\"кавычках\\""
""",
    )

    header, messages = catalogues.read_catalogue(po)

    assert header["Language"] == "ru"
    assert [(m.msgctxt, m.msgid, m.msgstr) for m in messages] == [
        ("order status", "Pending for long", ["Ожидает давно"]),
        (None, "%(n)s guest", ["%(n)s гость", "%(n)s гостя", "%(n)s гостей", "%(n)s гостя"]),
        (None, 'A "quoted" word', ['Слово в "кавычках"']),
    ]
    assert messages[1].msgid_plural == "%(n)s guests"


@pytest.mark.subprocess
def test_a_string_marked_but_not_in_the_catalogues_is_found(tmp_path, settings):
    """A copy of a tiny project: one template with a new marked string that locale/ lacks, and a
    message locale/ holds that the source no longer marks."""
    project = tmp_path / "project"
    (project / "templates").mkdir(parents=True)
    (project / "templates" / "page.html").write_text(
        "{% load i18n %}<h1>{% translate 'Orders' %}</h1><p>{% translate 'A brand new sentence' %}</p>"
    )
    for language in ("az", "ru"):
        folder = project / "locale" / language / "LC_MESSAGES"
        folder.mkdir(parents=True)
        write_po(
            folder / "django.po",
            'msgid "Orders"\nmsgstr "X"\n\nmsgid "Removed from the source"\nmsgstr "Y"\n',
        )
    settings.BASE_DIR = project
    settings.LOCALE_PATHS = [project / "locale"]

    found = list(catalogues.extraction_problems())

    assert "django.po (az): lacks 'A brand new sentence' (run `make messages`, then translate it)" in found
    assert "django.po (ru): 'Removed from the source' is no longer in the source (run `make messages`)" in found
    assert not any("'Orders'" in problem for problem in found)


@pytest.mark.subprocess
def test_the_command_fails_on_problems_and_passes_on_the_project(monkeypatch):
    call_command("translations", "check")  # the project: complete

    monkeypatch.setattr(catalogues, "problems", lambda: ["django.po (ru): lacks 'X'"])
    with pytest.raises(CommandError, match="lacks 'X'"):
        call_command("translations", "check")


def test_missing_gettext_is_explained(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)

    with pytest.raises(CommandError, match="apt-get install gettext"):
        call_command("translations", "check")


@pytest.mark.subprocess
def test_compiling_writes_only_stale_catalogues(tmp_path, settings):
    folder = tmp_path / "locale" / "ru" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    write_po(folder / "django.po", 'msgid "Orders"\nmsgstr "Заказы"\n')
    settings.LOCALE_PATHS = [tmp_path / "locale"]

    assert catalogues.compile_stale() == [folder / "django.mo"]
    assert catalogues.compile_stale() == []  # up to date
    assert (folder / "django.mo").stat().st_size > 0
