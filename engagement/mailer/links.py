"""Signed links in mail: confirm an address, unsubscribe, moderate a held comment.

Nothing is stored for a link until it is used: its claims are signed (itsdangerous, one salt per purpose,
so a confirmation link never works as a moderation link) and carry the time they were made. Every link
opens a small confirmation page; only the POST its button sends acts, so a mail scanner that follows
links changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired

from engagement.config import public_base_url
from engagement.errors import ApiError, BadRequest
from engagement.hashing import keyed_hash
from engagement.signing import serializer


@dataclass(frozen=True)
class LinkPurpose:
    salt: str
    endpoint: str
    max_age: timedelta | None  # None: the link works for as long as the secret key is unchanged


class LinkExpired(ApiError):
    status = 410

    def __init__(self) -> None:
        super().__init__("link_expired", "This link has expired.")


def sign(purpose: LinkPurpose, claims: dict[str, Any]) -> str:
    """A token carrying ``claims`` for one purpose."""
    return serializer(purpose.salt).dumps(claims)


def verify(purpose: LinkPurpose, token: str) -> dict[str, Any]:
    """The claims of a token made for ``purpose``: 400 ``invalid_link``, 410 ``link_expired``."""
    max_age = int(purpose.max_age.total_seconds()) if purpose.max_age else None
    try:
        claims = serializer(purpose.salt).loads(token, max_age=max_age)
    except SignatureExpired:
        raise LinkExpired() from None
    except BadSignature:
        raise invalid_link() from None
    if not isinstance(claims, dict):
        raise invalid_link()
    return claims


def invalid_link() -> BadRequest:
    return BadRequest("invalid_link", "This link is not valid; copy it again from the email.")


def address_tag(email: str) -> str:
    """Names an address inside a link without putting it in the URL (links end up in logs and history)."""
    return keyed_hash("mail-link", email.lower())[:24]


def link_url(purpose: LinkPurpose, claims: dict[str, Any]) -> str:
    """The absolute URL of a signed link, under ``ENGAGEMENT_PUBLIC_URL`` (never the request's host)."""
    path = current_app.url_map.bind("localhost").build(purpose.endpoint, {"token": sign(purpose, claims)})
    return public_base_url() + path
