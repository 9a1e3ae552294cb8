"""Thread bookkeeping: the one module that updates threads, and so the one that writes what readers see
of them.

A thread's ``comment_count`` (approved comments) and ``version`` (the ETag of every public read) change
only here, through atomic ``UPDATE ... SET n = n + delta`` statements, and every such write leaves every
process's caches after it commits (the thread's change stamps, see ``engagement.caching``). Features call
these functions; a test holds every other module to them (tests/test_architecture.py).
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, Update, and_, bindparam, case, delete, exists, func, insert, select, update
from sqlalchemy.orm import aliased

from engagement import caching, clock
from engagement.database import insert_ignoring_conflicts
from engagement.extensions import db
from engagement.models import Comment, CommentStatus, SiteRef, Thread

# The statuses a thread shows (a deleted comment as the placeholder of its replies); the one definition.
VISIBLE = (CommentStatus.APPROVED, CommentStatus.DELETED)
CHUNK = 500


@dataclass(frozen=True, slots=True)
class ThreadForPosting:
    """What posting a comment reads of its thread: which one it is and whether it takes comments."""

    id: int
    key: str
    title: str
    url: str
    closed: bool
    opened_at: datetime | None  # None: only spam has come (see Thread.opened_at)


def thread_for_posting(site: SiteRef, key: str) -> ThreadForPosting | None:
    """The thread a new comment goes to (None: not made yet), from this process's cache while neither
    staff nor an import changed it; new comments leave it cached (``caching.thread_posting_key``)."""

    def load() -> ThreadForPosting | None:
        return read_thread_for_posting(site.id, key)

    return caching.cache("thread_posting").get(caching.thread_posting_key(site.id, key), load)


def read_thread_for_posting(site_id: int, key: str) -> ThreadForPosting | None:
    """The thread from the database (no cache)."""
    row = db.session.execute(
        select(Thread.id, Thread.key, Thread.title, Thread.url, Thread.closed, Thread.opened_at).where(
            Thread.site_id == site_id, Thread.key == key
        )
    ).first()
    return ThreadForPosting(*row) if row else None


def ensure_thread(site: SiteRef, *, key: str) -> ThreadForPosting:
    """The thread for ``key``, created by its first comment; concurrent first comments create one. It
    is created bare: a title, a URL and an age come only from a comment that is not spam (``open_thread``)."""
    db.session.execute(
        insert_ignoring_conflicts(
            Thread.__table__,
            {
                "site_id": site.id,
                "key": key,
                "title": "",
                "url": "",
                "closed": False,
                "comment_count": 0,
                "version": 1,
                "created_at": clock.now(),
                "opened_at": None,
            },
            conflict_columns=["site_id", "key"],
        )
    )
    caching.touch_after_commit(caching.thread_keys(site.id, key))
    thread = read_thread_for_posting(site.id, key)
    assert thread is not None  # inserted above, or by a concurrent first comment
    return thread


def open_thread(thread: ThreadForPosting, *, title: str, url: str | None, now: datetime) -> None:
    """A comment that is not spam came: the thread is open from now if only spam came before, and takes
    the article's title and URL where it has none. A title or URL once set is kept: only staff change
    it. On a thread that has both, nothing runs (the common post)."""
    if thread.opened_at is not None and (thread.title or not title) and (thread.url or not url):
        return
    parameters = {
        "opened_thread_id": thread.id,
        "opened_now": now,
        "offered_title": title,
        "offered_url": url or "",
    }
    _execute(_opening(), parameters)


@functools.cache
def _opening() -> Update:
    threads = Thread.__table__
    title = bindparam("offered_title", type_=threads.c.title.type)
    url = bindparam("offered_url", type_=threads.c.url.type)
    now = bindparam("opened_now", type_=threads.c.opened_at.type)
    return (
        update(threads)
        .where(threads.c.id == bindparam("opened_thread_id", type_=Integer))
        .values(
            opened_at=func.coalesce(threads.c.opened_at, now),
            title=case((threads.c.title == "", title), else_=threads.c.title),
            url=case((threads.c.url == "", url), else_=threads.c.url),
            version=threads.c.version + 1,
        )
    )


def thread_is_closed(thread: ThreadForPosting, site: SiteRef, now: datetime) -> bool:
    """Closed by staff, or opened longer than the site's ``close_after_days`` ago (0: never by age). A
    thread only spam has reached has no age: spam cannot close tomorrow's article in advance."""
    days = site.settings.close_after_days
    opened = thread.opened_at
    return thread.closed or (days > 0 and opened is not None and opened < now - timedelta(days=days))


def change_thread_counts(thread_id: int, *, approved_delta: int = 0, now: datetime | None = None) -> None:
    """Adjust the approved count and bump the version in one atomic statement."""
    parameters: dict[str, Any] = {"target_thread_id": thread_id, "count_delta": approved_delta}
    if now is not None:
        parameters["new_last_comment_at"] = now
    _execute(_count_change(now is not None), parameters, counts_only=True)


def change_many_thread_counts(deltas: Mapping[int, int]) -> None:
    """``change_thread_counts`` for many threads (a bulk decision, an erasure): one statement per
    distinct change, whatever the number of threads and comments."""
    threads = Thread.__table__
    by_delta: dict[int, list[int]] = defaultdict(list)
    for thread_id, delta in deltas.items():
        by_delta[delta].append(thread_id)
    for delta, thread_ids in by_delta.items():
        _execute(
            update(threads)
            .where(threads.c.id.in_(thread_ids))
            .values(comment_count=threads.c.comment_count + delta, version=threads.c.version + 1),
            counts_only=True,
        )


@functools.cache
def _count_change(sets_last_comment: bool) -> Update:
    # A Core UPDATE (the ORM's would also evaluate the change against every Thread in the session),
    # built once: every post and moderation decision runs it.
    threads = Thread.__table__
    values: dict[str, Any] = {
        "comment_count": threads.c.comment_count + bindparam("count_delta", type_=Integer),
        "version": threads.c.version + 1,
    }
    if sets_last_comment:
        values["last_comment_at"] = bindparam("new_last_comment_at", type_=threads.c.last_comment_at.type)
    return (
        update(threads).where(threads.c.id == bindparam("target_thread_id", type_=Integer)).values(**values)
    )


def remove_comment(comment: Comment) -> None:
    """Delete a comment; one that still has replies stays as a ``deleted`` placeholder without author or body.

    A placeholder left without replies by this removal disappears as well. Caller commits.
    """
    was_visible = comment.status in VISIBLE
    was_approved = comment.status == CommentStatus.APPROVED
    thread_id, parent_id = comment.thread_id, comment.parent_id
    has_replies = db.session.scalar(select(exists().where(Comment.parent_id == comment.id)))
    if has_replies:
        _blank(comment)
    else:
        db.session.delete(comment)
        db.session.flush()
        _prune_placeholders(parent_id)
    if was_visible:
        change_thread_counts(thread_id, approved_delta=-int(was_approved))


def remove_comments(comments: Collection[Comment]) -> None:
    """``remove_comment`` of many at once (an erasure, a bulk delete), with the same outcome in a number
    of statements that does not grow with theirs: one to find the replies that stay, one update for the
    placeholders, one delete, the pruning of placeholders left empty (one per level of nesting), one
    count change per distinct delta. Caller commits."""
    by_id = {comment.id: comment for comment in comments}
    if not by_id:
        return
    staying_replies = select(Comment.parent_id).where(
        Comment.parent_id.in_(list(by_id)), Comment.id.not_in(list(by_id))
    )
    placeholders = set(db.session.scalars(staying_replies.distinct()))
    # A removed reply kept as a placeholder keeps its removed parent too, up the chain.
    for comment_id in list(placeholders):
        parent_id = by_id[comment_id].parent_id
        while parent_id in by_id and parent_id not in placeholders:
            placeholders.add(parent_id)
            parent_id = by_id[parent_id].parent_id
    deltas: dict[int, int] = defaultdict(int)
    for comment in by_id.values():
        if comment.status in VISIBLE:
            deltas[comment.thread_id] -= int(comment.status == CommentStatus.APPROVED)
        if comment.id in placeholders:
            _blank(comment)
    deleted = [comment for comment_id, comment in by_id.items() if comment_id not in placeholders]
    db.session.flush()
    if deleted:
        db.session.execute(
            delete(Comment)
            .where(Comment.id.in_([comment.id for comment in deleted]))
            .execution_options(synchronize_session=False)
        )
        for comment in deleted:
            db.session.expunge(comment)
        _prune_many({c.parent_id for c in deleted if c.parent_id is not None} - set(by_id))
    change_many_thread_counts(deltas)


def _blank(comment: Comment) -> None:
    """A comment with replies becomes a placeholder: no author, no words, no key."""
    comment.previous_status = comment.status
    comment.status = CommentStatus.DELETED
    comment.author_name = ""
    comment.author_email = ""
    comment.author_url = None
    comment.ip_hash = None
    comment.user_agent = ""
    comment.body = ""
    comment.html = ""
    comment.edit_key_digest = None


_REPLY = aliased(Comment)


def _prune_many(candidate_ids: set[int]) -> None:
    """Placeholders among ``candidate_ids`` left without replies go, and then their parents likewise."""
    while candidate_ids:
        empty = db.session.execute(
            select(Comment.id, Comment.parent_id).where(
                Comment.id.in_(candidate_ids),
                Comment.status == CommentStatus.DELETED,
                ~exists().where(_REPLY.parent_id == Comment.id),
            )
        ).all()
        if not empty:
            return
        db.session.execute(
            delete(Comment)
            .where(Comment.id.in_([row.id for row in empty]))
            .execution_options(synchronize_session="fetch")
        )
        candidate_ids = {row.parent_id for row in empty if row.parent_id is not None}


def _prune_placeholders(comment_id: int | None) -> None:
    while comment_id is not None:
        placeholder = db.session.get(Comment, comment_id)
        if placeholder is None or placeholder.status != CommentStatus.DELETED:
            return
        if db.session.scalar(select(exists().where(Comment.parent_id == placeholder.id))):
            return
        comment_id = placeholder.parent_id
        db.session.delete(placeholder)
        db.session.flush()


def _execute(
    statement: Update, parameters: dict[str, Any] | None = None, *, counts_only: bool = False
) -> None:
    """Run an UPDATE of threads; every thread it changed leaves every process's caches after commit.

    ``counts_only``: the statement changes only what comments change (count, version, last comment
    time), so what posting reads stays cached."""
    changed = db.session.execute(_returning_thread_keys(statement), parameters or {})
    if counts_only:
        caching.touch_after_commit(caching.thread_key(site_id, key) for site_id, key in changed)
    else:
        caching.touch_after_commit(
            stamp for site_id, key in changed for stamp in caching.thread_keys(site_id, key)
        )


@functools.lru_cache(maxsize=64)
def _returning_thread_keys(statement: Update) -> Update:
    # Kept per statement (compared by identity), so a statement built once keeps its compiled form.
    columns = Thread.__table__.c  # table columns keep a Core statement off the ORM's bulk-update path
    return statement.returning(columns.site_id, columns.key)


def update_thread(thread_id: int, **changes: Any) -> None:
    """Staff change a thread (``closed``, ``title``); readers see it at once (a version bump)."""
    _execute(update(Thread).where(Thread.id == thread_id).values(**changes, version=Thread.version + 1))


def write_imported_threads(
    site_id: int, rows: dict[str, dict[str, Any]], *, existing: dict[str, int]
) -> dict[str, int]:
    """An import's threads by key, each with its title, URL, closed state and times: those of
    ``existing`` (key -> id) updated, the others created (count 0, version 1); returns every key's id.
    Two statements however many; counts and versions are the import's ``recount``, after its comments,
    and every one's caches are dropped after commit."""
    ids = dict(existing)
    created = [key for key in rows if key not in existing]
    if created:
        # Core, not the ORM's bulk insert (which splits the rows at every change of which are None), and
        # each id told by its key: SQLite cannot return them in order but in a statement a row.
        table = Thread.__table__
        statement = insert(table).returning(table.c.key, table.c.id)
        new_rows = [{"site_id": site_id, "key": key, **rows[key]} for key in created]
        ids.update(db.session.execute(statement, new_rows).tuples().all())
    changed = [{"id": thread_id, **rows[key]} for key, thread_id in existing.items()]
    if changed:
        db.session.execute(update(Thread), changed)
    caching.touch_after_commit(stamp for key in rows for stamp in caching.thread_keys(site_id, key))
    return ids


def recount(
    thread_ids: Iterable[int], *, derive_last_comment: Iterable[int] = (), derive_created: Iterable[int] = ()
) -> None:
    """After an import: exact approved counts and a version bump for every thread of ``thread_ids``, in
    SQL; the newest approved comment's time as ``last_comment_at`` of ``derive_last_comment``, and the
    oldest comment's as the creation and opening time of ``derive_created`` (where the source said none)."""
    approved = and_(Comment.thread_id == Thread.id, Comment.status == CommentStatus.APPROVED)
    count = select(func.count()).where(approved).scalar_subquery()
    newest = select(func.max(Comment.created_at)).where(approved).scalar_subquery()
    oldest = select(func.min(Comment.created_at)).where(Comment.thread_id == Thread.id).scalar_subquery()
    for chunk in _chunks(thread_ids):
        _execute(
            update(Thread)
            .where(Thread.id.in_(chunk))
            .values(comment_count=count, version=Thread.version + 1)
            .execution_options(synchronize_session=False)
        )
    for chunk in _chunks(derive_last_comment):
        _execute(
            update(Thread)
            .where(Thread.id.in_(chunk))
            .values(last_comment_at=func.coalesce(newest, Thread.last_comment_at))
            .execution_options(synchronize_session=False)
        )
    for chunk in _chunks(derive_created):
        _execute(
            update(Thread)
            .where(Thread.id.in_(chunk), Thread.created_at > oldest)
            .values(created_at=oldest, opened_at=oldest)
            .execution_options(synchronize_session=False)
        )


def _chunks(ids: Iterable[int]) -> Iterable[list[int]]:
    ordered = sorted(ids)
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start : start + CHUNK]
