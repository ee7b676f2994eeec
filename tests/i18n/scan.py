"""Finds user-facing text that is not marked for translation: in templates (visible text and
visible attributes outside {% translate %} / {% blocktranslate %}, and literal default texts in
{{ … }}), and in Python (strings handed to the places Django shows users).

A heuristic, documented in the README ("Languages"):

* Templates: Django comments, <script> and <style> are dropped; {% translate %}, {% blocktranslate
  %}…{% endblocktranslate %}, other tags and {{ variables }} are taken out; what is left of the
  text and of the attributes people see or hear (title, alt, placeholder, aria-label, the value of
  a button) must hold no letter, unless it is on ALLOWED_TEXT (the brand, symbols). A literal
  argument of `default:` with a letter must be `_("…")`. Date and time filters must use the
  language's named formats ("DATE_FORMAT", …), never a pattern of their own.
* Python: a string literal with a letter passed to a place users read — a form field's label,
  help_text or error_messages, a model's verbose names and choices, an admin column's description,
  ValidationError, InputError, django.contrib.messages, an error class's `user_message`, a value of
  a template context under a key ending in "message", "error" or "label" — must be inside a
  gettext call (gettext, gettext_lazy, gettext_noop, ngettext, pgettext…).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_DIRS = [ROOT / "templates"]
PYTHON_PACKAGES = ["clopos", "console", "audit", "orders", "staff", "clopos_admin"]

#: Text that stays as it is in every language: the product's name and Clopos' (brands); the
#: header styles the product name's second word apart, so "Admin" is a text node of its own.
ALLOWED_TEXT = {"Clopos Admin", "Clopos", "Admin"}
#: Attributes whose values people see or hear.
VISIBLE_ATTRIBUTES = {"title", "alt", "placeholder", "aria-label", "aria-description", "aria-roledescription", "label"}
#: Date and time format arguments that are not words: ISO 8601 (`c`, a URL's `Y-m-d`) for machines.
MACHINE_FORMATS = {"c", "U", "s", "Y-m-d"}
NAMED_FORMATS = re.compile(r"(SHORT_)?(DATE|DATETIME|TIME|YEAR_MONTH|MONTH_DAY)_FORMAT")

LETTER = re.compile(r"[^\W\d_]")
GETTEXT_CALLS = {
    "gettext",
    "gettext_lazy",
    "gettext_noop",
    "ngettext",
    "ngettext_lazy",
    "pgettext",
    "pgettext_lazy",
    "npgettext",
    "npgettext_lazy",
    "_",
}
USER_KEYWORDS = {
    "label",
    "help_text",
    "verbose_name",
    "verbose_name_plural",
    "description",
    "empty_label",
    "empty_value_display",
}
USER_CALLS = {"ValidationError", "InputError"}
MESSAGE_CALLS = {"debug", "info", "success", "warning", "error", "add_message"}
USER_ATTRIBUTES = {"user_message", "verbose_name", "verbose_name_plural"}
USER_CONTEXT_KEY = re.compile(r"(message|error|label)$")


# --- Templates --------------------------------------------------------------------------------

_COMMENT = re.compile(r"{#.*?#}|{%\s*comment\s*%}.*?{%\s*endcomment\s*%}", re.S)
# Blocks that only hold CSS classes (`{% block page_class %}page-wide{% endblock %}`).
_CLASS_BLOCK = re.compile(r"{%\s*block\s+\w*class\s*%}.*?{%\s*endblock\b[^%]*%}", re.S)
_BLOCK_TRANSLATE = re.compile(r"{%\s*blocktrans(?:late)?\b.*?%}.*?{%\s*endblocktrans(?:late)?\s*%}", re.S)
_TAG = re.compile(r"{%.*?%}", re.S)
_VARIABLE = re.compile(r"{{.*?}}", re.S)
_RAW = re.compile(r"<(script|style)\b.*?</\1>", re.S | re.I)
_LITERAL_ARGUMENT = re.compile(r"\|\s*(\w+)\s*:\s*(_\()?(\"[^\"]*\"|'[^']*')")


def is_allowed(text: str) -> bool:
    """No letter at all (symbols, digits, punctuation), or a brand name among symbols."""
    words = " ".join(re.sub(r"[^\w\s]", " ", text).split())
    return not LETTER.search(text) or words in ALLOWED_TEXT


class _VisibleText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        for name, value in attrs:
            # An <input> button shows its value; a <button> shows its content and only sends its value.
            is_button = tag == "input" and attributes.get("type") in {"submit", "button", "reset"}
            visible = name in VISIBLE_ATTRIBUTES or (name == "value" and is_button)
            if visible and value and not is_allowed(value):
                self.found.append(f'{tag}[{name}]="{value.strip()}"')

    def handle_data(self, data: str) -> None:
        if not is_allowed(data):
            self.found.append(" ".join(data.split()))


def template_problems(source: str) -> list[str]:
    """What a template shows that is not marked for translation."""
    problems = []
    uncommented = _COMMENT.sub("", source)
    for match in [*_VARIABLE.finditer(uncommented), *_TAG.finditer(uncommented)]:
        for filter_name, gettext_call, literal in _LITERAL_ARGUMENT.findall(match.group(0)):
            value = literal[1:-1]
            if filter_name in {"default", "default_if_none"} and LETTER.search(value) and not gettext_call:
                problems.append(f"{match.group(0)}: a default text must be _(…)")
            if filter_name in {"date", "time"} and not (NAMED_FORMATS.fullmatch(value) or value in MACHINE_FORMATS):
                problems.append(f"{match.group(0)}: use the language's named format (DATE_FORMAT, TIME_FORMAT, …)")
    text = _COMMENT.sub("", source)
    text = _CLASS_BLOCK.sub("", text)
    text = _RAW.sub("", text)
    text = _BLOCK_TRANSLATE.sub("", text)
    text = _TAG.sub("", text)
    text = _VARIABLE.sub("", text)
    parser = _VisibleText()
    parser.feed(text)
    parser.close()
    return problems + parser.found


def templates() -> Iterator[Path]:
    for directory in TEMPLATE_DIRS:
        yield from sorted(directory.rglob("*.html"))


# --- Python -----------------------------------------------------------------------------------


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _is_text(node: ast.AST | None) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return bool(LETTER.search(node.value))
    if isinstance(node, ast.JoinedStr):  # an f-string: its own words, not what it formats
        return any(_is_text(part) for part in node.values if isinstance(part, ast.Constant))
    return False


def python_problems(source: str, filename: str = "<source>") -> list[str]:
    """Strings handed to places users read, not wrapped in a gettext call."""
    tree = ast.parse(source, filename)
    problems: list[str] = []

    def report(node: ast.AST, where: str) -> None:
        text = ast.unparse(node)  # type: ignore[arg-type]
        problems.append(f"{filename}:{getattr(node, 'lineno', '?')}: {where}: {text}")

    class Visitor(ast.NodeVisitor):
        def visit_Call(self, node: ast.Call) -> None:
            name = _name(node.func)
            if name in GETTEXT_CALLS:
                return  # marked: nothing inside needs checking
            for keyword in node.keywords:
                if keyword.arg in USER_KEYWORDS and _is_text(keyword.value):
                    report(keyword.value, f"{name}({keyword.arg}=…)")
                if keyword.arg == "error_messages" and isinstance(keyword.value, ast.Dict):
                    for value in keyword.value.values:
                        if _is_text(value):
                            report(value, f"{name}(error_messages=…)")
                if keyword.arg == "choices" and isinstance(keyword.value, ast.List | ast.Tuple):
                    for choice in keyword.value.elts:
                        if isinstance(choice, ast.Tuple) and len(choice.elts) == 2 and _is_text(choice.elts[1]):
                            report(choice.elts[1], f"{name}(choices=…)")
            if name in USER_CALLS and node.args and _is_text(node.args[0]):
                report(node.args[0], name)
            if (
                name in MESSAGE_CALLS
                and isinstance(node.func, ast.Attribute)
                and _name(node.func.value) == "messages"
                and len(node.args) >= 2
                and _is_text(node.args[1 if name != "add_message" else 2])
            ):
                report(node.args[1], f"messages.{name}")
            self.generic_visit(node)

        def visit_Dict(self, node: ast.Dict) -> None:
            for key, value in zip(node.keys, node.values, strict=True):
                if (
                    isinstance(key, ast.Constant)
                    and isinstance(key.value, str)
                    and USER_CONTEXT_KEY.search(key.value)
                    and _is_text(value)
                ):
                    report(value, f"context[{key.value!r}]")
            self.generic_visit(node)

        def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
            # An admin column (`@admin.display`) shows what it returns.
            if any(_name(d.func if isinstance(d, ast.Call) else d) == "display" for d in node.decorator_list):
                for child in ast.walk(node):
                    if isinstance(child, ast.Return) and _is_text(child.value):
                        report(child.value, f"{node.name}() returns")
            self.generic_visit(node)

        def visit_ClassDef(self, node: ast.ClassDef) -> None:
            choices = any(_name(base) in {"TextChoices", "IntegerChoices", "Choices"} for base in node.bases)
            for statement in node.body:
                if not isinstance(statement, ast.Assign):
                    continue
                targets = {_name(target) for target in statement.targets}
                if targets & USER_ATTRIBUTES and _is_text(statement.value):
                    report(statement.value, f"{node.name}.{sorted(targets & USER_ATTRIBUTES)[0]}")
                if choices and isinstance(statement.value, ast.Tuple) and _is_text(statement.value.elts[-1]):
                    report(statement.value.elts[-1], f"{node.name} choice label")
            self.generic_visit(node)

    Visitor().visit(tree)
    return problems


def python_files() -> Iterator[Path]:
    for package in PYTHON_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts or "management" in path.parts:
                continue  # migrations are generated; commands talk to operators in English
            yield path
