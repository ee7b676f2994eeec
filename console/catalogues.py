"""The console's translation catalogues (locale/<code>/LC_MESSAGES/django.po): where they are,
how the source is extracted into them, and what makes one complete.

Used by `manage.py translations` (extract, check, compile) and by the tests. English is the
source language: its strings are the msgids, so only the other languages have a catalogue.
The gettext tools (xgettext, msgmerge, msgfmt: Debian's `gettext` package) do the work, as for
Django's own `makemessages` and `compilemessages`.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.test.utils import override_settings

SOURCE_LANGUAGE = "en"
DOMAIN = "django"
#: Folders whose files hold no user-facing string of the console (Django's default patterns,
#: `.*` (so .venv), `CVS`, `*~`, `*.pyc`, are ignored too).
IGNORED = ["tests", "sandbox", "docs", "static", "staticfiles", "var", "node_modules"]
#: One place for how strings are extracted: file names but no line numbers (no churn when code
#: moves), removed strings dropped rather than kept as obsolete entries.
MAKEMESSAGES_OPTIONS = {
    "domain": DOMAIN,
    "no_obsolete": True,
    "add_location": "file",
    "verbosity": 0,
}


class GettextMissingError(RuntimeError):
    """The gettext tools are not installed."""


def languages() -> list[str]:
    """The languages with a catalogue: every one in settings.LANGUAGES but the source's."""
    return [code for code, _ in settings.LANGUAGES if code != SOURCE_LANGUAGE]


def locale_root() -> Path:
    return Path(settings.LOCALE_PATHS[0])


def catalogue_path(language: str, root: Path | None = None) -> Path:
    return (root or locale_root()) / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def require_gettext() -> None:
    missing = [tool for tool in ("xgettext", "msgmerge", "msguniq", "msgattrib", "msgfmt") if not shutil.which(tool)]
    if missing:
        raise GettextMissingError(
            f"{', '.join(missing)} not found: install Debian's gettext package (apt-get install gettext)."
        )


def msgfmt(*arguments: str) -> subprocess.CompletedProcess[str]:
    """gettext's msgfmt (found on PATH) with these arguments; never raises for its exit code."""
    program = shutil.which("msgfmt")
    if program is None:
        raise GettextMissingError("msgfmt not found: install Debian's gettext package (apt-get install gettext).")
    return subprocess.run([program, *arguments], capture_output=True, text=True, check=False)  # noqa: S603


def extract(*, source: Path | None = None) -> None:
    """Extract every marked string of the source tree (default: the project) into the catalogues of
    its locale/, merging with what they hold (new strings empty, changed ones fuzzy)."""
    require_gettext()
    source = source or Path(settings.BASE_DIR)
    # makemessages writes into the locale/ of the folder it runs in: LOCALE_PATHS points there too.
    with contextlib.chdir(source), override_settings(LOCALE_PATHS=[source / "locale"]):
        (source / "locale").mkdir(exist_ok=True)
        call_command("makemessages", locale=languages(), ignore_patterns=list(IGNORED), **MAKEMESSAGES_OPTIONS)


def fresh_extraction(into: Path) -> Path:
    """A copy of the project's source (without its catalogues) under `into`, extracted afresh:
    what `make messages` would write, without touching the project. Returns the copy's locale/."""
    copy = into / "source"
    shutil.copytree(
        settings.BASE_DIR,
        copy,
        ignore=shutil.ignore_patterns(".*", "locale", "__pycache__", "*.sqlite3*", *IGNORED),
        symlinks=True,
    )
    extract(source=copy)
    return copy / "locale"


def compile_stale(*, force: bool = False) -> list[Path]:
    """Compile each catalogue whose .mo is missing or older than its .po (msgfmt --check, which
    also checks every placeholder against its msgid). Returns the files written."""
    written = []
    for language in languages():
        po = catalogue_path(language)
        mo = po.with_suffix(".mo")
        if not po.exists():
            continue
        if force or not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            result = msgfmt("--check", "-o", str(mo), str(po))
            if result.returncode != 0:
                raise RuntimeError(f"msgfmt could not compile {po}:\n{result.stderr.strip()}")
            written.append(mo)
    return written


# --- Reading a catalogue ----------------------------------------------------------------------


@dataclass
class Entry:
    """One message of a .po file."""

    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: list[str] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False

    @property
    def key(self) -> tuple[str | None, str, str | None]:
        return (self.msgctxt, self.msgid, self.msgid_plural)

    def describe(self) -> str:
        context = f"[{self.msgctxt}] " if self.msgctxt else ""
        return f"{context}{self.msgid!r}"


_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "r": "\r"}
_KEYWORD = re.compile(r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(\".*\")\s*$")


def _unquote(quoted: str) -> str:
    body = quoted.strip()[1:-1]
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), body)


def read_catalogue(path: Path) -> tuple[dict[str, str], list[Entry]]:
    """(header fields, messages) of a .po file; the header entry (msgid "") is not a message. A
    fuzzy header (as msginit leaves it) has the field "#, fuzzy"."""
    entries: list[Entry] = []
    entry = Entry()
    target: tuple[str, int] | None = None
    started = False

    def finish() -> None:
        nonlocal entry, started, target
        if started:
            entries.append(entry)
        entry, started, target = Entry(), False, None

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            finish()
            continue
        if line.startswith("#~"):
            entry.obsolete = True
            line = line[2:].strip()
            if not line or line.startswith("|"):
                continue
        elif line.startswith("#,"):
            entry.flags |= {flag.strip() for flag in line[2:].split(",") if flag.strip()}
            continue
        elif line.startswith("#"):
            continue
        match = _KEYWORD.match(line)
        if match:
            keyword, index, quoted = match.groups()
            if keyword == "msgid" and started and (entry.msgstr or entry.msgid_plural is not None):
                finish()
            started = True
            text = _unquote(quoted)
            if keyword == "msgctxt":
                entry.msgctxt, target = text, ("msgctxt", 0)
            elif keyword == "msgid":
                entry.msgid, target = text, ("msgid", 0)
            elif keyword == "msgid_plural":
                entry.msgid_plural, target = text, ("msgid_plural", 0)
            else:
                position = int(index) if index is not None else 0
                while len(entry.msgstr) <= position:
                    entry.msgstr.append("")
                entry.msgstr[position], target = text, ("msgstr", position)
        elif line.startswith('"') and target is not None:
            text = _unquote(line)
            name, position = target
            if name == "msgstr":
                entry.msgstr[position] += text
            elif name == "msgid_plural":
                entry.msgid_plural = (entry.msgid_plural or "") + text
            else:
                setattr(entry, name, (getattr(entry, name) or "") + text)
    finish()
    header: dict[str, str] = {}
    messages = []
    for item in entries:
        if item.msgid == "" and item.msgctxt is None and not item.obsolete:
            for header_line in (item.msgstr[0] if item.msgstr else "").splitlines():
                name, _, value = header_line.partition(":")
                header[name.strip()] = value.strip()
            if "fuzzy" in item.flags:
                header["#, fuzzy"] = "yes"
        else:
            messages.append(item)
    return header, messages


def plural_count(header: dict[str, str]) -> int | None:
    match = re.search(r"nplurals\s*=\s*(\d+)", header.get("Plural-Forms", ""))
    return int(match.group(1)) if match else None


# --- Checking ---------------------------------------------------------------------------------


def catalogue_problems(path: Path, language: str) -> Iterator[str]:
    """What keeps one catalogue from being complete: no file, a wrong header, an empty, fuzzy or
    obsolete message, a plural without all its forms, a placeholder msgfmt refuses."""
    if not path.exists():
        yield f"{path}: missing (run `make messages`)"
        return
    header, messages = read_catalogue(path)
    if "#, fuzzy" in header:
        yield f"{path}: the header is fuzzy (fill it in, then remove the fuzzy flag)"
    if header.get("Language") != language:
        yield f"{path}: the header's Language is {header.get('Language')!r}, not {language!r}"
    forms = plural_count(header)
    if forms is None:
        yield f"{path}: the header has no Plural-Forms"
    for message in messages:
        where = f"{path.name} ({language}) {message.describe()}"
        if message.obsolete:
            yield f"{where}: obsolete (run `make messages`, which drops it)"
        elif "fuzzy" in message.flags:
            yield f"{where}: fuzzy (check the translation, then remove the fuzzy flag)"
        elif not message.msgstr or any(not text for text in message.msgstr):
            yield f"{where}: not translated"
        elif message.msgid_plural is not None and forms is not None and len(message.msgstr) != forms:
            yield f"{where}: {len(message.msgstr)} plural forms, the language has {forms}"
    result = msgfmt("--check", "-o", "/dev/null", str(path))
    if result.returncode != 0 or result.stderr.strip():
        yield f"{path}: msgfmt --check failed:\n{result.stderr.strip()}"


def extraction_problems() -> Iterator[str]:
    """Messages the source marks that a catalogue lacks, and messages a catalogue holds that the
    source no longer marks: a fresh extraction into a temporary folder, compared by msgid."""
    with tempfile.TemporaryDirectory(prefix="clopos-messages-") as tmp:
        root = fresh_extraction(Path(tmp))
        for language in languages():
            fresh = {message.key for message in read_catalogue(catalogue_path(language, root))[1]}
            path = catalogue_path(language)
            if not path.exists():
                continue  # reported by catalogue_problems
            shipped = {message.key for message in read_catalogue(path)[1] if not message.obsolete}
            for context, msgid, _ in sorted(fresh - shipped, key=lambda key: (key[1], key[0] or "")):
                label = f"[{context}] " if context else ""
                yield f"{path.name} ({language}): lacks {label}{msgid!r} (run `make messages`, then translate it)"
            for context, msgid, _ in sorted(shipped - fresh, key=lambda key: (key[1], key[0] or "")):
                label = f"[{context}] " if context else ""
                yield f"{path.name} ({language}): {label}{msgid!r} is no longer in the source (run `make messages`)"


def problems() -> list[str]:
    """Everything that keeps the catalogues from matching the source and being complete."""
    require_gettext()
    found = list(extraction_problems())
    for language in languages():
        found += catalogue_problems(catalogue_path(language), language)
    return found
