"""Staff tokens: issued once in clear, stored only as a SHA-256, checked in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from engagement import audit, clock
from engagement.errors import NotFound, Unauthorized, ValidationFailed
from engagement.extensions import db
from engagement.models import Site, StaffMember, StaffRole, StaffToken

TOKEN_PREFIX = "eng_"  # noqa: S105 (a public prefix, not a secret)


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def sites_named(slugs: list[str]) -> list[Site]:
    """The sites of a staff scope, by slug (404 ``site_not_found`` for one that does not exist)."""
    sites = []
    for slug in slugs:
        site = db.session.scalar(select(Site).where(Site.slug == slug))
        if site is None:
            raise NotFound("site_not_found", f"There is no site {slug!r}.")
        sites.append(site)
    return sites


def create_token(
    *,
    role: StaffRole,
    site_slugs: list[str],
    label: str,
    actor: str = "cli",
    member: StaffMember | None = None,
) -> tuple[StaffToken, str]:
    """Issue a token (a machine's, or ``member``'s own); the secret is returned here and never again.
    Audited as ``actor``. A member's token grants no more than the member has: a moderator's is a
    moderator token on some of their sites (422 otherwise), so the API and the console, which acts as the
    member, agree on what it may do."""
    sites = sites_named(site_slugs)
    if member is not None and member.role != StaffRole.ADMIN:
        own = {site.slug for site in member.sites}
        if role != StaffRole.MODERATOR:
            raise ValidationFailed(
                {"role": [f"{member.email} is a moderator: their tokens are moderator tokens."]}
            )
        if not sites or not {site.slug for site in sites} <= own:
            raise ValidationFailed(
                {"sites": [f"A token of {member.email} may name only their sites: {', '.join(sorted(own))}."]}
            )
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = StaffToken(
        label=label,
        role=role,
        token_hash=hash_token(secret),
        token_prefix=secret[: len(TOKEN_PREFIX) + 6],
        sites=sites,
        member=member,
        created_at=clock.now(),
    )
    db.session.add(token)
    db.session.flush()
    audit.record(
        actor=actor,
        action="token_created",
        site_id=None,
        details={
            "token_id": token.id,
            "role": role.value,
            "sites": site_slugs,
            "label": label,
            "member_id": member.id if member is not None else None,
        },
    )
    db.session.commit()
    return token, secret


def revoke_token(*, token_id: int, actor: str = "cli") -> StaffToken:
    """Revoke a token; revoking twice keeps the first revocation time. Audited as ``actor``."""
    token = db.session.get(StaffToken, token_id)
    if token is None:
        raise NotFound("token_not_found", f"There is no token {token_id}.")
    if token.revoked_at is None:
        token.revoked_at = clock.now()
        audit.record(actor=actor, action="token_revoked", site_id=None, details={"token_id": token.id})
        db.session.commit()
    return token


def list_tokens() -> list[StaffToken]:
    return list(db.session.scalars(select(StaffToken).order_by(StaffToken.id)))


def live_token(secret: str) -> StaffToken:
    """The token whose secret this is, unless revoked (401 ``invalid_token``, ``token_revoked``)."""
    digest = hash_token(secret)
    # The lookup is by digest (an index hit), so timing reveals nothing about the secret itself;
    # the compare_digest below guards against a database collation that compares loosely.
    token = db.session.scalar(select(StaffToken).where(StaffToken.token_hash == digest))
    if token is None or not hmac.compare_digest(token.token_hash, digest):
        raise Unauthorized("invalid_token", "The bearer token is not valid.")
    if token.revoked_at is not None:
        raise Unauthorized("token_revoked", "The bearer token has been revoked.")
    return token


def authenticate(authorization: str | None) -> StaffToken:
    """The live token named by an ``Authorization: Bearer`` header, or 401."""
    scheme, _, secret = (authorization or "").partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret:
        raise Unauthorized("unauthorized", "Send Authorization: Bearer <staff token>.")
    token = live_token(secret)
    now = clock.now()
    # Recording use on every request would turn every read into a write; once a minute is enough.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        try:
            db.session.execute(update(StaffToken).where(StaffToken.id == token.id).values(last_used_at=now))
            db.session.commit()
        except OperationalError:
            # Best effort: on SQLite a read transaction cannot always become a write one under contention,
            # and a missed "last used" stamp must not fail the staff member's request.
            db.session.rollback()
    return token
