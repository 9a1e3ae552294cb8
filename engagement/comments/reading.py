"""Public reads: thread pages, replies, counts and the Atom feed. Reads never render Markdown or sanitize
HTML.

A page costs a fixed number of queries whatever the thread's size: the thread row, one page of top-level
comments (keyset pagination), where their replies stand (from an index, no reply's text) and the replies
the page carries. A page carries at most ``REPLIES_PER_COMMENT`` replies of each top-level comment and
``REPLIES_PER_PAGE`` in all; the rest load on demand, a keyset page at a time (``read_replies``). What a
page produces is cached per process, keyed by the thread's ``version``, which every visible change bumps;
so a cache entry can never be stale, only unused.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from xml.etree import ElementTree as ET

from flask import current_app
from marshmallow import Schema
from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import aliased

from engagement import caching
from engagement.clock import isoformat_z
from engagement.comments.schemas import CommentPageSchema, RepliesPageSchema
from engagement.errors import NotFound
from engagement.extensions import db
from engagement.hashing import avatar_hash
from engagement.http import content_etag, gzipped
from engagement.models import Comment, CommentStatus, SiteRef, Thread
from engagement.pagination import decode_cursor, encode_cursor, keyset_after
from engagement.threads import VISIBLE

FEED_SIZE = 50
# A page carries each top-level comment's first replies, and at most so many in all (given to its
# top-level comments in page order), so its size does not grow with a thread's longest conversation.
REPLIES_PER_COMMENT = 10
REPLIES_PER_PAGE = 250
# Serialized pages kept per process; a page bigger than an eighth of it is served but not kept.
PAGE_CACHE_BYTES = 32 * 2**20
PAGE_CACHE_ENTRIES = 4096
_PAGE_SCHEMA = CommentPageSchema()
_REPLIES_SCHEMA = RepliesPageSchema()

_reply = aliased(Comment)
# A reply a reader sees: an approved one, or the placeholder of a deleted one while it holds a visible reply.
_LISTED_REPLY = or_(
    Comment.status == CommentStatus.APPROVED,
    and_(
        Comment.status == CommentStatus.DELETED,
        exists().where(_reply.parent_id == Comment.id, _reply.status.in_(VISIBLE)),
    ),
)
_REPLY_ORDER = (Comment.created_at, Comment.id)


# Whether the request's If-None-Match names an (unquoted) ETag: engagement.http.client_has.
ClientHas = Callable[[str], bool]


@dataclass(frozen=True)
class PageResult:
    etag: str
    body: bytes | None  # None: the client's copy is current (304)
    compressed: bytes | None = None  # body gzipped, for clients that accept it (http.gzipped)


def public_settings(site: SiteRef) -> dict[str, Any]:
    settings = site.settings
    return {
        "max_depth": settings.max_depth,
        "max_body_length": settings.max_body_length,
        "edit_window_seconds": settings.edit_window_seconds,
        "live_interval_seconds": settings.live_interval_seconds,
        "sso_required": settings.sso_required,
        "sso_login_url": settings.sso_login_url or None,
    }


@dataclass(frozen=True, slots=True)
class ThreadState:
    """What public reads need of a thread row, cached per process while its change stamp holds."""

    id: int
    key: str
    title: str
    url: str
    comment_count: int
    closed: bool
    version: int


_THREAD_STATE_COLUMNS = (
    Thread.id,
    Thread.key,
    Thread.title,
    Thread.url,
    Thread.comment_count,
    Thread.closed,
    Thread.version,
)


def thread_states(site: SiteRef, keys: list[str]) -> dict[str, ThreadState | None]:
    """The threads of these keys (None: no comment has made it yet), unchanged ones from this process's
    cache and the rest in one query (see ``engagement.caching``)."""
    by_stamp = {caching.thread_key(site.id, key): key for key in keys}

    def load(missing: list[str]) -> dict[str, ThreadState | None]:
        found = read_thread_states(site.id, [by_stamp[stamp_key] for stamp_key in missing])
        return {stamp_key: found.get(by_stamp[stamp_key]) for stamp_key in missing}

    states = caching.cache("threads").get_many(list(by_stamp), load)
    return {key: states[stamp_key] for stamp_key, key in by_stamp.items()}


def read_thread_states(site_id: int, keys: list[str]) -> dict[str, ThreadState]:
    """The existing threads of these keys, read from the database (no cache)."""
    rows = db.session.execute(
        select(*_THREAD_STATE_COLUMNS).where(Thread.site_id == site_id, Thread.key.in_(keys))
    )
    return {row.key: ThreadState(*row) for row in rows}


def read_page(*, site: SiteRef, thread_key: str, sort: str, limit: int, cursor: str | None) -> PageResult:
    """One page of a thread's top-level comments with their first replies, and its ETag.

    A page this process built is kept with its ETag while the thread's change stamp holds (every change a
    reader can see touches it; ``engagement.caching``), so answering 304, or the page, costs no query."""
    settings = public_settings(site)
    fingerprint = _fingerprint(settings)

    def build() -> tuple[str, bytes, bytes | None]:
        thread = thread_states(site, [thread_key])[thread_key]
        etag = f"{thread.id}.{thread.version}.{fingerprint}" if thread else f"0.0.{fingerprint}"
        body = _render_page(site, thread, thread_key, settings, sort=sort, limit=limit, cursor=cursor)
        # Compressed once with the page it is kept beside: a reader's browser asks for gzip on every view.
        return etag, body, gzipped(body)

    # The thread's key, not its id: a thread not made yet has none, and its page names its key.
    key = (site.id, fingerprint, thread_key, sort, limit, cursor)
    pages = caching.dependent_cache(
        "pages", max_bytes=PAGE_CACHE_BYTES, max_entries=PAGE_CACHE_ENTRIES, lru=True
    )
    etag, body, compressed = pages.get(key, lambda: [caching.thread_key(site.id, thread_key)], build)
    return PageResult(etag=etag, body=body, compressed=compressed)


def read_replies(
    *, site: SiteRef, comment_id: int, limit: int, cursor: str | None, client_has: ClientHas
) -> PageResult:
    """A keyset page of a top-level comment's visible replies in creation order, flat (each names its
    parent and depth), or nothing when the ETag (the thread's version, as for pages) matches. 404 unless
    the comment is a visible top-level comment of this site."""
    after = decode_cursor(cursor, datetime, int) if cursor else None
    thread = db.session.execute(
        select(Thread.id, Thread.version)
        .join(Comment, Comment.thread_id == Thread.id)
        .where(
            Comment.id == comment_id,
            Comment.site_id == site.id,
            Comment.parent_id.is_(None),
            Comment.status.in_(VISIBLE),
        )
    ).first()
    if thread is None:
        raise NotFound("comment_not_found", "There is no such comment.")
    etag = f"{thread.id}.{thread.version}.{_fingerprint(public_settings(site))}"
    if client_has(etag):
        return PageResult(etag=etag, body=None)

    query = select(Comment).where(Comment.root_id == comment_id, _LISTED_REPLY)
    if after:
        query = query.where(keyset_after(_REPLY_ORDER, after, (False, False)))
    replies = list(db.session.scalars(query.order_by(*_REPLY_ORDER).limit(limit + 1)))
    next_cursor = None
    if len(replies) > limit:
        replies = replies[:limit]
        next_cursor = encode_cursor(replies[-1].created_at, replies[-1].id)
    page = {"replies": [_public_comment(site, reply, []) for reply in replies], "next_cursor": next_cursor}
    return PageResult(etag=etag, body=_encode(_REPLIES_SCHEMA, page))


def _fingerprint(settings: dict[str, Any]) -> str:
    return "-".join(str(v) for v in settings.values())


def _encode(schema: Schema, document: dict[str, Any]) -> bytes:
    return json.dumps(schema.dump(document), ensure_ascii=False, separators=(",", ":")).encode()


def _render_page(
    site: SiteRef,
    thread: ThreadState | None,
    thread_key: str,
    settings: dict[str, Any],
    *,
    sort: str,
    limit: int,
    cursor: str | None,
) -> bytes:
    after = decode_cursor(cursor, bool, int if sort == "top" else datetime, int) if cursor else None
    comments: list[dict[str, Any]] = []
    next_cursor = None
    if thread is not None:
        top = _top_level(thread.id, sort=sort, limit=limit, after=after)
        if len(top) > limit:
            top = top[:limit]
            next_cursor = encode_cursor(*_cursor_values(top[-1], sort))
        carried = _carried_replies(top)
        comments = _tree(site, top, carried, _replies(carried))
    page = {
        "thread": {
            "key": thread.key if thread else thread_key,
            "title": thread.title if thread else "",
            "url": thread.url if thread else "",
            "comment_count": thread.comment_count if thread else 0,
            "closed": thread.closed if thread else False,
        },
        "settings": settings,
        "comments": comments,
        "next_cursor": next_cursor,
    }
    return _encode(_PAGE_SCHEMA, page)


def _order(sort: str) -> tuple[list[Any], list[bool]]:
    """Columns and directions of a sort, after pinned comments (which always come first)."""
    if sort == "top":
        return [Comment.likes, Comment.id], [True, True]
    if sort == "newest":
        return [Comment.created_at, Comment.id], [True, True]
    return [Comment.created_at, Comment.id], [False, False]


def _cursor_values(comment: Comment, sort: str) -> tuple[Any, ...]:
    return (comment.pinned, comment.likes if sort == "top" else comment.created_at, comment.id)


def _top_level(thread_id: int, *, sort: str, limit: int, after: tuple[Any, ...] | None) -> list[Comment]:
    """``limit + 1`` top-level comments after the cursor: the pinned ones first, then the others.

    Each part is one range of ix_comments_thread_top (or _likes, for "top"), pinned being in the index
    before the sort's columns, so a page of a 50,000-comment thread, first or deep, reads its own rows."""
    columns, descending = _order(sort)
    order = [c.desc() if d else c.asc() for c, d in zip(columns, descending, strict=True)]
    rows: list[Comment] = []
    for pinned in (True, False):
        if after is not None and after[0] is False and pinned:
            continue  # the cursor is past the pinned ones
        query = select(Comment).where(
            Comment.thread_id == thread_id,
            Comment.depth == 0,
            Comment.pinned == pinned,
            Comment.status.in_(VISIBLE),
        )
        if after is not None and after[0] == pinned:
            query = query.where(keyset_after(columns, after[1:], descending))
        rows += db.session.scalars(query.order_by(*order).limit(limit + 1 - len(rows)))
        if len(rows) > limit:
            break
    return rows


@dataclass
class _Carried:
    """What a page carries of one top-level comment's replies."""

    total: int = 0  # its visible replies, carried or not
    ids: list[int] = field(default_factory=list)  # the carried ones, in creation order
    last: tuple[datetime, int] | None = None  # where the replies endpoint continues after them

    @property
    def more(self) -> bool:
        return self.total > len(self.ids)


def _carried_replies(top: list[Comment]) -> dict[int, _Carried]:
    """Which replies the page carries, per top-level comment: its first ones in creation order, at most
    ``REPLIES_PER_COMMENT`` and while the page's ``REPLIES_PER_PAGE`` last, stopping before a reply whose
    parent is not carried (the rest load on demand, so none is lost). One query on the replies' index:
    how many each has and the position of its first ones, without reading any reply's text."""
    carried = {comment.id: _Carried() for comment in top}
    if not top:
        return carried
    ranked = (
        select(
            Comment.id,
            Comment.root_id,
            Comment.parent_id,
            Comment.created_at,
            func.row_number().over(partition_by=Comment.root_id, order_by=_REPLY_ORDER).label("position"),
            func.count().over(partition_by=Comment.root_id).label("total"),
        )
        .where(Comment.root_id.in_(list(carried)), _LISTED_REPLY)
        .subquery()
    )
    firsts: dict[int, list[Any]] = defaultdict(list)
    for row in db.session.execute(
        select(ranked)
        .where(ranked.c.position <= REPLIES_PER_COMMENT)
        .order_by(ranked.c.root_id, ranked.c.position)
    ):
        firsts[row.root_id].append(row)
    budget = REPLIES_PER_PAGE
    for comment in top:
        rows, entry = firsts.get(comment.id, []), carried[comment.id]
        entry.total = rows[0].total if rows else 0
        shown = {comment.id}
        for row in rows[:budget]:
            if row.parent_id not in shown:
                # Its parent comes later (an import kept odd times) or is hidden: it waits for the
                # replies endpoint, where the widget puts it under its parent once that arrives.
                break
            shown.add(row.id)
            entry.ids.append(row.id)
            entry.last = (row.created_at, row.id)
        budget -= len(entry.ids)
    return carried


def _replies(carried: dict[int, _Carried]) -> list[Comment]:
    ids = [reply_id for entry in carried.values() for reply_id in entry.ids]
    if not ids:
        return []
    return list(db.session.scalars(select(Comment).where(Comment.id.in_(ids)).order_by(*_REPLY_ORDER)))


def _tree(
    site: SiteRef, top: list[Comment], carried: dict[int, _Carried], replies: list[Comment]
) -> list[dict[str, Any]]:
    children: dict[int, list[Comment]] = defaultdict(list)
    for reply in replies:
        children[reply.parent_id or 0].append(reply)

    def build(comment: Comment) -> dict[str, Any]:
        return _public_comment(site, comment, [build(child) for child in children[comment.id]])

    comments = []
    for comment in top:
        entry = carried[comment.id]
        if comment.status == CommentStatus.DELETED and not entry.total:
            continue  # a placeholder is shown only to hold replies in place
        node = build(comment)
        node["reply_count"] = entry.total
        node["more_replies"] = entry.more
        node["replies_cursor"] = encode_cursor(*entry.last) if entry.more and entry.last else None
        comments.append(node)
    return comments


def _public_comment(site: SiteRef, comment: Comment, replies: list[dict[str, Any]]) -> dict[str, Any]:
    deleted = comment.status == CommentStatus.DELETED
    return {
        "id": comment.id,
        "parent_id": comment.parent_id,
        "depth": comment.depth,
        "author": {
            "name": "" if deleted else comment.author_name,
            "url": None if deleted else comment.author_url,
            "avatar": None if deleted else avatar_path(site, _avatar_seed(comment)),
            "signed_in": not deleted and comment.author_sso_id is not None,
        },
        "html": "" if deleted else comment.html,
        "created_at": isoformat_z(comment.created_at),
        "edited_at": isoformat_z(comment.edited_at),
        "likes": comment.likes,
        "status": comment.status,
        "replies": replies,
    }


def public_comment(site: SiteRef, comment: Comment) -> dict[str, Any]:
    """One comment in its public shape, without replies (the answer to a post or an edit)."""
    return _public_comment(site, comment, [])


def _avatar_seed(comment: Comment) -> str:
    # A signed-in reader's avatar follows their account (which may have no email); a guest's their email.
    return f"sso:{comment.author_sso_id}" if comment.author_sso_id is not None else comment.author_email


def avatar_path(site: SiteRef, email: str) -> str:
    return f"/api/v1/sites/{site.slug}/avatars/{avatar_hash(site.slug, email)}.svg"


def counts_answer(*, site: SiteRef, query: bytes, thread_keys: list[str]) -> PageResult:
    """The JSON answer to a counts request with its ETag. An article
    list asks the same query on every view, so the answer is kept per query string while none of its
    threads changed: a repeat reads fifty stamps and skips the lookups and the encoding (and the
    validation of ``thread_keys``, which ``engagement.http`` remembers per query string)."""

    def depends_on() -> list[str]:
        return [caching.thread_key(site.id, key) for key in dict.fromkeys(thread_keys)]

    def build() -> tuple[str, bytes]:
        body = (
            current_app.json.dumps({"counts": comment_counts(site=site, keys=thread_keys)}) + "\n"
        ).encode()
        return content_etag(body), body

    answers = caching.dependent_cache("counts_answers")
    etag, body = answers.get((site.id, query), depends_on, build)
    return PageResult(etag=etag, body=body)


def comment_counts(*, site: SiteRef, keys: list[str]) -> dict[str, int]:
    """Approved comment counts for up to 100 thread keys: unchanged threads from this process's cache,
    the others in one query; unknown keys count 0."""
    states = thread_states(site, list(dict.fromkeys(keys)))
    return {key: state.comment_count if (state := states[key]) else 0 for key in keys}


ATOM = "http://www.w3.org/2005/Atom"


def atom_feed(*, site: SiteRef, thread_key: str | None, base_url: str) -> bytes:
    """Atom 1.0 of the newest approved comments of a site or one thread."""
    query = (
        select(Comment, Thread)
        .join(Thread, Comment.thread_id == Thread.id)
        .where(Comment.status == CommentStatus.APPROVED)
        .order_by(Comment.created_at.desc(), Comment.id.desc())
        .limit(FEED_SIZE)
    )
    if thread_key is None:
        query = query.where(Comment.site_id == site.id)
    else:
        # By the thread's id, found first: the newest of its comments are one range of
        # ix_comments_thread_created (joined by key, PostgreSQL walked the site's whole queue).
        thread = thread_states(site, [thread_key])[thread_key]
        query = query.where(Comment.thread_id == (thread.id if thread else 0))
    rows = db.session.execute(query).all()

    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    scope = f"{site.slug}:{thread_key}" if thread_key else site.slug
    _text(feed, "id", f"urn:engagement:{scope}")
    _text(
        feed, "title", f"Comments on {site.name}" + (f": {rows[0][1].title}" if thread_key and rows else "")
    )
    self_url = f"{base_url}/api/v1/sites/{site.slug}/feed.atom"
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="self", href=self_url)
    newest = max((c.edited_at or c.created_at for c, _ in rows), default=None)
    _text(feed, "updated", isoformat_z(newest) or "1970-01-01T00:00:00Z")
    for comment, thread in rows:
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        _text(entry, "id", f"urn:engagement:{site.slug}:comment:{comment.id}")
        _text(entry, "title", f"{comment.author_name} on {thread.title or thread.key}")
        if thread.url:
            ET.SubElement(
                entry,
                f"{{{ATOM}}}link",
                rel="alternate",
                href=_xml_text(f"{thread.url}#comment-{comment.id}"),
            )
        author = ET.SubElement(entry, f"{{{ATOM}}}author")
        _text(author, "name", comment.author_name)
        _text(entry, "published", isoformat_z(comment.created_at))
        _text(entry, "updated", isoformat_z(comment.edited_at or comment.created_at))
        content = _text(entry, "content", comment.html)
        content.set("type", "html")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


# What XML 1.0 cannot hold at all, even escaped: ElementTree would write it and every reader of the
# feed would refuse the whole document. Titles and names are validated when written, but rows imported
# or written before that must not take the site's feed down.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_text(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def _text(parent: ET.Element, tag: str, text: str | None) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}")
    element.text = None if text is None else _xml_text(text)
    return element
