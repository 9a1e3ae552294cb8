"""Reader comment use cases: post, edit, delete, like. One transaction and one commit each.

Thread counters change only through ``UPDATE ... SET n = n + delta`` so concurrent writers never lose one;
every change a reader can see bumps the thread's ``version``, which is the ETag of its public reads.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import Insert, Integer, bindparam, delete, insert, select, update
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from engagement import audit, clock, events, threads
from engagement.comments import akismet, tokens
from engagement.comments.drafts import Client, NewComment
from engagement.comments.reading import public_comment
from engagement.comments.spam import (
    DUPLICATE,
    Submission,
    Verdict,
    comment_flood,
    duplicate_comment,
    duplicate_parameters,
    flood_wait,
    judge,
    lock_out_duplicates,
)
from engagement.database import insert_if_absent
from engagement.errors import Forbidden, NotFound, ValidationFailed
from engagement.extensions import db
from engagement.models import Comment, CommentLike, CommentStatus, SiteRef
from engagement.rendering import render_comment
from engagement.sso.sessions import ReaderSession
from engagement.sso.tokens import SsoRefused


@dataclass(frozen=True)
class PostedComment:
    comment: Comment
    status: CommentStatus  # what the poster is told: approved or pending (spam is never revealed)
    edit_token: str
    edit_expires_at: datetime
    # The comment's public shape, built before the commit expires the objects it reads (no re-SELECT).
    public: dict[str, Any]


def _public_as_shown(site: SiteRef, comment: Comment) -> tuple[dict[str, Any], CommentStatus]:
    """The public shape of the author's own comment, with the status they are told (spam shows as pending).

    A held comment's answer carries no avatar: its digest would tell whoever posted with a guessed
    address whether that address wrote the comments that show the same avatar (a spam post, with the
    honeypot filled, is answered like a held one and stored nowhere public)."""
    shown = CommentStatus.APPROVED if comment.status == CommentStatus.APPROVED else CommentStatus.PENDING
    public = public_comment(site, comment)
    if shown != CommentStatus.APPROVED:
        public["author"] = {**public["author"], "avatar": None}
    return {**public, "status": shown}, shown


def _check_thread_url(site: SiteRef, url: str | None) -> None:
    if url is None or not site.origins:
        return
    parts = urlsplit(url)
    if not site.allows_origin(f"{parts.scheme}://{parts.netloc}"):
        raise ValidationFailed({"thread_url": ["The article address is not on one of this site's origins."]})


def _check_body_length(site: SiteRef, body: str) -> None:
    limit = site.settings.max_body_length
    if len(body) > limit:
        raise ValidationFailed({"body": [f"Your comment can be at most {limit:,} characters."]})


def _parent_for_reply(site: SiteRef, thread: threads.ThreadForPosting, parent_id: int) -> Comment:
    """The comment a reply attaches to: the parent, or its deepest ancestor within ``max_depth``."""
    parent = db.session.get(Comment, parent_id)
    if parent is None or parent.thread_id != thread.id:
        raise NotFound("parent_not_found", "The comment you are replying to does not exist.")
    if parent.status not in threads.VISIBLE:
        raise Forbidden("reply_to_unapproved", "You cannot reply to a comment that is awaiting moderation.")
    deepest_allowed = site.settings.max_depth - 1
    while parent.depth >= deepest_allowed and parent.parent_id is not None:
        parent = db.session.get(Comment, parent.parent_id)
    return parent


def _identified(site: SiteRef, draft: NewComment, session: ReaderSession | None) -> NewComment:
    """The draft as its author: a guest as they named themselves (unless the site wants readers signed
    in), a signed-in reader as their session names them, whatever the form says (their name from the
    form only when the site's token gave none)."""
    if session is None:
        if site.settings.sso_required:
            raise SsoRefused("sso_required", "Sign in to comment.")
        return draft
    identity = session.identity
    name = identity.name or draft.author_name
    if not name:
        raise ValidationFailed({"author_name": ["Please enter your name."]})
    return dataclasses.replace(
        draft,
        author_name=name,
        author_email=identity.email or "",
        author_url=identity.url or draft.author_url,
        sso_id=identity.sub,
    )


def post_comment(
    *, site: SiteRef, draft: NewComment, client: Client, session: ReaderSession | None = None
) -> PostedComment:
    """Store a reader's comment after the site's rules; the first comment creates the thread.

    ``draft.notify_replies``: the author opted in to mail about replies in this thread (confirmed first).
    ``session``: a reader signed in through the site's single sign-on.
    """
    draft = _identified(site, draft, session)
    now = clock.now()
    _check_body_length(site, draft.body)
    _check_thread_url(site, draft.thread_url)
    # Everything that needs no query comes first: on SQLite the first query takes the write lock,
    # which every other post then waits for (see database.py). The thread and the site's bans come
    # from this process's caches; a thread closed at this very moment may take one more comment, as
    # it could have a moment earlier.
    html = render_comment(draft.body)
    thread = threads.thread_for_posting(site, draft.thread_key)
    if thread is not None and threads.thread_is_closed(thread, site, now):
        raise Forbidden("thread_closed", "Comments are closed.")

    submission = Submission.of_new(
        draft, client, site_id=site.id, thread_id=thread.id if thread else None, html=html
    )
    verdict = judge(submission, site.settings, honeypot_filled=bool(draft.honeypot.strip()), now=now)
    consulted = akismet.consult(
        site=site,
        draft=draft,
        client=client,
        verdict=verdict,
        permalink=draft.thread_url or (thread.url if thread else None),
        now=now,
    )
    edit_key = tokens.new_edit_key()
    if thread is None:
        thread = threads.ensure_thread(site, key=draft.thread_key)
    parent = _parent_for_reply(site, thread, draft.parent_id) if draft.parent_id is not None else None

    # WordPress's order: a duplicate is refused before a flood. The duplicate rule is a condition of
    # the INSERT; the flood rule reads what came before the inserted row, and a 429 rolls it back.
    unless_duplicate = duplicate_parameters(submission, thread_id=thread.id)
    lock_out_duplicates(unless_duplicate)
    comment = _insert_comment(
        unless_duplicate=unless_duplicate,
        site_id=site.id,
        thread_id=thread.id,
        parent_id=parent.id if parent else None,
        root_id=(parent.root_id or parent.id) if parent else None,
        depth=parent.depth + 1 if parent else 0,
        **submission.stored_columns(),
        status=verdict.status,
        spam_reasons=verdict.reasons,
        edit_key_digest=edit_key.digest,
        likes=0,
        pinned=False,
        open_reports=0,
        language=draft.language,
        created_at=now,
    )
    if comment is None:
        db.session.rollback()  # a thread made for it goes too; on SQLite the write lock is free at once
        raise duplicate_comment()
    if (wait := flood_wait(submission, site.settings, now, posted_id=comment.id)) is not None:
        db.session.rollback()
        raise comment_flood(wait)
    akismet.remember(consulted, comment_id=comment.id, site_id=site.id, now=now)
    if verdict.status != CommentStatus.SPAM:
        threads.open_thread(thread, title=draft.thread_title, url=draft.thread_url, now=now)
    if verdict.status == CommentStatus.APPROVED:
        threads.change_thread_counts(thread.id, approved_delta=1, now=now)
        events.comment_published.send(current_app._get_current_object(), comment=comment, site=site)
    else:
        _record_verdict(site, comment, verdict)
    if verdict.status != CommentStatus.SPAM:
        events.comment_posted.send(current_app._get_current_object(), comment=comment, site=site)
    if (
        draft.notify_replies and draft.author_email and verdict.status != CommentStatus.SPAM
    ):  # spam must not make us mail anyone
        events.reply_notifications_requested.send(
            current_app._get_current_object(),
            site=site,
            thread=thread,
            email=draft.author_email,
            language=draft.language,
        )
    token, expires = tokens.issue_edit_token(
        comment_id=comment.id,
        site_id=site.id,
        key=edit_key,
        window_seconds=site.settings.edit_window_seconds,
    )
    public, shown = _public_as_shown(site, comment)
    db.session.commit()
    return PostedComment(
        comment=comment, status=shown, edit_token=token, edit_expires_at=expires, public=public
    )


def _record_verdict(
    site: SiteRef, comment: Comment, verdict: Verdict, *, edited_from: str | None = None
) -> None:
    """A comment the rules held or marked spam (posted, or ``edited_from`` a status): in the audit log,
    and a held one announced (moderators are alerted)."""
    audit.record(
        actor=audit.SYSTEM,
        action="marked_spam" if verdict.status == CommentStatus.SPAM else "held",
        site_id=site.id,
        comment=comment,
        from_status=edited_from,
        to_status=verdict.status,
        reason=("edited: " if edited_from else "") + ", ".join(verdict.reasons),
    )
    if verdict.status == CommentStatus.PENDING and edited_from is None:
        events.comment_held.send(current_app._get_current_object(), comment=comment, site=site)


def _insert_comment(*, unless_duplicate: dict[str, Any], **values: Any) -> Comment | None:
    """One new comment, unless it duplicates one (None then): one ``INSERT ... SELECT ... WHERE NOT
    EXISTS`` returning the id, then attached to the session as a persistent row. The unit of work
    around a single insert cost a post more than the statement. Columns not given are NULL, so the
    attached row has nothing left to load (a required one fails the insert)."""
    values = {**dict.fromkeys(_COMMENT_COLUMNS - values.keys()), **values}
    parameters = {f"new_{name}": value for name, value in values.items()} | unless_duplicate
    comment_id = db.session.execute(_insert_unless_duplicate(), parameters).scalar()
    if comment_id is None:
        return None
    # The row as stored: committed values, so no attribute event runs (the body's would digest it again).
    comment = Comment(id=comment_id)
    for name, value in values.items():
        set_committed_value(comment, name, value)
    make_transient_to_detached(comment)
    db.session.add(comment)
    return comment


_COMMENT_COLUMNS = frozenset(attribute.key for attribute in Comment.__mapper__.column_attrs) - {"id"}


@functools.cache
def _insert_unless_duplicate() -> Insert:
    # Built once: per post, its two dozen typed parameters and its cache key cost more than running it.
    # Typed parameters: PostgreSQL gets each value with its column's cast, SQLite as it would in VALUES.
    table = Comment.__table__
    names = sorted(_COMMENT_COLUMNS)
    row = select(*(bindparam(f"new_{name}", type_=table.c[name].type) for name in names)).where(~DUPLICATE)
    return insert(table).from_select(names, row).returning(table.c.id)


def _own_comment(
    site: SiteRef, comment_id: int, authorization: str | None, session: ReaderSession | None
) -> Comment:
    """The comment, if the request may change it: its edit token, or the session of the signed-in reader
    who wrote it (on any device), within the site's edit window."""
    comment = db.session.get(Comment, comment_id)
    if comment is None or comment.site_id != site.id or comment.status == CommentStatus.DELETED:
        raise NotFound("comment_not_found", "There is no such comment.")
    if authorization is None and session is not None and session.sub == comment.author_sso_id:
        window = timedelta(seconds=site.settings.edit_window_seconds)
        if clock.now() >= comment.created_at + window:
            raise Forbidden("edit_window_expired", "This comment can no longer be edited or deleted.")
        return comment
    tokens.check_edit_token(
        authorization, comment_id=comment.id, site_id=site.id, key_digest=comment.edit_key_digest
    )
    return comment


def edit_comment(
    *,
    site: SiteRef,
    comment_id: int,
    authorization: str | None,
    body: str,
    ip: str | None,
    session: ReaderSession | None = None,
) -> tuple[dict[str, Any], CommentStatus]:
    """The author edits the body within the edit window: re-rendered and re-judged by the rules.

    Returns the comment's public shape and the status the author is told."""
    comment = _own_comment(site, comment_id, authorization, session)
    _check_body_length(site, body)
    html = render_comment(body)
    was_approved = comment.status == CommentStatus.APPROVED
    if comment.status in (CommentStatus.APPROVED, CommentStatus.PENDING):
        submission = Submission.of_edit(comment, body=body, html=html, ip=ip)
        verdict = judge(submission, site.settings, honeypot_filled=False, now=clock.now())
        # An edit can only make things stricter: a held comment is not approved by editing it.
        if verdict.status != CommentStatus.APPROVED and verdict.status != comment.status:
            _record_verdict(site, comment, verdict, edited_from=comment.status)
            comment.previous_status = comment.status
            comment.status = verdict.status
        comment.spam_reasons = verdict.reasons
    comment.body = body
    comment.html = html
    comment.edited_at = clock.now()
    now_approved = comment.status == CommentStatus.APPROVED
    if was_approved or now_approved:
        threads.change_thread_counts(comment.thread_id, approved_delta=int(now_approved) - int(was_approved))
    edited = _public_as_shown(site, comment)
    events.comment_edited.send(current_app._get_current_object(), comment=comment, site=site)
    db.session.commit()
    return edited


def delete_comment(
    *, site: SiteRef, comment_id: int, authorization: str | None, session: ReaderSession | None = None
) -> None:
    """The author deletes their comment within the edit window."""
    comment = _own_comment(site, comment_id, authorization, session)
    threads.remove_comment(comment)
    events.comment_deleted.send(current_app._get_current_object(), comment=comment, site=site)
    db.session.commit()


def set_like(*, site: SiteRef, comment_id: int, reader: str, liked: bool) -> tuple[int, bool]:
    """Like or unlike as one reader; repeating either is a no-op. Returns (likes, liked)."""
    comment = db.session.get(Comment, comment_id)
    if comment is None or comment.site_id != site.id or comment.status != CommentStatus.APPROVED:
        raise NotFound("comment_not_found", "There is no such comment.")
    if liked:
        inserted = insert_if_absent(
            CommentLike.__table__,
            {"comment_id": comment.id, "reader_hash": reader, "created_at": clock.now()},
            conflict_columns=["comment_id", "reader_hash"],
        )
        delta = 1 if inserted else 0
    else:
        removed = db.session.execute(_UNLIKE, {"comment_id": comment.id, "reader": reader}).first()
        delta = -1 if removed else 0
    likes = comment.likes  # read in this transaction
    if delta:
        likes = db.session.execute(_CHANGE_LIKES, {"comment_id": comment.id, "delta": delta}).scalar_one()
        threads.change_thread_counts(comment.thread_id)
    db.session.commit()
    return likes, liked


# Built once, of table columns: one statement that moves the count and answers it, without the ORM's bulk
# UPDATE path (its session synchronisation cost a like more than the statement).
_CHANGE_LIKES = (
    update(Comment.__table__)
    .where(Comment.__table__.c.id == bindparam("comment_id"))
    .values(likes=Comment.__table__.c.likes + bindparam("delta", type_=Integer))
    .returning(Comment.__table__.c.likes)
)
_LIKES = CommentLike.__table__
_UNLIKE = (
    delete(_LIKES)
    .where(_LIKES.c.comment_id == bindparam("comment_id"), _LIKES.c.reader_hash == bindparam("reader"))
    .returning(_LIKES.c.comment_id)
)
