"""Verifying the token a site's backend signs for its signed-in reader (a JWT, through PyJWT).

What a token must be: signed by one of the site's usable keys (named by ``kid``; a site with one usable
key may leave it out) with that key's algorithm and no other (so never ``none``, never an HS256
signature made with a public key as its secret); ``aud`` the site's slug; ``iat`` and ``exp`` at most
10 minutes apart, within 60 seconds of the service's clock; a ``jti`` never seen before (it is kept
until the token expires); and a user id: ``sub``, or Coral's ``user.id``. ``name``, ``email``, ``url``
and ``avatar`` (or Coral's ``user.username`` and ``user.email``) are optional and pass the same checks
as the comment form's fields. An avatar shows only when it is on one of the site's origins: the widget
loads nothing from anywhere else.

Every refusal is a 401 with a code of its own (``sso_bad_signature``, ``sso_token_expired``...), so a
site's developers can tell what to fix; none says more than the token's sender already knows.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import jwt
from marshmallow import ValidationError
from sqlalchemy import delete

from engagement.database import insert_if_absent
from engagement.errors import ApiError, Forbidden
from engagement.extensions import db
from engagement.fields import AuthorEmail, AuthorName, WebUrl
from engagement.models import SSO_ID_LENGTH, SiteRef, UsedSsoToken
from engagement.sso.keys import VerificationKey, usable_keys

CLOCK_SKEW = timedelta(seconds=60)
MAX_LIFETIME = timedelta(minutes=10)
MAX_TOKEN_LENGTH = 8192
MAX_JTI_LENGTH = 255


class SsoRefused(ApiError):
    """401: the token (or session) does not sign anyone in; the code says why."""

    status = 401


@dataclass(frozen=True, slots=True)
class Identity:
    """A signed-in reader as the site vouches for them."""

    sub: str
    name: str | None = None
    email: str | None = None
    url: str | None = None
    avatar: str | None = None


@dataclass(frozen=True, slots=True)
class VerifiedToken:
    identity: Identity
    kid: str


def verify_site_token(site: SiteRef, token: str, now: datetime) -> VerifiedToken:
    """The reader a site's token vouches for; its ``jti`` is spent in the caller's transaction."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise SsoRefused("sso_invalid_token", "The sign-in token is not a JWT the site signed.")
    key = _signing_key(site, token, now)
    try:
        claims = jwt.decode(
            token,
            key.key,
            algorithms=[key.algorithm],
            audience=site.slug,
            # Times are checked below against the service's clock (tests move it), types included.
            options={"verify_exp": False, "verify_iat": False, "verify_nbf": False, "require": ["aud"]},
        )
    except jwt.InvalidAudienceError:
        raise SsoRefused(
            "sso_wrong_audience", f"The token's aud must be this site's slug, {site.slug!r}."
        ) from None
    except jwt.MissingRequiredClaimError:
        raise SsoRefused("sso_missing_claim", "The token must name this site in aud.") from None
    except jwt.InvalidSignatureError:
        raise SsoRefused(
            "sso_bad_signature", "The token's signature does not verify with the site's key."
        ) from None
    except jwt.InvalidTokenError:
        raise SsoRefused("sso_invalid_token", "The sign-in token is not a JWT the site signed.") from None
    expires = _check_times(claims, now)
    jti = claims.get("jti")
    if not isinstance(jti, str) or not 0 < len(jti) <= MAX_JTI_LENGTH:
        raise SsoRefused("sso_missing_claim", "The token needs a jti: a unique id, used once.")
    identity = _identity(site, claims)
    _spend(site.id, jti, expires, now)
    return VerifiedToken(identity=identity, kid=key.kid)


def _signing_key(site: SiteRef, token: str, now: datetime) -> VerificationKey:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError:
        raise SsoRefused("sso_invalid_token", "The sign-in token is not a JWT the site signed.") from None
    keys = usable_keys(site.id, now)
    if not keys:
        raise Forbidden("sso_not_configured", "This site has no single sign-on key.")
    kid = header.get("kid")
    if kid is None and len(keys) == 1:
        key = keys[0]
    else:
        key = next((k for k in keys if isinstance(kid, str) and k.kid == kid), None)
        if key is None:
            raise SsoRefused(
                "sso_unknown_key",
                "The token's kid names none of the site's keys in use." if kid else "Name the key: send kid.",
            )
    if header.get("alg") != key.algorithm:
        raise SsoRefused("sso_wrong_algorithm", f"This key verifies {key.algorithm} signatures only.")
    return key


def _timestamp(claims: dict[str, Any], name: str) -> datetime:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SsoRefused("sso_missing_claim", f"The token needs {name}, in seconds since 1970.")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        raise SsoRefused("sso_invalid_token", f"The token's {name} is not a time.") from None


def _check_times(claims: dict[str, Any], now: datetime) -> datetime:
    issued = _timestamp(claims, "iat")
    expires = _timestamp(claims, "exp")
    if issued > now + CLOCK_SKEW or ("nbf" in claims and _timestamp(claims, "nbf") > now + CLOCK_SKEW):
        raise SsoRefused(
            "sso_token_not_yet_valid", "The token is issued in the future: check the site's clock."
        )
    if expires <= now - CLOCK_SKEW:
        raise SsoRefused("sso_token_expired", "The sign-in token has expired: sign a new one.")
    if expires - issued > MAX_LIFETIME:
        raise SsoRefused("sso_token_too_long", "A sign-in token may live at most 10 minutes (exp - iat).")
    return expires


def _identity(site: SiteRef, claims: dict[str, Any]) -> Identity:
    coral = claims.get("user") if isinstance(claims.get("user"), dict) else {}
    sub = claims.get("sub", coral.get("id"))
    if isinstance(sub, int) and not isinstance(sub, bool):
        sub = str(sub)
    if not isinstance(sub, str) or not sub.strip() or len(sub) > SSO_ID_LENGTH or not sub.isprintable():
        raise SsoRefused(
            "sso_missing_claim", f"The token needs sub: the reader's id, 1-{SSO_ID_LENGTH} characters."
        )
    errors: dict[str, list[str]] = {}

    def checked(name: str, field: Any, value: Any) -> Any:
        if value is None or value == "":
            return None
        try:
            return field.deserialize(value)
        except ValidationError as error:
            errors[name] = list(error.messages) if isinstance(error.messages, list) else [str(error.messages)]
            return None

    name = checked("name", AuthorName(), claims.get("name", coral.get("username", coral.get("name"))))
    email = checked("email", AuthorEmail(), claims.get("email", coral.get("email")))
    url = checked("url", WebUrl(max_length=200), claims.get("url", coral.get("url")))
    avatar = checked("avatar", WebUrl(max_length=1000), claims.get("avatar", coral.get("avatar")))
    if errors:
        raise SsoRefused("sso_invalid_claims", "Some of the token's claims are not valid.", fields=errors)
    if avatar is not None:
        parts = urlsplit(avatar)
        if (
            parts.scheme != "https"
            or not site.allows_origin(f"{parts.scheme}://{parts.netloc}")
            or not site.origins
        ):
            avatar = None  # only an image on the site's own origins: the widget loads nothing from elsewhere
    return Identity(sub=sub.strip(), name=name, email=email, url=url, avatar=avatar)


def _spend(site_id: int, jti: str, expires: datetime, now: datetime) -> None:
    """Record the token's ``jti`` until it expires; a second exchange of it is refused as a replay."""
    db.session.execute(delete(UsedSsoToken).where(UsedSsoToken.expires_at < now))
    spent = insert_if_absent(
        UsedSsoToken.__table__,
        {
            "site_id": site_id,
            "jti_digest": hashlib.sha256(jti.encode()).hexdigest(),
            "expires_at": expires + CLOCK_SKEW,
        },
        conflict_columns=["site_id", "jti_digest"],
    )
    if not spent:
        raise SsoRefused(
            "sso_token_replayed", "This sign-in token was used already: sign a new one for each page."
        )
