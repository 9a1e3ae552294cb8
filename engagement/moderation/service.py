"""Staff moderation use cases. Each is one transaction with its audit entries, committed once.

Scope: an admin token reaches every site, a moderator token only its own; every function takes the token
and refuses (403 ``forbidden``) or filters accordingly, so no route can forget.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from engagement import audit, clock, events, threads
from engagement.errors import Conflict, Forbidden, NotFound
from engagement.extensions import db
from engagement.hashing import ip_hash as hash_ip
from engagement.models import (
    Ban,
    BanKind,
    Comment,
    CommentStatus,
    Site,
    SiteSettings,
    StaffRole,
    StaffToken,
    Thread,
)
from engagement.models.moderation import AuditEntry
from engagement.pagination import Listing, keyset_page
from engagement.rendering import render_comment
from engagement.sites import service as sites
from engagement.staff import access
from engagement.staff import service as staff

MODERATION_STATUSES = (CommentStatus.APPROVED, CommentStatus.PENDING, CommentStatus.SPAM, CommentStatus.TRASH)
BULK_TARGETS = {
    "approve": "approved",
    "spam": "spam",
    "trash": "trash",
    "restore": "restore",
    "delete": "delete",
}


# --- comments ------------------------------------------------------------------------------------------


def comment_queue(
    *,
    token: StaffToken,
    site: str | None,
    status: str,
    thread: str | None,
    q: str | None,
    email: str | None,
    sort: str,
    limit: int,
    cursor: str | None,
) -> Listing:
    """The moderation queue: comments of the token's sites, filtered, newest first by default."""
    query = select(Comment).options(joinedload(Comment.thread).joinedload(Thread.site))
    site_ids = access.scoped_site_ids(token, site)
    if site_ids is not None:
        query = query.where(Comment.site_id.in_(site_ids))
    if status != "all":
        query = query.where(Comment.status == status)
    if thread is not None:
        query = query.join(Thread, Comment.thread_id == Thread.id).where(Thread.key == thread)
    if email is not None:
        query = query.where(func.lower(Comment.author_email) == email.strip().lower())
    if q is not None:
        needle = q.lower()
        query = query.where(
            or_(
                func.lower(Comment.body).contains(needle, autoescape=True),
                func.lower(Comment.author_name).contains(needle, autoescape=True),
                func.lower(Comment.author_email).contains(needle, autoescape=True),
            )
        )
    descending = sort == "newest"
    return keyset_page(
        query,
        [Comment.created_at, Comment.id],
        [descending, descending],
        limit=limit,
        cursor=cursor,
        kinds=(datetime, int),
        key=lambda c: (c.created_at, c.id),
    )


def get_comment(*, token: StaffToken, comment_id: int) -> Comment:
    comment = db.session.get(Comment, comment_id)
    if comment is None:
        raise NotFound("comment_not_found", f"There is no comment {comment_id}.")
    if not token.may_access(comment.thread.site):
        raise Forbidden("forbidden", "This token may not act on this comment's site.")
    return comment


def moderate_by_link(*, comment: Comment, status: str, actor: str) -> Comment:
    """A decision from the one-click links of a moderator alert email (checked by the caller), through
    the same transition, counts and audit as a staff token's."""
    rows: list[dict[str, Any]] = []
    delta = _transition(
        comment,
        status,
        site=comment.thread.site,
        actor=actor,
        reason="one-click link in the moderator alert email",
        action=f"status:{status}",
        audit_rows=rows,
    )
    audit.write(rows)
    threads.change_thread_counts(comment.thread_id, approved_delta=delta)
    db.session.commit()
    return comment


def _transition(
    comment: Comment,
    target: str,
    *,
    site: Site,
    actor: str,
    reason: str,
    action: str,
    audit_rows: list[dict[str, Any]],
) -> int:
    """Move a comment to ``target`` (or back to its previous status for ``restore``).

    Returns the change in the thread's approved count and appends the audit row; the caller applies the
    count and writes the rows (once per thread and once per call in bulk).
    """
    if comment.status == CommentStatus.DELETED:
        raise Conflict("comment_deleted", "A deleted placeholder cannot be moderated.")
    if target == "restore":
        if comment.status not in (CommentStatus.TRASH, CommentStatus.SPAM) or comment.previous_status is None:
            raise Conflict("not_restorable", "Only a comment in trash or spam can be restored.")
        target = comment.previous_status
    if target == comment.status:
        return 0
    before = comment.status
    comment.previous_status = before
    comment.status = target
    comment.moderated_at = clock.now()
    comment.moderated_by = actor
    audit_rows.append(
        audit.entry(
            actor=actor,
            action=action,
            site_id=comment.site_id,
            comment=comment,
            from_status=before,
            to_status=target,
            reason=reason,
        )
    )
    if target == CommentStatus.APPROVED:
        events.comment_published.send(current_app._get_current_object(), comment=comment, site=site)
    return int(target == CommentStatus.APPROVED) - int(before == CommentStatus.APPROVED)


def update_comment(
    *,
    token: StaffToken,
    comment_id: int,
    status: str | None = None,
    body: str | None = None,
    pinned: bool | None = None,
    reason: str = "",
) -> Comment:
    """Change a comment's status, body or pin; restoring returns it to the status it had before."""
    comment = get_comment(token=token, comment_id=comment_id)
    changed = False
    delta = 0
    if status is not None and status != comment.status:
        rows: list[dict[str, Any]] = []
        delta = _transition(
            comment,
            status,
            site=comment.thread.site,
            actor=token.label,
            reason=reason,
            action=f"status:{status}",
            audit_rows=rows,
        )
        audit.write(rows)
        changed = True
    if body is not None and body != comment.body:
        if comment.status == CommentStatus.DELETED:
            raise Conflict("comment_deleted", "A deleted placeholder has no body to edit.")
        audit.record(
            actor=token.label,
            action="edited",
            site_id=comment.site_id,
            comment=comment,
            reason=reason,
            details={"previous_body": comment.body},
        )
        comment.body = body
        comment.html = render_comment(body)
        comment.edited_at = clock.now()
        changed = True
    if pinned is not None and pinned != comment.pinned:
        comment.pinned = pinned
        audit.record(
            actor=token.label,
            action="pinned" if pinned else "unpinned",
            site_id=comment.site_id,
            comment=comment,
            reason=reason,
        )
        changed = True
    if changed:
        # One version bump covers every change; readers revalidate once.
        threads.change_thread_counts(comment.thread_id, approved_delta=delta)
    db.session.commit()
    return comment


def delete_comment(*, token: StaffToken, comment_id: int, reason: str = "") -> None:
    """Hard delete (admins only; moderators use trash). A comment with replies leaves a placeholder."""
    access.require_admin(token)
    rows: list[dict[str, Any]] = []
    _hard_delete(
        get_comment(token=token, comment_id=comment_id), actor=token.label, reason=reason, audit_rows=rows
    )
    audit.write(rows)
    db.session.commit()


def _hard_delete(comment: Comment, *, actor: str, reason: str, audit_rows: list[dict[str, Any]]) -> None:
    audit_rows.append(
        audit.entry(
            actor=actor,
            action="deleted",
            site_id=comment.site_id,
            comment=comment,
            from_status=comment.status,
            reason=reason,
        )
    )
    threads.remove_comment(comment)


def bulk_moderate(
    *, token: StaffToken, ids: list[int], action: str, reason: str
) -> tuple[list[int], dict[str, str]]:
    """Apply one action to many comments in one transaction; failures are reported per id, not raised."""
    unique_ids = list(dict.fromkeys(ids))
    comments = {c.id: c for c in db.session.scalars(select(Comment).where(Comment.id.in_(unique_ids)))}
    site_by_id = {
        s.id: s
        for s in db.session.scalars(select(Site).where(Site.id.in_({c.site_id for c in comments.values()})))
    }
    updated: list[int] = []
    failed: dict[str, str] = {}
    deltas: dict[int, int] = defaultdict(int)
    touched_threads: set[int] = set()
    rows: list[dict[str, Any]] = []
    for comment_id in unique_ids:
        comment = comments.get(comment_id)
        if comment is None:
            failed[str(comment_id)] = "comment_not_found"
            continue
        if not token.may_access(site_by_id[comment.site_id]):
            failed[str(comment_id)] = "forbidden"
            continue
        target = BULK_TARGETS[action]
        if target == "delete":
            if not token.is_admin:
                failed[str(comment_id)] = "forbidden"
                continue
            _hard_delete(comment, actor=token.label, reason=reason, audit_rows=rows)
            updated.append(comment_id)
            continue
        try:
            # _transition checks before it changes anything, so a refusal leaves the comment untouched.
            deltas[comment.thread_id] += _transition(
                comment,
                target,
                site=site_by_id[comment.site_id],
                actor=token.label,
                reason=reason,
                action=f"bulk:{action}",
                audit_rows=rows,
            )
        except Conflict as conflict:
            failed[str(comment_id)] = conflict.code
            continue
        touched_threads.add(comment.thread_id)
        updated.append(comment_id)
    for thread_id in touched_threads:
        threads.change_thread_counts(thread_id, approved_delta=deltas[thread_id])
    audit.write(rows)
    db.session.commit()
    return updated, failed


def summary(*, token: StaffToken) -> list[dict[str, Any]]:
    """Per site in scope: comments in each status and the oldest pending one's time."""
    site_ids = access.scoped_site_ids(token, None)
    site_query = select(Site).order_by(Site.slug)
    if site_ids is not None:
        site_query = site_query.where(Site.id.in_(site_ids))
    scoped = list(db.session.scalars(site_query))
    ids = [s.id for s in scoped]
    counts: dict[int, dict[str, int]] = {i: {s.value: 0 for s in CommentStatus} for i in ids}
    for site_id, status, count in db.session.execute(
        select(Comment.site_id, Comment.status, func.count())
        .where(Comment.site_id.in_(ids))
        .group_by(Comment.site_id, Comment.status)
    ):
        counts[site_id][status] = count
    oldest = dict(
        db.session.execute(
            select(Comment.site_id, func.min(Comment.created_at))
            .where(Comment.site_id.in_(ids), Comment.status == CommentStatus.PENDING)
            .group_by(Comment.site_id)
        ).all()
    )
    return [
        {"site": s, "counts": counts[s.id], "oldest_pending_at": _as_utc(oldest.get(s.id))} for s in scoped
    ]


def _as_utc(value: Any) -> datetime | None:
    """Aggregates (MIN) bypass the column type on SQLite and come back as text."""
    if value is None or isinstance(value, datetime):
        return value if value is None or value.tzinfo else value.replace(tzinfo=clock.now().tzinfo)
    return datetime.fromisoformat(value).replace(tzinfo=clock.now().tzinfo)


# --- bans ----------------------------------------------------------------------------------------------


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
    """Ban a comment's author by email and/or IP; optionally trash their existing comments on the site."""
    comment = get_comment(token=token, comment_id=comment_id)
    site = comment.thread.site
    values = {"email": comment.author_email.lower(), "ip": comment.ip_hash}
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
        same_author = [func.lower(Comment.author_email) == values["email"]] if "email" in kinds else []
        if "ip" in kinds:
            same_author.append(Comment.ip_hash == values["ip"])
        deltas: dict[int, int] = defaultdict(int)
        rows: list[dict[str, Any]] = []
        for other in db.session.scalars(
            select(Comment).where(
                Comment.site_id == site.id,
                or_(*same_author),
                Comment.status.notin_((CommentStatus.TRASH, CommentStatus.DELETED)),
            )
        ):
            deltas[other.thread_id] += _transition(
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


# --- threads -------------------------------------------------------------------------------------------


def list_threads(
    *, token: StaffToken, site: str, sort: str, q: str | None, limit: int, cursor: str | None
) -> Listing:
    site_obj = access.site_in_scope(token, site)
    query = select(Thread).where(Thread.site_id == site_obj.id)
    if q is not None:
        needle = q.lower()
        query = query.where(
            or_(
                func.lower(Thread.key).contains(needle, autoescape=True),
                func.lower(Thread.title).contains(needle, autoescape=True),
            )
        )
    if sort == "most_comments":
        return keyset_page(
            query,
            [Thread.comment_count, Thread.id],
            [True, True],
            limit=limit,
            cursor=cursor,
            kinds=(int, int),
            key=lambda t: (t.comment_count, t.id),
        )
    # Threads are created by their first comment, so creation order is a stable "recent".
    return keyset_page(
        query, [Thread.id], [True], limit=limit, cursor=cursor, kinds=(int,), key=lambda t: (t.id,)
    )


def update_thread(
    *, token: StaffToken, site: str, key: str, closed: bool | None, title: str | None
) -> Thread:
    """Close/reopen a thread or fix its title; readers see it at once (version bump)."""
    site_obj = access.site_in_scope(token, site)
    thread = db.session.scalar(select(Thread).where(Thread.site_id == site_obj.id, Thread.key == key))
    if thread is None:
        raise NotFound("thread_not_found", f"There is no thread {key!r}.")
    changes = {}
    if closed is not None and closed != thread.closed:
        changes["closed"] = closed
    if title is not None and title != thread.title:
        changes["title"] = title
    if changes:
        audit.record(
            actor=token.label, action="thread_updated", site_id=site_obj.id, details={"key": key, **changes}
        )
        threads.update_thread(thread.id, **changes)
        db.session.commit()
        db.session.refresh(thread)
    return thread


# --- sites ---------------------------------------------------------------------------------------------


def list_sites(*, token: StaffToken) -> list[Site]:
    query = select(Site).order_by(Site.slug)
    site_ids = access.scoped_site_ids(token, None)
    if site_ids is not None:
        query = query.where(Site.id.in_(site_ids))
    return list(db.session.scalars(query))


def create_site(
    *, token: StaffToken, slug: str, name: str, origins: list[str], settings: dict[str, Any]
) -> Site:
    access.require_admin(token)
    return sites.create_site(slug=slug, name=name, origins=origins, settings=settings, actor=token.label)


def update_site(
    *, token: StaffToken, slug: str, name: str | None, origins: list[str] | None, settings: dict[str, Any]
) -> Site:
    access.require_admin(token)
    site = sites.get_site(slug)
    changes: dict[str, Any] = {}
    if name is not None and name != site.name:
        site.name = changes["name"] = name
    if origins is not None and origins != site.origins:
        site.origins = changes["origins"] = origins
    if settings:
        merged: SiteSettings = site.settings.replace(**settings)
        if merged != site.settings:
            site.settings = merged
            changes["settings"] = settings
    if changes:
        audit.record(actor=token.label, action="site_updated", site_id=site.id, details=changes)
        db.session.commit()
    return site


# --- tokens --------------------------------------------------------------------------------------------


def list_tokens(*, token: StaffToken) -> list[StaffToken]:
    access.require_admin(token)
    return staff.list_tokens()


def create_token(
    *, token: StaffToken, role: str, site_slugs: list[str], label: str
) -> tuple[StaffToken, str]:
    access.require_admin(token)
    return staff.create_token(role=StaffRole(role), site_slugs=site_slugs, label=label, actor=token.label)


def revoke_token(*, token: StaffToken, token_id: int) -> StaffToken:
    access.require_admin(token)
    return staff.revoke_token(token_id=token_id, actor=token.label)


# --- audit ---------------------------------------------------------------------------------------------


def audit_log(
    *,
    token: StaffToken,
    site: str | None,
    actor: str | None,
    comment_id: int | None,
    limit: int,
    cursor: str | None,
) -> Listing:
    """Entries newest first; moderators see their sites' entries only (token and site admin is admin-only)."""
    query = select(AuditEntry)
    site_ids = access.scoped_site_ids(token, site)
    if site_ids is not None:
        query = query.where(AuditEntry.site_id.in_(site_ids))
    if actor is not None:
        query = query.where(AuditEntry.actor == actor)
    if comment_id is not None:
        query = query.where(AuditEntry.comment_id == comment_id)
    return keyset_page(
        query, [AuditEntry.id], [True], limit=limit, cursor=cursor, kinds=(int,), key=lambda e: (e.id,)
    )
