"""Languages on the server: the widget's own translation table, with Babel's CLDR data for plurals,
numbers, relative times and text direction, so a server-rendered thread says exactly what the widget
would say in the same language.

The table is ``engagement/static/widget/messages.json`` (language -> key -> text; a plural message maps
CLDR plural categories to text, ``other`` being the fallback), the one source the widget's build reads too.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_timedelta
from babel.numbers import format_compact_decimal, format_decimal

from engagement import clock

MESSAGES_PATH = Path(__file__).resolve().parent / "static" / "widget" / "messages.json"
DEFAULT_LANGUAGE = "en"
LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8}){0,6}\Z")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@cache
def _table() -> dict[str, dict[str, Any]]:
    with MESSAGES_PATH.open(encoding="utf-8") as source:
        table: dict[str, dict[str, Any]] = json.load(source)
    return table


LANGUAGES: tuple[str, ...] = tuple(_table())


def negotiate(*candidates: str | None) -> str:
    """The first candidate (a language tag such as ``pt-BR``, or an Accept-Language header's first tag)
    whose language the table has, else English."""
    for candidate in candidates:
        tag = (candidate or "").split(",")[0].split(";")[0].strip()
        if LANGUAGE_TAG.match(tag):
            language = tag.replace("_", "-").split("-")[0].lower()
            if language in _table():
                return language
    return DEFAULT_LANGUAGE


@cache
def _locale(language: str) -> Locale:
    try:
        return Locale.parse(language)
    except (UnknownLocaleError, ValueError):
        return Locale.parse(DEFAULT_LANGUAGE)


class Translator:
    """One language's texts and formats: ``t(key, n=3)``, ``num(n)``, ``ago(when)``, ``dir``."""

    def __init__(self, language: str) -> None:
        self.language = language if language in _table() else DEFAULT_LANGUAGE
        self._texts = _table()[self.language]
        self._locale = _locale(self.language)
        self.dir = "rtl" if self._locale.character_order == "right-to-left" else "ltr"

    def num(self, n: int) -> str:
        """A number as the widget formats it: in full, compact above 10,000."""
        if abs(n) > 10_000:
            return format_compact_decimal(n, locale=self._locale, fraction_digits=1)
        return format_decimal(n, locale=self._locale)

    def t(self, key: str, **values: Any) -> str:
        text = self._texts[key]
        if isinstance(text, dict):
            text = text.get(self._locale.plural_form(values.get("n", 0)), text["other"])
        return _PLACEHOLDER.sub(
            lambda m: self.num(values["n"]) if m[1] == "n" else str(values.get(m[1], m[0])), text
        )

    def date(self, iso: str) -> str:
        """A date as the language writes it (``5 Dec 2026``): stable, so cached pages stay right."""
        return format_date(datetime.fromisoformat(iso), format="medium", locale=self._locale)

    def ago(self, when: datetime) -> str:
        return format_timedelta(when - clock.now(), add_direction=True, locale=self._locale, threshold=1)


@cache
def translator(language: str) -> Translator:
    return Translator(language)
