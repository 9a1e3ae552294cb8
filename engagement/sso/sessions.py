"""A signed-in reader's session: what the widget gets for the site's token and sends with each post.

A session token is signed with the service's secret (itsdangerous, its own salt) and names the site,
the key that vouched for the reader, the reader's identity and its expiry (``SSO_SESSION_SECONDS``).
It is not a cookie: the widget keeps it in the page's sessionStorage and sends it as
``X-Engagement-Session``, so no other page can use it in the reader's name. It stops working when it
expires, when its key is deleted or retired, and on any other site.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from flask import current_app
from itsdangerous import BadSignature

from engagement import clock
from engagement.http import per_request
from engagement.models import SiteRef
from engagement.readers import session_header
from engagement.signing import serializer
from engagement.sso.keys import usable_keys
from engagement.sso.tokens import Identity, SsoRefused

_SALT = "engagement.sso-session.v1"


@dataclass(frozen=True, slots=True)
class ReaderSession:
    site_id: int
    kid: str
    identity: Identity
    expires_at: datetime

    @property
    def sub(self) -> str:
        return self.identity.sub


def issue(site: SiteRef, identity: Identity, kid: str) -> tuple[str, datetime]:
    """A session token for the reader and when it expires."""
    expires = clock.now() + timedelta(seconds=current_app.config["SSO_SESSION_SECONDS"])
    claims = {"s": site.id, "k": kid, "i": asdict(identity), "x": int(expires.timestamp())}
    return serializer(_SALT).dumps(claims), expires


def verify(site: SiteRef, token: str) -> ReaderSession:
    """The session a token carries; 401 ``sso_session_invalid`` or ``sso_session_expired``."""
    try:
        claims = serializer(_SALT).loads(token)
    except BadSignature:
        raise _invalid() from None
    if not isinstance(claims, dict) or claims.get("s") != site.id or type(claims.get("x")) is not int:
        raise _invalid()
    now = clock.now()
    if now.timestamp() >= claims["x"]:
        raise SsoRefused("sso_session_expired", "Your sign-in has expired: sign in again.")
    kid = claims.get("k")
    if not any(key.kid == kid for key in usable_keys(site.id, now)):
        raise SsoRefused("sso_session_expired", "Your sign-in has expired: sign in again.")
    try:
        identity = Identity(**claims["i"])
    except (TypeError, KeyError):
        raise _invalid() from None
    return ReaderSession(
        site_id=site.id,
        kid=kid,
        identity=identity,
        expires_at=datetime.fromtimestamp(claims["x"], now.tzinfo),
    )


def current_session(site: SiteRef) -> ReaderSession | None:
    """The request's reader session (``X-Engagement-Session``); None without one, 401 for a bad one."""
    raw = session_header()
    if raw is None:
        return None
    return per_request(f"sso-session:{site.id}", lambda: verify(site, raw))


def _invalid() -> SsoRefused:
    return SsoRefused("sso_session_invalid", "The sign-in session is not valid here: sign in again.")
