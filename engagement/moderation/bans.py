"""Bans of an email, IP (stored as its HMAC), domain or word on a site: listed, created, lifted, and
an author banned from one of their comments (optionally trashing what they wrote).

Each use case is one transaction with its audit entries, committed once; each takes the staff token and
refuses or filters through engagement.staff.access.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select

from engagement import audit, clock, threads
from engagement.errors import Conflict, Forbidden, NotFound
from engagement.extensions import db
from engagement.hashing import ip_hash as hash_ip
from engagement.models import (
    Ban,
    BanKind,
    Comment,
    CommentStatus,
    Site,
    StaffToken,
)
from engagement.moderation.comments import get_comment, transition
from engagement.pagination import Listing, keyset_page
from engagement.staff import access


def list_bans(*, token: StaffToken, site: str | None, limit: int, cursor: str | None) -> Listing:
    query = select(Ban)
    site_ids = access.scoped_site_ids(token, site)
    if site_ids is not None:
        query = query.where(Ban.site_id.in_(site_ids))
    return keyset_page(
        query, [Ban.id], [True], limit=limit, cursor=cursor, kinds=(int,), key=lambda b: (b.id,)
    )


def _normalized_ban_value(kind: str, value: str) -> str:
    value = value.strip()
    if kind == BanKind.IP:
        return hash_ip(value)
    if kind == BanKind.DOMAIN:
        return value.lower().lstrip("@").removeprefix("*.")
    if kind == BanKind.SSO:
        return value  # the site's user id, compared exactly as its tokens send it
    return value.lower()


def _add_ban(
    site: Site,
    *,
    token: StaffToken,
    kind: str,
    value: str,
    action: str,
    expires_at: datetime | None,
    note: str,
) -> Ban:
    ban = Ban(
        site_id=site.id,
        kind=kind,
        value=value,
        action=action,
        expires_at=expires_at,
        note=note,
        created_by=token.label,
        created_at=clock.now(),
    )
    db.session.add(ban)
    db.session.flush()
    audit.record(
        actor=token.label,
        action="ban_created",
        site_id=site.id,
        reason=note,
        details={"ban_id": ban.id, "kind": kind, "action": action},
    )
    return ban


def create_ban(
    *,
    token: StaffToken,
    site: str,
    kind: str,
    value: str,
    action: str,
    expires_at: datetime | None,
    note: str,
) -> Ban:
    """Ban an email, IP (stored as its HMAC), domain or word on a site."""
    site_obj = access.site_in_scope(token, site)
    ban = _add_ban(
        site_obj,
        token=token,
        kind=kind,
        value=_normalized_ban_value(kind, value),
        action=action,
        expires_at=expires_at,
        note=note,
    )
    db.session.commit()
    return ban


def delete_ban(*, token: StaffToken, ban_id: int) -> None:
    ban = db.session.get(Ban, ban_id)
    if ban is None:
        raise NotFound("ban_not_found", f"There is no ban {ban_id}.")
    site = db.session.get(Site, ban.site_id)
    if not token.may_access(site):
        raise Forbidden("forbidden", "This token may not act on this ban's site.")
    audit.record(
        actor=token.label,
        action="ban_removed",
        site_id=ban.site_id,
        details={"ban_id": ban.id, "kind": ban.kind},
    )
    db.session.delete(ban)
    db.session.commit()


def ban_author(
    *,
    token: StaffToken,
    comment_id: int,
    kinds: list[str],
    action: str,
    trash_existing: bool,
    expires_at: datetime | None,
    note: str,
) -> tuple[list[Ban], list[int]]:
    """Ban a comment's author by email, IP and/or the site's user id (``sso``: a signed-in reader's);
    optionally trash their existing comments on the site."""
    comment = get_comment(token=token, comment_id=comment_id)
    site = comment.thread.site
    values = {"email": comment.author_email.lower(), "ip": comment.ip_hash, "sso": comment.author_sso_id}
    bans = []
    for kind in dict.fromkeys(kinds):
        if not values[kind]:
            raise Conflict("nothing_to_ban", f"This comment has no {kind} to ban.")
        bans.append(
            _add_ban(
                site,
                token=token,
                kind=kind,
                value=values[kind],
                action=action,
                expires_at=expires_at,
                note=note,
            )
        )
    trashed: list[int] = []
    if trash_existing:
        same_author = [Comment.author_email == values["email"]] if "email" in kinds else []
        if "ip" in kinds:
            same_author.append(Comment.ip_hash == values["ip"])
        if "sso" in kinds:
            same_author.append(Comment.author_sso_id == values["sso"])
        deltas: dict[int, int] = defaultdict(int)
        rows: list[dict[str, Any]] = []
        for other in db.session.scalars(
            select(Comment).where(
                Comment.site_id == site.id,
                or_(*same_author),
                Comment.status.notin_((CommentStatus.TRASH, CommentStatus.DELETED)),
            )
        ):
            deltas[other.thread_id] += transition(
                other,
                CommentStatus.TRASH,
                site=site,
                actor=token.label,
                reason=note or "ban",
                action="ban:trash",
                audit_rows=rows,
            )
            trashed.append(other.id)
        for thread_id, delta in deltas.items():
            threads.change_thread_counts(thread_id, approved_delta=delta)
        audit.write(rows)
    db.session.commit()
    return bans, trashed
