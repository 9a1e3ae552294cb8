"""Signed edit tokens (itsdangerous): the commenter's proof of authorship for the edit window.

Nothing is stored server-side. The signature's timestamp comes from the app clock, so tests move time
instead of sleeping.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from engagement import clock
from engagement.errors import Forbidden
from engagement.signing import serializer

_SALT = "engagement.comment-edit"


def _serializer() -> URLSafeTimedSerializer:
    return serializer(_SALT)


def issue_edit_token(*, comment_id: int, site_id: int, window_seconds: int) -> tuple[str, datetime]:
    """A token for one comment and when it stops working."""
    token = _serializer().dumps({"c": comment_id, "s": site_id})
    return token, clock.now() + timedelta(seconds=window_seconds)


def check_edit_token(
    authorization: str | None, *, comment_id: int, site_id: int, window_seconds: int
) -> None:
    """403 ``invalid_edit_token`` (missing, forged, foreign) or ``edit_window_expired`` (too late)."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Forbidden(
            "invalid_edit_token", "Send Authorization: Bearer <edit_token> from the post response."
        )
    try:
        claims = _serializer().loads(token.strip(), max_age=window_seconds)
    except SignatureExpired:
        raise Forbidden("edit_window_expired", "This comment can no longer be edited or deleted.") from None
    except BadSignature:
        raise Forbidden("invalid_edit_token", "The edit token is not valid for this comment.") from None
    if not isinstance(claims, dict) or claims.get("c") != comment_id or claims.get("s") != site_id:
        raise Forbidden("invalid_edit_token", "The edit token is not valid for this comment.")
