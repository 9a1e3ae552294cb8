"""The console's forms: what each accepts, and where a redirect after signing in may go."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from engagement.fields import AuthorEmail

HOME = "/console"
_CONTROL = re.compile(r"[\x00-\x20\x7f-\x9f]")


class SignInForm(Schema):
    """Either an address (a link is mailed) or a pasted API token. The forms' other fields (the CSRF
    token, ``next``) are read where they are used."""

    class Meta:
        unknown = EXCLUDE  # a browser sends the submit button and the hidden fields too

    email = AuthorEmail(load_default=None)
    token = fields.String(load_default="", validate=validate.Length(max=200, error="This is not a token."))

    @validates_schema
    def one_of_them(self, data: dict[str, Any], **_: Any) -> None:
        if not data.get("email") and not data.get("token", "").strip():
            raise ValidationError("Enter your email address, or paste an API token.", "email")


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a console path on this site, else the console's home. Anything else
    (``//evil.example``, ``https://evil.example``, ``/\\evil.example``, another part of the service) would
    make the sign-in page an open redirect."""
    if not value or len(value) > 2000 or "\\" in value or _CONTROL.search(value):
        return HOME
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not (parts.path == HOME or parts.path.startswith(HOME + "/")):
        return HOME
    return value
