"""Moderating comments: the queue, one comment's status, body and pin, bulk decisions, hard deletes and the
per-site summary. Every status change goes through ``transition`` (counts, thread version, audit,
events), whoever decides: a staff token, a bulk call, a ban, a moderator's one-click mail link.

Each use case is one transaction with its audit entries, committed once; each takes the staff token and
refuses or filters through engagement.staff.access.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import Select, func, literal_column, select
from sqlalchemy.orm import joinedload

from engagement import audit, clock, events, search, threads
from engagement.database import among
from engagement.errors import Conflict, Forbidden, NotFound
from engagement.extensions import db
from engagement.models import (
    Comment,
    CommentStatus,
    Site,
    SiteRef,
    StaffToken,
    Thread,
)
from engagement.pagination import Listing, keyset_page
from engagement.rendering import render_comment
from engagement.staff import access

# Literal, not a bound 0: SQLite uses the partial index ix_comments_reported only for this exact term.
_HAS_OPEN_REPORTS = Comment.open_reports > literal_column("0")
# Who held a comment that readers reported, in the audit log and on the console's card.
REPORTS_ACTOR = "readers' reports"
MODERATION_STATUSES = (CommentStatus.APPROVED, CommentStatus.PENDING, CommentStatus.SPAM, CommentStatus.TRASH)
BULK_TARGETS = {
    "approve": "approved",
    "spam": "spam",
    "trash": "trash",
    "restore": "restore",
    "delete": "delete",
}


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
    if status == "reported":
        return _reported_queue(query, thread=thread, q=q, email=email, limit=limit, cursor=cursor)
    if status != "all":
        query = query.where(Comment.status == status)
    query = _filtered(query, thread=thread, email=email)
    descending = sort == "newest"
    return keyset_page(
        query,
        [Comment.created_at, Comment.id],
        [descending, descending],
        limit=limit,
        cursor=cursor,
        kinds=(datetime, int),
        key=lambda c: (c.created_at, c.id),
        narrow=_search(q),
    )


def _search(q: str | None) -> search.Narrow | None:
    """Words in the body, name or email: full-text search (engagement.search)."""
    return None if q is None else search.narrowing(db.session, q, Comment.id)


def _filtered(query: Select[Any], *, thread: str | None, email: str | None) -> Select[Any]:
    """The queue's filters: a thread key, an author email."""
    if thread is not None:
        # The threads' ids first: the newest of a thread's comments are then one range of
        # ix_comments_thread_created (joined by key, PostgreSQL walked every comment by time).
        thread_ids = list(db.session.scalars(select(Thread.id).where(Thread.key == thread)))
        query = query.where(Comment.thread_id.in_(thread_ids))
    if email is not None:
        # Stored lower-cased (models.comments): equality, served by ix_comments_email_site.
        query = query.where(Comment.author_email == email.strip().lower())
    return query


def _reported_queue(
    query: Select[Any],
    *,
    thread: str | None,
    q: str | None,
    email: str | None,
    limit: int,
    cursor: str | None,
) -> Listing:
    """Approved comments with open readers' reports, most reported first (then newest), from the partial
    index ``ix_comments_reported``."""
    reported = _filtered(query, thread=thread, email=email).where(
        # coalesce(): no index on status may be used for this term (SQLite, with no statistics, took
        # ix_comments_status_created and sorted every approved comment); the partial index then is.
        func.coalesce(Comment.status, "") == CommentStatus.APPROVED.value,
        _HAS_OPEN_REPORTS,
    )
    return keyset_page(
        reported,
        [Comment.open_reports, Comment.id],
        [True, True],
        limit=limit,
        cursor=cursor,
        kinds=(int, int),
        key=lambda c: (c.open_reports, c.id),
        narrow=_search(q),
    )


def get_comment(*, token: StaffToken, comment_id: int) -> Comment:
    comment = db.session.get(Comment, comment_id)
    if comment is None:
        raise NotFound("comment_not_found", f"There is no comment {comment_id}.")
    if not token.may_access(comment.thread.site):
        raise Forbidden("forbidden", "This token may not act on this comment's site.")
    return comment


def hold_reported(*, comment: Comment, site: SiteRef, reporters: int) -> None:
    """Readers' reports reached the site's threshold: the comment waits for a moderator (pending, reason
    ``reports``), leaves the thread at once and the moderators are alerted, in the reporting transaction."""
    if comment.status != CommentStatus.APPROVED:
        return
    rows: list[dict[str, Any]] = []
    delta = transition(
        comment,
        CommentStatus.PENDING,
        site=site,
        actor=REPORTS_ACTOR,
        reason=f"reported by {reporters} readers",
        action="status:pending",
        audit_rows=rows,
    )
    comment.spam_reasons = [*(r for r in comment.spam_reasons or [] if r != "reports"), "reports"]
    audit.write(rows)
    threads.change_thread_counts(comment.thread_id, approved_delta=delta)
    events.comment_held.send(current_app._get_current_object(), comment=comment, site=site)


def moderate_by_link(*, comment: Comment, status: str, actor: str) -> Comment:
    """A decision from the one-click links of a moderator alert email (checked by the caller), through
    the same transition, counts and audit as a staff token's."""
    rows: list[dict[str, Any]] = []
    delta = transition(
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


def transition(
    comment: Comment,
    target: str,
    *,
    site: SiteRef,
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
    app = current_app._get_current_object()
    events.comment_status_changed.send(
        app, comment=comment, site=site, before=before, after=target, actor=actor
    )
    if target == CommentStatus.APPROVED:
        events.comment_published.send(app, comment=comment, site=site)
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
        delta = transition(
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
    audit_rows.append(_deletion(comment, actor=actor, reason=reason))
    threads.remove_comment(comment)


def _deletion(comment: Comment, *, actor: str, reason: str) -> dict[str, Any]:
    return audit.entry(
        actor=actor,
        action="deleted",
        site_id=comment.site_id,
        comment=comment,
        from_status=comment.status,
        reason=reason,
    )


def bulk_moderate(
    *, token: StaffToken, ids: list[int], action: str, reason: str
) -> tuple[list[int], dict[str, str]]:
    """Apply one action to many comments in one transaction; failures are reported per id, not raised."""
    unique_ids = list(dict.fromkeys(ids))
    comments = {c.id: c for c in db.session.scalars(select(Comment).where(among(Comment.id, unique_ids)))}
    site_by_id = {
        s.id: s
        for s in db.session.scalars(select(Site).where(Site.id.in_({c.site_id for c in comments.values()})))
    }
    updated: list[int] = []
    failed: dict[str, str] = {}
    deltas: dict[int, int] = defaultdict(int)
    touched_threads: set[int] = set()
    rows: list[dict[str, Any]] = []
    doomed: list[Comment] = []
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
            rows.append(_deletion(comment, actor=token.label, reason=reason))
            doomed.append(comment)
            updated.append(comment_id)
            continue
        try:
            # _transition checks before it changes anything, so a refusal leaves the comment untouched.
            deltas[comment.thread_id] += transition(
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
    threads.change_many_thread_counts({thread_id: deltas[thread_id] for thread_id in touched_threads})
    threads.remove_comments(doomed)
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
    # Approved comments are most of a site's and are already counted per thread (threads.comment_count,
    # kept by engagement.threads): summing a site's threads reads hundreds of rows where counting its
    # comments read every one (100,000 at a newsroom's size, on every console page). The other statuses
    # are counted from the queue index, one range each.
    waiting = [s.value for s in CommentStatus if s != CommentStatus.APPROVED]
    for site_id, status, count in db.session.execute(
        select(Comment.site_id, Comment.status, func.count())
        .where(Comment.site_id.in_(ids), Comment.status.in_(waiting))
        .group_by(Comment.site_id, Comment.status)
    ):
        counts[site_id][status] = count
    for site_id, approved in db.session.execute(
        select(Thread.site_id, func.coalesce(func.sum(Thread.comment_count), 0))
        .where(Thread.site_id.in_(ids))
        .group_by(Thread.site_id)
    ):
        counts[site_id][CommentStatus.APPROVED.value] = int(approved)
    oldest = dict(
        db.session.execute(
            select(Comment.site_id, func.min(Comment.created_at))
            .where(Comment.site_id.in_(ids), Comment.status == CommentStatus.PENDING)
            .group_by(Comment.site_id)
        ).all()
    )
    # Approved comments with open readers' reports (the queue's "reported" status).
    reported = dict(
        db.session.execute(
            select(Comment.site_id, func.count())
            .where(Comment.site_id.in_(ids), Comment.status == CommentStatus.APPROVED, _HAS_OPEN_REPORTS)
            .group_by(Comment.site_id)
        ).all()
    )
    for site_id in ids:
        counts[site_id]["reported"] = reported.get(site_id, 0)
    return [
        {"site": s, "counts": counts[s.id], "oldest_pending_at": _as_utc(oldest.get(s.id))} for s in scoped
    ]


def _as_utc(value: Any) -> datetime | None:
    """Aggregates (MIN) bypass the column type on SQLite and come back as text."""
    if value is None or isinstance(value, datetime):
        return value if value is None or value.tzinfo else value.replace(tzinfo=clock.now().tzinfo)
    return datetime.fromisoformat(value).replace(tzinfo=clock.now().tzinfo)
