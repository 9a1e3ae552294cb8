"""Signing a reader in: the site's token exchanged for a session of ours, in one transaction."""

from __future__ import annotations

from datetime import datetime

from engagement import clock
from engagement.extensions import db
from engagement.models import SiteRef
from engagement.sso import sessions
from engagement.sso.tokens import Identity, verify_site_token


def open_session(site: SiteRef, token: str) -> tuple[str, datetime, Identity]:
    """A session for the reader the site's token vouches for; the token's ``jti`` is spent for good."""
    verified = verify_site_token(site, token, clock.now())
    db.session.commit()  # the jti is spent before the session is answered: a replay finds it
    session, expires = sessions.issue(site, verified.identity, verified.kid)
    return session, expires, verified.identity
