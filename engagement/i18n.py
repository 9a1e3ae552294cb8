"""Languages on the server: the widget's own translation table, with Babel's CLDR data for plurals,
numbers, relative times and text direction, so a server-rendered thread says exactly what the widget
would say in the same language.

Two tables of the same shape (language -> key -> text; a plural message maps CLDR plural categories to
text, ``other`` being the fallback): the widget's, ``engagement/static/widget/messages.json``, the one
source its build reads too, and the mail's, ``engagement/templates/mail/messages.json``, for the mail
readers get and the pages its links open. Both hold the same languages (a test says so).
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
MAIL_MESSAGES_PATH = Path(__file__).resolve().parent / "templates" / "mail" / "messages.json"
_TABLES = {"widget": MESSAGES_PATH, "mail": MAIL_MESSAGES_PATH}
DEFAULT_LANGUAGE = "en"
LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8}){0,6}\Z")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@cache
def _table(name: str = "widget") -> dict[str, dict[str, Any]]:
    with _TABLES[name].open(encoding="utf-8") as source:
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

    def __init__(self, language: str, table: str = "widget") -> None:
        self.language = language if language in _table(table) else DEFAULT_LANGUAGE
        self._texts = _table(table)[self.language]
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
    """The widget's texts in ``language`` (server-rendered threads)."""
    return Translator(language)


@cache
def mail_translator(language: str | None) -> Translator:
    """The mail's texts in ``language`` (None or unknown: English)."""
    return Translator(language or DEFAULT_LANGUAGE, "mail")
