"""Django's i18n template library, with a cheaper `{% translate "literal" %}`.

The project's templates `{% load console_i18n %}` instead of `i18n` (a test holds every one of
them to it); makemessages reads the same tags as before, whatever library a template loads.
It has its own name rather than taking over `i18n` in TEMPLATES OPTIONS "libraries": Django
warns of a library name two modules register (templates.W003), and the deployment checks stay
clean with nothing silenced. Every tag and filter
is Django's own except `translate`/`trans`: a tag whose message is a plain string literal (no
filter, no `context`, not `noop`) renders through `gettext` at once. Django's node builds a
lazy string and resolves it through the template's variable machinery on every render: about
7 µs a tag here, and an order page renders some 60 of them the first time it is shown (issue
13). Anything else is Django's node, unchanged. The output is the same string, marked safe the
same way (tests/console/test_i18n_library.py renders both side by side in each language).
"""

from __future__ import annotations

from typing import Any

from django import template
from django.template.base import Node, Parser, Token, Variable
from django.templatetags import i18n as django_i18n
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext

register = template.Library()
register.tags.update(django_i18n.register.tags)
register.filters.update(django_i18n.register.filters)


class LiteralTranslateNode(Node):
    """`{% translate "literal" %}` or `{% translate "literal" as name %}`."""

    child_nodelists = ()

    def __init__(self, literal: SafeString, asvar: str | None) -> None:
        # Django doubles percent signs before the lookup and restores them after
        # (TranslateNode.render); the catalogues hold the doubled form.
        self.message = mark_safe(literal.replace("%", "%%"))  # noqa: S308 - a template's own literal
        self.asvar = asvar
        self.rendered: dict[str | None, SafeString] = {}  # by language: a catalogue never changes in a process

    def render(self, context: Any) -> str:
        language = get_language()
        value = self.rendered.get(language)
        if value is None:
            # gettext of a safe message returns a safe string, as Django's node renders it.
            value = self.rendered[language] = mark_safe(gettext(self.message).replace("%%", "%"))  # noqa: S308
        if self.asvar:
            context[self.asvar] = value
            return ""
        return value


def _literal_of(node: django_i18n.TranslateNode) -> SafeString | None:
    """The message when Django's node would translate a constant string and nothing more."""
    expression = node.filter_expression
    if node.noop or node.message_context is not None or expression.filters:
        return None
    variable = expression.var
    if not isinstance(variable, Variable) or variable.lookups is not None:
        return None
    literal = variable.literal
    return literal if isinstance(literal, SafeString) else None


@register.tag("translate")
@register.tag("trans")
def do_translate(parser: Parser, token: Token) -> Node:
    node = django_i18n.do_translate(parser, token)
    literal = _literal_of(node)
    return node if literal is None else LiteralTranslateNode(literal, node.asvar)
