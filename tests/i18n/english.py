"""Finding English left on a page meant to be in another language.

The English phrases are the source strings themselves (the msgids of a catalogue), so every
marked string is checked, not a hand-picked few: a page in az or ru must contain none of their
phrases of two words or more, nor a handful of single words that matter. What a page marks with
another language (Clopos' data, `lang="az"`; the switcher's "English", `lang="en"`) is left out.
"""

from __future__ import annotations

import html
import re
from functools import cache
from pathlib import Path

from console.catalogues import read_catalogue

ROOT = Path(__file__).resolve().parents[2]
#: Single words that would give an untranslated page away.
ENGLISH_WORDS = ["Order", "Orders", "Customer", "Items", "Receipt", "Total", "Payments", "Venue", "Status", "Password"]
_PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]")
_OTHER_LANGUAGE = re.compile(r'<(\w+)\b[^>]*\slang="[^"]*"[^>]*>.*?</\1>', re.S)


@cache
def english_phrases() -> tuple[str, ...]:
    """Phrases of two words or more from the English source strings (the az catalogue's msgids)."""
    _, messages = read_catalogue(ROOT / "locale" / "az" / "LC_MESSAGES" / "django.po")
    phrases = set()
    for message in messages:
        if message.msgctxt == "alt. month":
            continue  # month names: Django's, and data-like ("May" is az too)
        for source in (message.msgid, message.msgid_plural or ""):
            for fragment in _PLACEHOLDER.split(source):
                fragment = " ".join(fragment.split()).strip(" .,:;()–-→←·")
                if len(re.findall(r"[A-Za-z]+", fragment)) >= 2:
                    phrases.add(fragment)
    return tuple(sorted(phrases, key=len, reverse=True))


def page_text(markup: str) -> str:
    """The visible text of the page's own language: tags, scripts, styles and every element
    marked with a language of its own dropped."""
    body = markup.split("<body", 1)[-1]
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    body = _OTHER_LANGUAGE.sub(" ", body)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


@cache
def same_in(language: str) -> frozenset[str]:
    """Source strings the language writes the same way (Azerbaijani "Status", "Token")."""
    _, messages = read_catalogue(ROOT / "locale" / language / "LC_MESSAGES" / "django.po")
    return frozenset(m.msgid for m in messages if m.msgid_plural is None and m.msgstr == [m.msgid])


def english_left(markup: str) -> list[str]:
    """The English phrases and words a page still shows in its own language (`<html lang>`)."""
    language = re.search(r'<html lang="([^"]+)"', markup).group(1)  # type: ignore[union-attr]
    text = page_text(markup)
    found = [phrase for phrase in english_phrases() if phrase in text and phrase not in same_in(language)]
    found += [
        word
        for word in ENGLISH_WORDS
        if word not in same_in(language) and re.search(rf"(?<![\w-]){word}(?![\w-])", text)
    ]
    return found
