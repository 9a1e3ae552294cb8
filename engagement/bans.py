"""Bans in force on a site and what a submission falls under: read by the anti-spam rules on every post,
written by staff through the moderation API (created, imported and lifted as ORM rows). A match applies
the ban's action (spam or moderate)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import select

from engagement import caching
from engagement.extensions import db
from engagement.models import Ban, BanKind
from engagement.normalization import fold


@dataclass(frozen=True, slots=True)
class BanRule:
    """What matching reads of a ban; immutable, so one copy serves every post of the site."""

    id: int
    kind: str
    value: str
    action: str
    expires_at: datetime | None


def active_bans(site_id: int, now: datetime) -> list[BanRule]:
    """The site's bans in force at ``now``. Every post asks, so the site's bans come from this process's
    cache while none of them changed (``engagement.caching``: its flush hook touches a site's bans when
    one is created, imported or lifted); expiry is applied here, at each call."""
    rules = caching.cache("bans").get(caching.bans_key(site_id), lambda: _site_bans(site_id))
    return [rule for rule in rules if rule.expires_at is None or rule.expires_at > now]


def _site_bans(site_id: int) -> tuple[BanRule, ...]:
    rows = db.session.execute(
        select(Ban.id, Ban.kind, Ban.value, Ban.action, Ban.expires_at)
        .where(Ban.site_id == site_id)
        .order_by(Ban.id)
    )
    return tuple(BanRule(*row) for row in rows)


def _domain_matches(domain: str, candidate: str | None) -> bool:
    if not candidate:
        return False
    candidate = candidate.lower()
    return candidate == domain or candidate.endswith("." + domain)


def matching_bans(
    bans: list[BanRule],
    *,
    email: str,
    sso_id: str | None = None,
    ip_hashes: tuple[str, ...],
    author_url: str | None,
    folded_texts: Callable[[], list[str]],
) -> list[BanRule]:
    """The bans a submission falls under; ``folded_texts`` gives its fields as ``fold`` leaves them, asked
    for only when a word ban has to search them (most posts meet none)."""
    if not bans:
        return []
    email = email.lower()
    email_domain = email.rpartition("@")[2]
    url_host = urlsplit(author_url).hostname if author_url else None
    matched = []
    for ban in bans:
        if (
            (ban.kind == BanKind.EMAIL and email and email == ban.value)
            or (ban.kind == BanKind.SSO and sso_id is not None and sso_id == ban.value)
            or (ban.kind == BanKind.IP and ban.value in ip_hashes)
            or (
                ban.kind == BanKind.DOMAIN
                and (_domain_matches(ban.value, email_domain) or _domain_matches(ban.value, url_host))
            )
            or (ban.kind == BanKind.WORD and any(fold(ban.value) in t for t in folded_texts()))
        ):
            matched.append(ban)
    return matched
