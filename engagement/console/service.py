"""Signing in to the staff console: one-time links, pasted tokens, and the sessions they open.

Every secret (a session's cookie, a link) is 256 random bits handed out once; only its SHA-256 is kept, so
a copy of the database opens nothing. A session acts as its member, or (signed in with a machine's
standalone token) as that token, with the same role and sites the permission checks already know; it ends
when signed out or revoked, when its member or token is revoked, or after ``IDLE_TIMEOUT`` without a
request. Asking for a link by address only records the request: the mail process looks the address up
(``answer_sign_in_requests``), so neither the page's answer nor its timing tells a member from a stranger.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from flask import current_app
from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import OperationalError

from engagement import clock
from engagement.config import public_base_url
from engagement.errors import BadRequest, NotFound, Unauthorized
from engagement.extensions import db
from engagement.hashing import ip_hash, keyed_hash
from engagement.mailer.links import LinkExpired
from engagement.mailer.outbox import enqueue_email
from engagement.models import ConsoleSession, SignInLink, SignInRequest, StaffMember, StaffToken
from engagement.rate_limits import within_limit
from engagement.staff.members import live_member
from engagement.staff.service import hash_token, live_token

IDLE_TIMEOUT = timedelta(hours=12)
LINK_LIFETIME = timedelta(minutes=15)
# Recording every request would turn every page view into a write; once a minute is precise enough.
SEEN_PRECISION = timedelta(minutes=1)
# Longer than any secret handed out: anything longer is not one, and is not hashed.
MAX_SECRET_LENGTH = 200
USER_AGENT_LENGTH = ConsoleSession.__table__.c.user_agent.type.length
LINK_ENDPOINT = "console.follow_link"

# A principal: what the moderation services take as ``token`` (role, sites, is_admin, may_access, label).
Principal = StaffMember | StaffToken
Row = TypeVar("Row", ConsoleSession, SignInLink)


@dataclass(frozen=True)
class Browser:
    """Who is signing in, as far as the session list shows it."""

    ip: str | None
    user_agent: str


@dataclass(frozen=True)
class SignedIn:
    """A new session and the secret for its cookie (never stored, never shown again)."""

    session: ConsoleSession
    secret: str


# --- links by mail -----------------------------------------------------------------------------------


def request_sign_in_link(*, email: str) -> None:
    """Record a request for a link to ``email`` (already normalized); the mail process answers it.

    The same statements for every address, and nothing looked up: a member and a stranger get the same
    answer in the same time. Above ``RATELIMIT_MAIL_ADDRESS`` for the address, nothing is recorded.
    """
    if not within_limit(
        "RATELIMIT_MAIL_ADDRESS", scope="console-sign-in", key=keyed_hash("console-sign-in", email)
    ):
        return
    db.session.add(SignInRequest(email=email, created_at=clock.now()))
    db.session.commit()


def answer_sign_in_requests(*, limit: int = 100) -> int:
    """Mail a link for each waiting request whose address is a live member's, forget every request looked
    at (a stranger's address is not kept), and drop links that can no longer be used. Run by the mail
    process before each delivery batch. Returns how many requests were looked at."""
    now = clock.now()
    db.session.execute(delete(SignInLink).where(SignInLink.created_at < now - LINK_LIFETIME))
    waiting = db.session.scalars(
        select(SignInRequest)
        .order_by(SignInRequest.id)
        .limit(limit)
        .with_for_update(skip_locked=True)  # several mail processes: each answers its own
    ).all()
    for sign_in_request in waiting:
        member = live_member(sign_in_request.email)
        # A request older than a link's lifetime was waiting for a mail process that was not running.
        if member is not None and sign_in_request.created_at > now - LINK_LIFETIME:
            enqueue_email(
                to=member.email,
                subject="Sign in to the staff console",
                template="console_sign_in",
                context={
                    "display_name": member.display_name,
                    "link_url": _new_link(member),
                    "minutes": int(LINK_LIFETIME.total_seconds() // 60),
                },
            )
        db.session.delete(sign_in_request)
    db.session.commit()
    return len(waiting)


def issue_sign_in_link(*, email: str) -> str:
    """A one-time sign-in link for a live member, to hand over directly (the CLI; ``make run``)."""
    member = live_member(email)
    if member is None:
        raise NotFound("member_not_found", f"There is no live member {email!r}.")
    url = _new_link(member)
    db.session.commit()
    return url


def _new_link(member: StaffMember) -> str:
    secret = secrets.token_urlsafe(32)
    db.session.add(SignInLink(member=member, secret_hash=hash_token(secret), created_at=clock.now()))
    path = current_app.url_map.bind("localhost").build(LINK_ENDPOINT, {"token": secret})
    return public_base_url() + path


# --- signing in --------------------------------------------------------------------------------------


def sign_in_with_link(*, secret: str, browser: Browser) -> SignedIn:
    """Use a link once: 400 ``invalid_link`` for one never made, 410 ``link_expired`` for one used,
    older than ``LINK_LIFETIME`` or of a member since revoked."""
    link = _row_by_secret(SignInLink, secret)
    if link is None:
        raise BadRequest("invalid_link", "This sign-in link is not valid; copy it again from the email.")
    now = clock.now()
    if link.created_at <= now - LINK_LIFETIME or link.member.revoked_at is not None:
        raise LinkExpired()
    # One statement decides who uses it, so two clicks at once cannot both sign in.
    used = db.session.execute(
        update(SignInLink).where(SignInLink.id == link.id, SignInLink.used_at.is_(None)).values(used_at=now)
    )
    if used.rowcount != 1:
        db.session.rollback()
        raise LinkExpired()
    return _open_session(member=link.member, token=None, browser=browser)


def sign_in_with_token(*, secret: str, browser: Browser) -> SignedIn:
    """Sign in with an API token: as its member when it has one, else as the token itself (401 for a
    token that is not valid, revoked, or of a revoked member)."""
    if not secret or len(secret) > MAX_SECRET_LENGTH:
        raise Unauthorized("invalid_token", "This token is not valid.")
    token = live_token(secret)
    if token.member is not None and token.member.revoked_at is not None:
        raise Unauthorized("token_revoked", "This token's member has been revoked.")
    return _open_session(member=token.member, token=token, browser=browser)


def _open_session(*, member: StaffMember | None, token: StaffToken | None, browser: Browser) -> SignedIn:
    now = clock.now()
    # Sessions that can no longer be used are of no use in the list either.
    db.session.execute(
        delete(ConsoleSession).where(
            or_(ConsoleSession.last_seen_at <= now - IDLE_TIMEOUT, ConsoleSession.revoked_at.is_not(None))
        )
    )
    secret = secrets.token_urlsafe(32)
    session = ConsoleSession(
        secret_hash=hash_token(secret),
        member=member,
        token=token,
        created_at=now,
        last_seen_at=now,
        ip_hash=ip_hash(browser.ip),
        user_agent=browser.user_agent[:USER_AGENT_LENGTH],
    )
    db.session.add(session)
    db.session.commit()
    return SignedIn(session=session, secret=secret)


# --- sessions ----------------------------------------------------------------------------------------


def live_session(secret: str | None) -> ConsoleSession | None:
    """The session a cookie names, if it may still be used; notes that it was seen (once a minute)."""
    session = _row_by_secret(ConsoleSession, secret or "")
    now = clock.now()
    if session is None or not _is_live(session, now):
        return None
    if now - session.last_seen_at >= SEEN_PRECISION:
        try:
            db.session.execute(
                update(ConsoleSession).where(ConsoleSession.id == session.id).values(last_seen_at=now)
            )
            db.session.commit()
        except OperationalError:
            # Best effort, as for tokens: a missed stamp must not fail the page.
            db.session.rollback()
    return session


def principal(session: ConsoleSession) -> Principal:
    """Who a session acts as: its member, or the standalone token it was opened with."""
    if session.member is not None:
        return session.member
    assert session.token is not None  # a session has a member, a token, or both
    return session.token


def sessions_of(session: ConsoleSession) -> list[ConsoleSession]:
    """The live sessions of the same principal, most recently seen first (the list a member manages)."""
    now = clock.now()
    rows = db.session.scalars(
        select(ConsoleSession)
        .where(_same_principal(session), ConsoleSession.revoked_at.is_(None))
        .where(ConsoleSession.last_seen_at > now - IDLE_TIMEOUT)
        .order_by(ConsoleSession.last_seen_at.desc(), ConsoleSession.id.desc())
    )
    return [row for row in rows if _is_live(row, now)]


def revoke_session(*, current: ConsoleSession, session_id: int) -> None:
    """End one of the principal's sessions (404 ``session_not_found`` for anybody else's)."""
    target = db.session.scalar(
        select(ConsoleSession).where(ConsoleSession.id == session_id, _same_principal(current))
    )
    if target is None:
        raise NotFound("session_not_found", "There is no such session of yours.")
    if target.revoked_at is None:
        target.revoked_at = clock.now()
    db.session.commit()


def sign_out(*, current: ConsoleSession) -> None:
    """End this session."""
    revoke_session(current=current, session_id=current.id)


def csrf_token(secret: str) -> str:
    """The token every state-changing request of a session (or of a signed-out form) must carry: derived
    from the cookie's secret with the app's key, so it is per session, never stored, and useless to a page
    on another site, which can neither read the cookie nor compute it."""
    return keyed_hash("console-csrf", secret)


def csrf_matches(secret: str, sent: str) -> bool:
    """Whether ``sent`` is the CSRF token of ``secret``, compared in constant time."""
    return hmac.compare_digest(csrf_token(secret).encode(), sent.encode("utf-8", "replace"))


def _same_principal(session: ConsoleSession) -> Any:
    if session.member_id is not None:
        return ConsoleSession.member_id == session.member_id
    return (ConsoleSession.member_id.is_(None)) & (ConsoleSession.token_id == session.token_id)


def _is_live(session: ConsoleSession, now: datetime) -> bool:
    member, token = session.member, session.token
    return (
        session.revoked_at is None
        and now - session.last_seen_at < IDLE_TIMEOUT
        and (member is None or member.revoked_at is None)
        and (token is None or token.revoked_at is None)
    )


def _row_by_secret(model: type[Row], secret: str) -> Row | None:
    if not secret or len(secret) > MAX_SECRET_LENGTH:
        return None
    digest = hash_token(secret)
    row = db.session.scalar(select(model).where(model.secret_hash == digest))
    # The lookup is by digest, so its timing says nothing about the secret; compare_digest guards against
    # a collation that compares loosely.
    if row is None or not hmac.compare_digest(row.secret_hash, digest):
        return None
    return row
