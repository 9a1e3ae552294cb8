"""Edit tokens: the commenter's proof of authorship for the edit window.

A token is signed (itsdangerous) and carries the comment's id, its site, when it stops working and a
random key made for that one comment. Only a SHA-256 of the key is stored, on the comment: an id alone
proves nothing, so a token can never act on another comment that happens to get the same id (a reused
SQLite id, a restore), and a comment with no stored key (imported, erased) takes no token at all. The
expiry is the one the poster was told when the token was issued; widening the site's edit window later
does not revive it. The signature's timestamp comes from the app clock, so tests move time instead of
sleeping.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadSignature, URLSafeTimedSerializer

from engagement import clock
from engagement.errors import Forbidden
from engagement.signing import serializer

# A new salt: tokens of the earlier format (id and site only) no longer verify at all.
_SALT = "engagement.comment-edit.v2"


@dataclass(frozen=True)
class EditKey:
    """A new comment's edit key: ``secret`` goes into its token, ``digest`` onto the comment."""

    secret: str
    digest: str


def new_edit_key() -> EditKey:
    """A random key for one new comment."""
    secret = secrets.token_urlsafe(16)
    return EditKey(secret=secret, digest=_digest(secret))


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _serializer() -> URLSafeTimedSerializer:
    return serializer(_SALT)


def issue_edit_token(
    *, comment_id: int, site_id: int, key: EditKey, window_seconds: int
) -> tuple[str, datetime]:
    """A token for one comment and when it stops working."""
    expires = clock.now() + timedelta(seconds=window_seconds)
    claims = {"c": comment_id, "s": site_id, "k": key.secret, "x": int(expires.timestamp())}
    return _serializer().dumps(claims), expires


def check_edit_token(
    authorization: str | None, *, comment_id: int, site_id: int, key_digest: str | None
) -> None:
    """403 ``invalid_edit_token`` (missing, forged, foreign, another comment's) or ``edit_window_expired``."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Forbidden(
            "invalid_edit_token", "Send Authorization: Bearer <edit_token> from the post response."
        )
    try:
        claims = _serializer().loads(token.strip())
    except BadSignature:
        raise _invalid() from None
    if (
        not isinstance(claims, dict)
        or claims.get("c") != comment_id
        or claims.get("s") != site_id
        or not isinstance(claims.get("k"), str)
        or type(claims.get("x")) is not int
        or key_digest is None
        or not hmac.compare_digest(_digest(claims["k"]), key_digest)
    ):
        raise _invalid()
    if clock.now().timestamp() >= claims["x"]:
        raise Forbidden("edit_window_expired", "This comment can no longer be edited or deleted.")


def _invalid() -> Forbidden:
    return Forbidden("invalid_edit_token", "The edit token is not valid for this comment.")
