"""console.templatetags.console_i18n: Django's i18n library with a cheaper literal `{% translate %}`.

Every case renders through the project's engine and through a stock Django engine side by side:
the output must be the same string, with the same safety, in each language.
"""

from __future__ import annotations

import re

import pytest
from django.template import Context, Engine, engines
from django.templatetags.i18n import TranslateNode
from django.utils import translation
from django.utils.safestring import SafeData

from console.templatetags.console_i18n import LiteralTranslateNode

CASES = {
    "literal": '{% translate "Orders" %}',
    "single quotes": "{% translate 'Receipt' %}",
    "untranslated": '{% translate "No catalogue has this <b>&</b> message" %}',
    "percent": '{% translate "100% of the order, %(name)s" %}',
    "doubled percent": '{% translate "50%% off" %}',
    "as a variable": '{% translate "Orders" as title %}[{{ title }}]{{ title|length }}',
    "in an attribute": "<nav aria-label=\"{% translate 'Pages' %}\"></nav>",
    "a filter": '{% translate "Orders"|upper %}',
    "a context": '{% translate "Orders" context "menu" %}',
    "noop": '{% translate "Orders" noop %}',
    "a variable message": "{% translate message %}",
    "an unsafe variable": "{% translate unsafe %}",
    "a language block": '{% translate "Orders" %}|{% language "ru" %}{% translate "Orders" %}{% endlanguage %}|'
    '{% translate "Orders" %}',
    "autoescape off": '{% autoescape off %}{% translate "Receipt" %}{% translate unsafe %}{% endautoescape %}',
    "a loop": '{% for _ in "abc" %}{% translate "Receipt" %};{% endfor %}',
}
CONTEXT = {"message": "Receipt", "unsafe": "<script>x</script>"}
STOCK = Engine(libraries={"i18n": "django.templatetags.i18n"})


def render(source: str, engine_from_string) -> str:
    return engine_from_string("{% load console_i18n %}" + source).render(CONTEXT)


@pytest.mark.parametrize("language", ["en", "az", "ru"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_renders_what_djangos_own_tag_renders(case, language):
    project = engines["django"]
    with translation.override(language):
        ours = render(CASES[case], project.from_string)
        stock = STOCK.from_string("{% load i18n %}" + CASES[case]).render(Context(CONTEXT))
    assert ours == stock


def test_a_literal_is_translated_for_the_language_of_each_render():
    # The node keeps what it rendered per language: the same compiled template, rendered in turn.
    template = engines["django"].from_string('{% load console_i18n %}{% translate "Orders" %}')
    rendered = {}
    for language in ["en", "az", "ru", "en", "az"]:
        with translation.override(language):
            rendered.setdefault(language, set()).add(template.render({}))
    assert rendered == {"en": {"Orders"}, "az": {"Sifarişlər"}, "ru": {"Заказы"}}


def test_the_literal_node_returns_a_safe_string_as_djangos_does():
    node = engines["django"].from_string('{% load console_i18n %}{% translate "Orders" %}').template.nodelist[-1]
    assert isinstance(node, LiteralTranslateNode)
    with translation.override("az"):
        assert isinstance(node.render(Context()), SafeData)


@pytest.mark.parametrize(
    ("source", "node_type"),
    [
        ('{% translate "Orders" %}', LiteralTranslateNode),
        ('{% trans "Orders" as title %}', LiteralTranslateNode),
        ('{% translate "Orders"|upper %}', TranslateNode),
        ('{% translate "Orders" context "menu" %}', TranslateNode),
        ('{% translate "Orders" noop %}', TranslateNode),
        ("{% translate message %}", TranslateNode),
    ],
)
def test_the_library_gives_the_literal_node_only_for_a_plain_literal(source, node_type):
    nodelist = engines["django"].from_string("{% load console_i18n %}" + source).template.nodelist
    assert type(nodelist[-1]) is node_type


def test_every_other_i18n_tag_and_filter_is_djangos():
    from django.templatetags import i18n

    from console.templatetags import console_i18n

    assert set(console_i18n.register.tags) == set(i18n.register.tags)
    assert console_i18n.register.filters == i18n.register.filters
    assert {name for name, tag in console_i18n.register.tags.items() if tag is not i18n.register.tags[name]} == {
        "translate",
        "trans",
    }


def test_every_project_template_loads_the_cheaper_library_not_djangos():
    # A template that loads Django's `i18n` renders correctly but pays Django's tag (issue 13).
    from tests.live import ROOT

    loads = re.compile(r"{%\s*load\s([^%]*)%}")
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "templates").rglob("*.html")
        if any("i18n" in match.split() for match in loads.findall(path.read_text()))
    ]
    translating = [path for path in (ROOT / "templates").rglob("*.html") if "{% translate" in path.read_text()]

    assert offenders == []
    assert len(translating) > 20  # the check above looked at the real templates
