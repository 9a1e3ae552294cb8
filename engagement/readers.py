"""Anonymous readers: a random id the widget keeps in localStorage, sent as ``X-Engagement-Reader``."""

from __future__ import annotations

import re

from flask import request

from engagement.errors import BadRequest
from engagement.hashing import reader_hash

READER_HEADER = "X-Engagement-Reader"
_READER_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def optional_reader() -> str | None:
    """The hashed reader id when the header is present and well-formed; None when absent."""
    raw = request.headers.get(READER_HEADER)
    if raw is None:
        return None
    if not _READER_ID.match(raw):
        raise BadRequest("invalid_reader", f"{READER_HEADER} must be 16-64 letters, digits, '-' or '_'.")
    return reader_hash(raw)


def required_reader() -> str:
    """The hashed reader id; 400 ``missing_reader`` without the header."""
    reader = optional_reader()
    if reader is None:
        raise BadRequest("missing_reader", f"Send the {READER_HEADER} header.")
    return reader


SESSION_HEADER = "X-Engagement-Session"
MAX_SESSION_LENGTH = 4096


def session_header() -> str | None:
    """A signed-in reader's session token as sent (``X-Engagement-Session``), or None; verifying it is
    single sign-on's (``engagement.sso.sessions``). Posting asks only whether one was sent: a signed-in
    reader's name and email come from their session, not from the form."""
    raw = request.headers.get(SESSION_HEADER, "").strip()
    if not raw:
        return None
    if len(raw) > MAX_SESSION_LENGTH:
        raise BadRequest("invalid_session", f"{SESSION_HEADER} is too long.")
    return raw
