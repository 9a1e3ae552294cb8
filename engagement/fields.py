"""Field types every API validates with the same rules: who wrote a comment, what it says, which thread,
which site and target, times and pages. Every message here is shown to a reader or staff member next to
the field."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from marshmallow import Schema, fields, validate

from engagement.clock import isoformat_z
from engagement.i18n import LANGUAGE_TAG, negotiate
from engagement.models.counters import TARGET_LENGTH

SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{0,63}$"
SLUG = validate.Regexp(SLUG_PATTERN, error="Use 1-64 lowercase letters, digits and dashes.")
DEFAULT_TARGET = "site"

_TAG = re.compile(r"<\s*/?\s*[A-Za-z!?]")
# Control characters other than tab, newline and carriage return (C0, DEL, C1).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_LINE_BREAKS = re.compile(r"\r\n?")
# What a one-line text (a name, a title) may not hold: every control character, tab and line breaks included,
# the Unicode line and paragraph separators (a mail header refuses them as it refuses a newline: a reply's
# notification was lost), and the bidi embeddings, overrides and isolates, which turn the rest of a mail's
# subject or a plain-text line around ("Reply from Ann\u202e..."). The bidi marks (LRM, RLM, ALM) and the
# joiners some scripts spell names with stay.
_NOT_ONE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def is_one_line(text: str) -> bool:
    """Whether ``text`` holds none of ``_NOT_ONE_LINE``: the rule of every name and title a person types."""
    return _NOT_ONE_LINE.search(text) is None


def _is_invisible(char: str) -> bool:
    # Whitespace, format characters (zero-width space/joiners, bidi marks) and the Hangul fillers.
    return char.isspace() or unicodedata.category(char) == "Cf" or char in "\u115f\u1160\u3164\uffa0"


class AuthorName(fields.String):
    """Trimmed, NFC-normalised; 1-245 characters of one line (``_NOT_ONE_LINE``), no markup, not blank."""

    default_error_messages = {
        "required": "Please enter your name.",
        "blank": "Please enter your name.",
        "too_long": "Your name can be at most 245 characters.",
        "control": "Your name contains characters that are not allowed.",
        "markup": "Your name cannot contain HTML tags.",
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        name = unicodedata.normalize("NFC", super()._deserialize(value, attr, data, **kwargs)).strip()
        if not name or all(_is_invisible(c) for c in name):
            raise self.make_error("blank")
        if not is_one_line(name):
            raise self.make_error("control")
        if _TAG.search(name):
            raise self.make_error("markup")
        if len(name) > 245:
            raise self.make_error("too_long")
        return name


class AuthorEmail(fields.String):
    """Syntax-checked (no DNS), normalised by email-validator and lower-cased; at most 100 characters.

    Lower-cased whole: every rule (flood, duplicates, first-time approval, bans) and every privacy
    request compares addresses, and ``Ada@x.org`` is ``ada@x.org`` at every real mail provider."""

    default_error_messages = {
        "required": "Please enter your email address.",
        "invalid_email": "Please enter a valid email address.",
        "too_long": "Your email address can be at most 100 characters.",
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        raw = super()._deserialize(value, attr, data, **kwargs).strip()
        if not raw:
            raise self.make_error("required")
        if len(raw) > 100:
            raise self.make_error("too_long")
        try:
            normalized = validate_email(raw, check_deliverability=False).normalized
        except EmailNotValidError:
            raise self.make_error("invalid_email") from None
        if len(normalized) > 100:
            raise self.make_error("too_long")
        return normalized.lower()


class WebUrl(fields.String):
    """An http(s) URL; a bare domain gets ``https://``. Empty means none."""

    default_error_messages = {
        "invalid_url": "Please enter a web address starting with http:// or https://.",
        "too_long": "The web address can be at most {max} characters.",
    }

    def __init__(self, *, max_length: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_length = max_length

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str | None:
        url = super()._deserialize(value, attr, data, **kwargs).strip()
        if not url:
            return None
        if "://" not in url and re.match(r"^[A-Za-z0-9.-]+\.[A-Za-z]{2,}(?:[/:?#]|$)", url):
            url = "https://" + url
        if len(url) > self.max_length:
            raise self.make_error("too_long", max=self.max_length)
        if _CONTROL.search(url) or any(c.isspace() for c in url):
            raise self.make_error("invalid_url")
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 (raises ValueError on a malformed port)
        except ValueError:
            raise self.make_error("invalid_url") from None
        if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
            raise self.make_error("invalid_url")
        return url


class CommentBody(fields.String):
    """The raw Markdown text: not blank. Its per-site length limit is a rule of the service."""

    default_error_messages = {
        "required": "Please enter your comment.",
        "blank": "Please enter your comment.",
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        body = _CONTROL.sub("", _LINE_BREAKS.sub("\n", super()._deserialize(value, attr, data, **kwargs)))
        body = unicodedata.normalize("NFC", body).strip()
        if not body or all(_is_invisible(c) for c in body):
            raise self.make_error("blank")
        return body


class ThreadTitle(fields.String):
    """The article's title, as plain text: trimmed, NFC, at most 300 characters, no control characters
    (a line break or a bell in a title broke every feed and mail subject that showed it). Markup is kept
    as text: titles are escaped wherever they are shown, and a reader cannot fix the page's title."""

    default_error_messages = {
        "control": "The article title contains characters that are not allowed.",
        "too_long": "The article title can be at most 300 characters.",
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        title = unicodedata.normalize("NFC", super()._deserialize(value, attr, data, **kwargs)).strip()
        if not is_one_line(title):
            raise self.make_error("control")
        if len(title) > 300:
            raise self.make_error("too_long")
        return title


class SiteName(fields.String):
    """A site's name, as mail (its sender's name), pages and the console show it: trimmed, 1-200 characters
    of one line (a line break in it made every mail of the site fail to build)."""

    default_error_messages = {
        "blank": "Enter the site's name.",
        "control": "The site's name must be one line, without control characters.",
        "too_long": "The site's name can be at most 200 characters.",
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        name = unicodedata.normalize("NFC", super()._deserialize(value, attr, data, **kwargs)).strip()
        if not name:
            raise self.make_error("blank")
        if not is_one_line(name):
            raise self.make_error("control")
        if len(name) > 200:
            raise self.make_error("too_long")
        return name


class ThreadKey(fields.String):
    """A thread's key: usually the article's path. 1-512 printable characters."""

    default_error_messages = {"invalid_key": "The thread key must be 1-512 printable characters."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        key = super()._deserialize(value, attr, data, **kwargs).strip()
        if not _is_thread_key(key):
            raise self.make_error("invalid_key")
        return key


def _is_thread_key(key: str) -> bool:
    return bool(key) and len(key) <= 512 and not _CONTROL.search(key) and "\n" not in key


class ThreadKeys(fields.List):
    """Thread keys, as an article list asks counts for them. A valid list (nearly every request) is
    checked in one loop: marshmallow's per-item machinery costs more than the check itself for 100 keys.
    Anything else goes through it, for the usual per-item errors."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(ThreadKey(), **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[str]:
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            keys = [item.strip() for item in value]
            if all(_is_thread_key(key) for key in keys):
                return keys
        return super()._deserialize(value, attr, data, **kwargs)


_SLUG = r"[a-z0-9][a-z0-9_-]*"


def target_field() -> fields.String:
    """The ``target`` parameter: a short slug, ``site`` when absent."""
    return fields.String(
        load_default=DEFAULT_TARGET,
        validate=[
            validate.Length(max=TARGET_LENGTH),
            validate.Regexp(
                rf"^{_SLUG}(:{_SLUG})?$",
                error="Use lowercase letters, digits, '-' and '_', with one optional 'prefix:' "
                "(site, author:jane-doe, section:world).",
            ),
        ],
        metadata={"description": "What is counted: `site` (default), `author:jane-doe`, `section:world`..."},
    )


class UtcTimestamp(fields.AwareDateTime):
    """ISO 8601 in UTC with ``Z`` on the way out; a time without an offset is read as UTC."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(default_timezone=UTC, **kwargs)

    def _serialize(self, value: datetime | None, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return isoformat_z(value)


class Origin(fields.String):
    """``scheme://host[:port]`` of a page allowed to embed the widget."""

    default_error_messages = {"invalid_origin": "Give an origin such as https://news.example (no path)."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        origin = super()._deserialize(value, attr, data, **kwargs).strip().rstrip("/")
        try:
            parts = urlsplit(origin)
            parts.port  # noqa: B018 (raises on a malformed port)
        except ValueError:
            raise self.make_error("invalid_origin") from None
        if parts.scheme not in {"http", "https"} or not parts.hostname or parts.path or parts.query:
            raise self.make_error("invalid_origin")
        return origin


class Page(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.String(load_default=None, validate=validate.Length(max=200))


def listing_schema(name: str, item: type[Schema]) -> type[Schema]:
    """The answer of a staff listing, ``{"items": [item, ...], "next_cursor"}`` (a keyset page; null at
    the end), as a schema class called ``name`` (its name in the OpenAPI document)."""
    return Schema.from_dict(
        {"items": fields.List(fields.Nested(item)), "next_cursor": fields.String(allow_none=True)}, name=name
    )


class Language(fields.String):
    """A reader's language as a BCP 47 tag (``pt-BR``), answered as the language the service speaks
    closest to it (``pt``), or English. A value that is not a language tag at all is refused."""

    default_error_messages = {"invalid_language": "Send a language tag such as en, fr or pt-BR."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        tag = super()._deserialize(value, attr, data, **kwargs)
        if not LANGUAGE_TAG.match(tag):
            raise self.make_error("invalid_language")
        return negotiate(tag)
