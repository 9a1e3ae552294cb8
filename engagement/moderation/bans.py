"""Bans: matched against every new comment; a match applies the ban's action (spam or moderate)."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import or_, select

from engagement.extensions import db
from engagement.models import Ban, BanKind


def active_bans(site_id: int, now: datetime) -> list[Ban]:
    return list(
        db.session.scalars(
            select(Ban)
            .where(Ban.site_id == site_id, or_(Ban.expires_at.is_(None), Ban.expires_at > now))
            .order_by(Ban.id)
        )
    )


def _domain_matches(domain: str, candidate: str | None) -> bool:
    if not candidate:
        return False
    candidate = candidate.lower()
    return candidate == domain or candidate.endswith("." + domain)


def matching_bans(
    bans: list[Ban], *, email: str, ip_hash: str | None, author_url: str | None, texts: list[str]
) -> list[Ban]:
    """The bans a submission falls under."""
    email = email.lower()
    email_domain = email.rpartition("@")[2]
    url_host = urlsplit(author_url).hostname if author_url else None
    lowered = [t.lower() for t in texts if t]
    matched = []
    for ban in bans:
        if (
            (ban.kind == BanKind.EMAIL and email == ban.value)
            or (ban.kind == BanKind.IP and ip_hash is not None and ip_hash == ban.value)
            or (
                ban.kind == BanKind.DOMAIN
                and (_domain_matches(ban.value, email_domain) or _domain_matches(ban.value, url_host))
            )
            or (ban.kind == BanKind.WORD and any(ban.value in t for t in lowered))
        ):
            matched.append(ban)
    return matched
