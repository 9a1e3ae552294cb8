"""The pipeline every import format feeds: records in, rows out, in one transaction.

A format reader yields ``ImportedThread``, ``ImportedComment``, ``Skipped`` and (JSON only) ``SiteRecord``
items. The pipeline

- upserts threads by (site, key) and comments by (site, source, source_id), so importing the same file
  again updates rows instead of duplicating them. A source id is scoped by what the source's id is unique
  within (``scoped_source_id``: a WordPress post, an Isso page); a row an older importer wrote under the
  bare id (``ImportedComment.legacy_source_id``) is taken over, in the same thread only, and re-keyed;
- never lets one comment of a file replace another: the first comment with a given source id (or ref) is
  kept, every later one is skipped as ``duplicate_source_id``. Memory stays flat: the ids seen are held
  as long as the comments' tree nodes, one thread at a time for a source that lists a thread's comments
  together (a thread listed a second time is skipped whole, as its first listing is forgotten), the
  whole file for Disqus, which keeps every node until the end anyway;
- writes comments in batches with their tree fields empty, and rebuilds each thread's reply tree once all
  of its comments are known (a reply may come before its parent in the file): parents are resolved by
  the source's ids, replies deeper than the site's ``max_depth`` attach to the deepest allowed ancestor
  (as new replies do), and a deleted comment stays only as a placeholder for replies it still has;
- recounts every touched thread's approved comments in SQL and bumps its ``version`` (the ETag of its
  public reads) at the end.

Nothing here commits: the caller commits, or rolls back on an error or a dry run, so an import is all or
nothing.
"""

from __future__ import annotations

import collections
import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from sqlalchemy import delete, exists, insert, select, tuple_, update
from sqlalchemy.orm import aliased

from engagement import clock, threads
from engagement.database import insert_ignoring_conflicts, realign_id_sequence
from engagement.extensions import db
from engagement.models import Comment, CommentLike, CommentStatus, Site, Thread
from engagement.models.comments import SOURCE_ID_LENGTH
from engagement.normalization import body_digest

BATCH_SIZE = 500
# Column limits of the models; imported values are cut to fit instead of failing the whole import.
NAME_LENGTH = 245
EMAIL_LENGTH = 100
URL_LENGTH = 200
USER_AGENT_LENGTH = 400
THREAD_KEY_LENGTH = 512
THREAD_TITLE_LENGTH = 300
THREAD_URL_LENGTH = 1000
# Source ids of restored comments that were native where they came from (see ImportedComment.restore_id).
RESTORED_SOURCE = "json"
# Skipped reasons of what the pipeline refuses to let replace what a file already gave.
DUPLICATE = "duplicate_source_id"
THREAD_LISTED_TWICE = "thread_listed_twice"


@dataclass(frozen=True)
class ImportedThread:
    """A thread as a source describes it. ``ref`` is how the source's comments point at it."""

    ref: str
    key: str
    title: str = ""
    url: str = ""
    closed: bool | None = None  # None: the source does not say; an existing thread keeps its state
    created_at: datetime | None = None  # None: the earliest imported comment's time
    last_comment_at: datetime | None = None  # None: the newest approved comment's time


@dataclass
class ImportedComment:
    """A comment as a source describes it; ``ref``/``parent_ref`` are its and its parent's ids there."""

    source: str | None
    source_id: str | None
    ref: str
    thread_ref: str
    parent_ref: str | None
    created_at: datetime
    status: str
    body: str = ""
    html: str = ""
    author_name: str = ""
    author_email: str = ""
    author_url: str | None = None
    author_sso_id: str | None = None  # a signed-in reader's user id on the site (restores keep it)
    ip_hash: str | None = None
    user_agent: str = ""
    previous_status: str | None = None
    spam_reasons: list[str] = field(default_factory=list)
    likes: int = 0
    liked_by: list[tuple[str, datetime]] = field(default_factory=list)
    pinned: bool = False
    edited_at: datetime | None = None
    moderated_at: datetime | None = None
    moderated_by: str | None = None
    # A restore (JSON) keeps comment ids where they are free, so permalinks (#comment-123) survive.
    restore_id: int | None = None
    # The source id an older importer stored before ids were scoped (the bare WordPress or Isso id): a row
    # still under it in the same thread is this comment, and gets ``source_id`` from now on.
    legacy_source_id: str | None = None


def scoped_source_id(scope: str, local_id: str) -> str:
    """A source's id made unique by what it is unique within there (a post, a page): ``scope:local_id``."""
    return f"{scope}:{local_id}"


def _fitting_source_id(source_id: str | None) -> str | None:
    """A source id that fits its column. A long one is replaced by its digest, not cut: two ids cut to
    the same prefix would be one comment."""
    if source_id is None or len(source_id) <= SOURCE_ID_LENGTH:
        return source_id
    digest = hashlib.sha256(source_id.encode()).hexdigest()
    return f"sha256:{digest}"[:SOURCE_ID_LENGTH]


@dataclass(frozen=True)
class Skipped:
    """A source item deliberately not imported (a pingback, a post of an unknown thread, ...)."""

    reason: str


class SiteRecord(Protocol):
    """A JSON-only record (site settings, counters, bans, ...) that restores itself."""

    def restore(self, importer: ImportPipeline) -> None: ...


Record = ImportedThread | ImportedComment | Skipped | SiteRecord
THREAD_KEYS = ("path", "permalink", "post-id")


class Source(Protocol):
    """One file in one format, read as a stream of records."""

    name: str
    # The source gives each thread's comments right after the thread (WXR, Isso, JSON): trees are rebuilt
    # thread by thread and memory stays flat (so a comment naming another thread, or a thread listed a
    # second time, is skipped). Otherwise (Disqus) once, at the end.
    settle_per_thread: bool
    # Replies deeper than the site's max_depth attach to the deepest allowed ancestor (not for a restore).
    limit_depth: bool
    # The site may be missing: the file describes it (JSON).
    restores_site: bool

    def total(self) -> int:
        """The amount of work, in the units records() reports progress in (bytes, rows)."""
        ...

    def records(self, progress: Callable[[int], None]) -> Iterator[Record]: ...


class SourceFile:
    """What the file formats share: a path, the thread key option, progress in bytes, and the defaults
    of a plain import (replies kept within ``max_depth``, the site must exist)."""

    limit_depth = True
    restores_site = False

    def __init__(self, path: Path, *, thread_key: str = "path") -> None:
        self.path = path
        self.thread_key = thread_key

    def total(self) -> int:
        return self.path.stat().st_size


@dataclass
class ImportSummary:
    format: str
    site: str
    dry_run: bool = False
    threads: int = 0
    threads_created: int = 0
    comments_created: int = 0
    comments_updated: int = 0
    comments: collections.Counter[str] = field(default_factory=collections.Counter)  # by status
    skipped: collections.Counter[str] = field(default_factory=collections.Counter)  # by reason
    notes: collections.Counter[str] = field(default_factory=collections.Counter)
    restored: collections.Counter[str] = field(default_factory=collections.Counter)  # JSON: by record type

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "site": self.site,
            "dry_run": self.dry_run,
            "threads": self.threads,
            "threads_created": self.threads_created,
            "comments_created": self.comments_created,
            "comments_updated": self.comments_updated,
            "comments": dict(sorted(self.comments.items())),
            "skipped": dict(sorted(self.skipped.items())),
            "notes": dict(sorted(self.notes.items())),
            "restored": dict(sorted(self.restored.items())),
        }

    def lines(self) -> list[str]:
        """The summary as an operator reads it at the end of an import."""
        total = sum(self.comments.values())
        lines = [
            f"{self.format} -> {self.site}: {self.threads} threads ({self.threads_created} new), "
            f"{total} comments ({self.comments_created} new, {self.comments_updated} updated)",
            "  by status: " + _listing(self.comments),
        ]
        if self.skipped:
            lines.append(f"  skipped {sum(self.skipped.values())}: " + _listing(self.skipped))
        if self.notes:
            lines.append("  notes: " + _listing(self.notes))
        if self.restored:
            lines.append("  restored: " + _listing(self.restored))
        if self.dry_run:
            lines.append("dry run: nothing was written")
        return lines


def _listing(counts: collections.Counter[str]) -> str:
    return ", ".join(f"{name} {count}" for name, count in sorted(counts.items())) or "none"


class _Match(NamedTuple):
    """The row an imported comment updates, and the source key the row has after the update."""

    comment_id: int
    thread_id: int
    source: str | None
    source_id: str | None


class _Node:
    """One imported comment's place in its thread while the tree is rebuilt."""

    __slots__ = (
        "children",
        "comment_id",
        "created",
        "depth",
        "parent",
        "parent_ref",
        "ref",
        "root_id",
        "status",
    )

    def __init__(
        self, comment_id: int, ref: str, parent_ref: str | None, status: str, *, created: bool
    ) -> None:
        self.comment_id = comment_id
        self.created = created  # inserted by this import (else an earlier import's row, updated)
        self.ref = ref
        self.parent_ref = parent_ref
        self.status = status
        self.parent: _Node | None = None
        self.children: list[_Node] = []
        self.depth = 0
        self.root_id: int | None = None


class ImportPipeline:
    """Feeds one source's records into one site (see the module docstring)."""

    def __init__(
        self, *, site: Site, summary: ImportSummary, settle_per_thread: bool, limit_depth: bool, actor: str
    ) -> None:
        self.site = site
        self.summary = summary
        self.settle_per_thread = settle_per_thread
        self.limit_depth = limit_depth
        self.actor = actor
        self._declared: dict[str, ImportedThread] = {}  # by source ref
        self._threads: dict[str, int] = {}  # source ref -> thread id, once a comment needed it
        self._touched: set[int] = set()
        self._derived_last_comment: set[int] = set()
        self._derived_created: set[int] = set()
        self._pending: list[tuple[ImportedComment, int]] = []
        self._pending_keys: set[tuple[str, str]] = set()  # identities in _pending
        self._nodes: dict[int, list[_Node]] = collections.defaultdict(list)  # by thread id
        # What the comments in _nodes and _pending claimed (kept and dropped with them): their refs, which
        # replies point at, and the rows they wrote. A later comment claiming either is a duplicate.
        self._seen_refs: set[str] = set()
        self._written_ids: set[int] = set()
        self._listed: set[str] = set()  # thread refs a per-thread source has listed
        self._skipped_thread: str | None = None  # a thread listed again: its comments are skipped
        self._restored_ids = False

    # --- feeding ---------------------------------------------------------------------------------------

    def feed(self, records: Iterable[Record]) -> ImportSummary:
        """Consume every record, then rebuild what is left and recount. The caller commits."""
        for record in records:
            if isinstance(record, ImportedComment):
                self._add_comment(record)
            elif isinstance(record, ImportedThread):
                if self.settle_per_thread:
                    self._settle()
                    # Comments belong to the thread they follow; what was said of earlier ones is gone.
                    self._declared.clear()
                    self._threads.clear()
                    self._skipped_thread = record.ref if record.ref in self._listed else None
                    self._listed.add(record.ref)
                    if self._skipped_thread is not None:
                        continue
                self._declared[record.ref] = record
                self._threads.pop(record.ref, None)
            elif isinstance(record, Skipped):
                self.summary.skipped[record.reason] += 1
            else:
                self._flush()
                record.restore(self)
        self._settle()
        self._recount()
        return self.summary

    def _thread_id(self, ref: str) -> int | None:
        """The thread a comment belongs to, written by its first comment: a page nobody commented on
        (Disqus lists every page its embed ever loaded on) does not become a thread."""
        if ref not in self._threads and ref in self._declared:
            self._threads[ref] = self._write_thread(self._declared[ref])
        return self._threads.get(ref)

    def _write_thread(self, thread: ImportedThread) -> int:
        key = thread.key.strip()[:THREAD_KEY_LENGTH]
        existing = db.session.scalar(select(Thread).where(Thread.site_id == self.site.id, Thread.key == key))
        title, url = thread.title.strip()[:THREAD_TITLE_LENGTH], thread.url.strip()[:THREAD_URL_LENGTH]
        if existing is None:
            existing = Thread(
                site_id=self.site.id,
                key=key,
                title=title,
                url=url,
                closed=bool(thread.closed),
                comment_count=0,
                version=1,
                created_at=thread.created_at or clock.now(),
                opened_at=thread.created_at or clock.now(),  # imported comments are no spam's doing
                last_comment_at=thread.last_comment_at,
            )
            db.session.add(existing)
            db.session.flush()
            self.summary.threads_created += 1
        else:
            # A source that knows less than we do (no title, no closed state) leaves ours alone.
            existing.title = title or existing.title
            existing.url = url or existing.url
            if thread.closed is not None:
                existing.closed = thread.closed
            if thread.created_at is not None:
                existing.created_at = existing.opened_at = thread.created_at
            elif existing.opened_at is None:
                existing.opened_at = existing.created_at
            if thread.last_comment_at is not None:
                existing.last_comment_at = thread.last_comment_at
            db.session.flush()
        if thread.created_at is None:
            self._derived_created.add(existing.id)
        if thread.last_comment_at is None:
            self._derived_last_comment.add(existing.id)
        if existing.id not in self._touched:
            self._touched.add(existing.id)
            self.summary.threads += 1
        # Only the id is needed from here on; holding the object would grow the session with the file.
        db.session.expunge(existing)
        return existing.id

    def _add_comment(self, comment: ImportedComment) -> None:
        if self._skipped_thread is not None and comment.thread_ref == self._skipped_thread:
            # Its first listing's ids are forgotten, so a comment here could not be told from one there.
            self.summary.skipped[THREAD_LISTED_TWICE] += 1
            return
        thread_id = self._thread_id(comment.thread_ref)
        if thread_id is None:
            self.summary.skipped["unknown_thread"] += 1
            return
        comment.source_id = _fitting_source_id(comment.source_id)
        if comment.legacy_source_id is not None:  # as the older importer stored it: cut to fit
            comment.legacy_source_id = comment.legacy_source_id[:SOURCE_ID_LENGTH]
        identity = _identity(comment)
        if comment.ref in self._seen_refs or identity in self._pending_keys:
            # The first one stays: a later one with the same id must not replace it (nor its replies).
            self.summary.skipped[DUPLICATE] += 1
            return
        self._seen_refs.add(comment.ref)
        if identity is not None:
            self._pending_keys.add(identity)
        self._pending.append((comment, thread_id))
        if len(self._pending) >= BATCH_SIZE:
            self._flush()

    # --- writing comments -----------------------------------------------------------------------------

    def _flush(self) -> None:
        """Write the pending comments (tree fields empty) and remember each one's place for _settle."""
        if not self._pending:
            return
        pending, self._pending, self._pending_keys = self._pending, [], set()
        matches = self._existing_rows(pending)
        batch: list[tuple[ImportedComment, int, _Match | None]] = []
        for index, (comment, thread_id) in enumerate(pending):
            match = matches.get(index)
            if match is not None and self._written_by_this_import(match, thread_id):
                self.summary.skipped[DUPLICATE] += 1
            else:
                batch.append((comment, thread_id, match))
        taken = self._taken_ids([c.restore_id for c, _, _ in batch if c.restore_id is not None])
        updates: list[dict[str, Any]] = []
        inserts: list[tuple[int, dict[str, Any]]] = []
        ids: dict[int, int] = {}
        for index, (comment, thread_id, match) in enumerate(batch):
            row = _row(comment, site_id=self.site.id, thread_id=thread_id)
            if match is not None:
                # The row keeps the key it is found by next time (a re-keyed legacy row: its new one).
                row["source"], row["source_id"] = match.source, match.source_id
                updates.append({"id": match.comment_id, **row})
                ids[index] = match.comment_id
                continue
            if comment.restore_id is not None and comment.restore_id not in taken:
                row["id"] = comment.restore_id
                taken.add(comment.restore_id)
            elif comment.source is None and comment.restore_id is not None:
                # The id is someone else's: a new id, and a source id by which a re-import finds it.
                row["source"], row["source_id"] = RESTORED_SOURCE, str(comment.restore_id)
            inserts.append((index, {"parent_id": None, "root_id": None, "depth": 0, **row}))
        if updates:
            db.session.execute(update(Comment), updates)
        ids.update(self._insert(inserts))
        self._written_ids.update(ids.values())
        likes = []
        for index, (comment, thread_id, match) in enumerate(batch):
            node = _Node(ids[index], comment.ref, comment.parent_ref, comment.status, created=match is None)
            self._nodes[thread_id].append(node)
            likes.extend(
                {"comment_id": ids[index], "reader_hash": reader, "created_at": at}
                for reader, at in comment.liked_by
            )
        if likes:
            statement = insert_ignoring_conflicts(
                CommentLike.__table__, {}, conflict_columns=["comment_id", "reader_hash"]
            )
            db.session.execute(statement, likes)

    def _written_by_this_import(self, match: _Match, thread_id: int) -> bool:
        """Whether the row a comment matched was already written from this file: by an earlier batch of
        comments still held, or into another thread this import has written (an id repeated across
        threads, which a per-thread source no longer remembers). Either way it is not this comment's."""
        if match.comment_id in self._written_ids:
            return True
        return self.settle_per_thread and match.thread_id != thread_id and match.thread_id in self._touched

    def _insert(self, inserts: list[tuple[int, dict[str, Any]]]) -> dict[int, int]:
        """Insert rows; those with a restored id apart, as one statement needs one set of columns."""
        ids: dict[int, int] = {}
        for with_id in (False, True):
            group = [(index, row) for index, row in inserts if ("id" in row) is with_id]
            if not group:
                continue
            statement = insert(Comment).returning(Comment.id, sort_by_parameter_order=True)
            new_ids = db.session.scalars(statement, [row for _, row in group]).all()
            ids.update({index: new_id for (index, _), new_id in zip(group, new_ids, strict=True)})
            self._restored_ids |= with_id
        return ids

    def _existing_rows(self, pending: list[tuple[ImportedComment, int]]) -> dict[int, _Match]:
        """Batch index -> the row each comment updates: found by source id (or restored id), or by the
        bare id an older importer stored, in the comment's own thread only."""
        keys: dict[tuple[str, str], int] = {}
        restored: dict[int, int] = {}
        for index, (comment, _thread_id) in enumerate(pending):
            identity = _identity(comment)
            if identity is None:
                continue
            keys[identity] = index
            if comment.source is None and comment.restore_id is not None:
                restored[comment.restore_id] = index
        found: dict[int, _Match] = {}
        if keys:
            rows = db.session.execute(
                select(Comment.id, Comment.thread_id, Comment.source, Comment.source_id).where(
                    Comment.site_id == self.site.id,
                    tuple_(Comment.source, Comment.source_id).in_(list(keys)),
                )
            )
            for comment_id, thread_id, source, source_id in rows:
                found[keys[(source, source_id)]] = _Match(comment_id, thread_id, source, source_id)
        if restored:
            # A comment that was native where it was exported came back under its own id; it is the same
            # comment only if it is still native here, on this site, with the same creation time.
            rows = db.session.execute(
                select(Comment.id, Comment.thread_id, Comment.created_at).where(
                    Comment.id.in_(list(restored)), Comment.site_id == self.site.id, Comment.source.is_(None)
                )
            )
            for comment_id, thread_id, created_at in rows:
                index = restored[comment_id]
                if created_at == pending[index][0].created_at:
                    found.setdefault(index, _Match(comment_id, thread_id, None, None))
        found.update(self._legacy_rows(pending, found))
        return found

    def _legacy_rows(
        self, pending: list[tuple[ImportedComment, int]], found: dict[int, _Match]
    ) -> dict[int, _Match]:
        """Rows still under the bare source id an older importer stored, each taken over by the comment
        of its own thread only (a bare id says nothing about the post it was in), with the new key."""
        legacy: dict[tuple[str | None, int, str], int] = {}
        for index, (comment, thread_id) in enumerate(pending):
            if index not in found and comment.legacy_source_id is not None:
                legacy[(comment.source, thread_id, comment.legacy_source_id)] = index
        if not legacy:
            return {}
        rows = db.session.execute(
            select(Comment.id, Comment.source, Comment.thread_id, Comment.source_id).where(
                Comment.site_id == self.site.id,
                tuple_(Comment.source, Comment.thread_id, Comment.source_id).in_(list(legacy)),
            )
        )
        taken: dict[int, _Match] = {}
        for comment_id, source, thread_id, source_id in rows:
            index = legacy[(source, thread_id, source_id)]
            comment = pending[index][0]
            taken[index] = _Match(comment_id, thread_id, comment.source, comment.source_id)
        return taken

    @staticmethod
    def _taken_ids(ids: list[int]) -> set[int]:
        if not ids:
            return set()
        return set(db.session.scalars(select(Comment.id).where(Comment.id.in_(ids))))

    # --- rebuilding trees ---------------------------------------------------------------------------

    def _settle(self) -> None:
        """Rebuild the reply trees of every thread with comments written since the last settle."""
        self._flush()
        nodes_by_thread, self._nodes = self._nodes, collections.defaultdict(list)
        self._seen_refs, self._written_ids = set(), set()
        # Without a limit (a restore), replies stay where they were even if max_depth was lowered since.
        deepest_allowed = self.site.settings.max_depth - 1 if self.limit_depth else 1 << 30
        for nodes in nodes_by_thread.values():
            ordered = self._place(nodes, deepest_allowed)
            kept, pruned = self._prune(ordered)
            for start in range(0, len(kept), BATCH_SIZE):  # batches: a huge thread costs no more memory
                db.session.execute(
                    update(Comment),
                    [
                        {
                            "id": n.comment_id,
                            "parent_id": n.parent.comment_id if n.parent else None,
                            "root_id": n.root_id,
                            "depth": n.depth,
                        }
                        for n in kept[start : start + BATCH_SIZE]
                    ],
                )
            self._delete_placeholders(pruned)
            for node in kept:
                self.summary.comments[node.status] += 1
                if node.created:
                    self.summary.comments_created += 1
                else:
                    self.summary.comments_updated += 1
            self.summary.skipped["deleted_without_replies"] += len(pruned)
            self.summary.notes["placeholder_without_replies_removed"] += sum(not n.created for n in pruned)
        self.summary.skipped += collections.Counter()  # drop zero counts
        self.summary.notes += collections.Counter()

    def _place(self, nodes: list[_Node], deepest_allowed: int) -> list[_Node]:
        """Link nodes to their parents, parents first; returns them in that (breadth-first) order."""
        by_ref = {node.ref: node for node in nodes}  # one node a ref: _add_comment skipped any later one
        children: dict[str, list[_Node]] = collections.defaultdict(list)
        roots: list[_Node] = []
        for node in by_ref.values():
            parent = by_ref.get(node.parent_ref) if node.parent_ref is not None else None
            if parent is None or parent is node:
                if node.parent_ref is not None:
                    self.summary.notes["reply_to_missing_parent_shown_top_level"] += 1
                roots.append(node)
            else:
                children[parent.ref].append(node)
        ordered: list[_Node] = []
        placed: set[int] = set()

        def walk(start: _Node) -> None:
            queue: collections.deque[tuple[_Node, _Node | None]] = collections.deque([(start, None)])
            while queue:
                node, parent = queue.popleft()
                if node.comment_id in placed:
                    continue
                placed.add(node.comment_id)
                self._attach(node, parent, deepest_allowed)
                ordered.append(node)
                queue.extend((child, node) for child in children.get(node.ref, ()))

        for root in roots:
            walk(root)
        for node in by_ref.values():
            if node.comment_id not in placed:  # parents in a cycle: none is a root, so break it here
                self.summary.notes["reply_cycle_broken"] += 1
                walk(node)
        return ordered

    def _attach(self, node: _Node, parent: _Node | None, deepest_allowed: int) -> None:
        """Place a reply under its parent, or its deepest ancestor within max_depth (as new replies)."""
        if parent is None:
            node.parent, node.depth, node.root_id = None, 0, None
            return
        target = parent
        while target.depth >= deepest_allowed and target.parent is not None:
            target = target.parent
        if target is not parent:
            self.summary.notes["reply_attached_to_ancestor_within_max_depth"] += 1
        node.parent = target
        node.depth = target.depth + 1
        node.root_id = target.root_id or target.comment_id
        target.children.append(node)

    def _prune(self, ordered: list[_Node]) -> tuple[list[_Node], list[_Node]]:
        """A deleted comment is kept only as a placeholder for replies it still has (children first)."""
        kept_ids: set[int] = set()
        for node in reversed(ordered):
            if node.status != CommentStatus.DELETED or any(c.comment_id in kept_ids for c in node.children):
                kept_ids.add(node.comment_id)
        kept = [n for n in ordered if n.comment_id in kept_ids]
        pruned = [n for n in reversed(ordered) if n.comment_id not in kept_ids]
        return kept, pruned

    @staticmethod
    def _delete_placeholders(pruned: list[_Node]) -> None:
        """Delete pruned placeholders children first; one a reader replied to here stays."""
        reply = aliased(Comment)
        for node in pruned:
            db.session.execute(
                delete(Comment).where(
                    Comment.id == node.comment_id, ~exists().where(reply.parent_id == Comment.id)
                )
            )

    # --- the end ----------------------------------------------------------------------------------------

    def _recount(self) -> None:
        """Exact approved counts and a version bump for every touched thread, in SQL."""
        if self._restored_ids:
            realign_id_sequence(Comment.__table__)
        if not self._touched:
            return
        threads.recount(
            self._touched,
            derive_last_comment=self._derived_last_comment,
            derive_created=self._derived_created,
        )


def _identity(comment: ImportedComment) -> tuple[str, str] | None:
    """The (source, source_id) a comment's row is found by; a restored native comment's is the one it
    gets when its id is taken (RESTORED_SOURCE, its id)."""
    if comment.source is not None and comment.source_id is not None:
        return comment.source, comment.source_id
    if comment.restore_id is not None:
        return RESTORED_SOURCE, str(comment.restore_id)
    return None


def _row(comment: ImportedComment, *, site_id: int, thread_id: int) -> dict[str, Any]:
    """The columns an import sets; a deleted placeholder keeps nothing about its author or text."""
    deleted = comment.status == CommentStatus.DELETED
    return {
        "site_id": site_id,
        "thread_id": thread_id,
        "source": comment.source,
        "source_id": comment.source_id,
        "author_name": "" if deleted else comment.author_name.strip()[:NAME_LENGTH],
        "author_email": "" if deleted else _fitting(comment.author_email.strip().lower(), EMAIL_LENGTH) or "",
        "author_url": None if deleted else _fitting((comment.author_url or "").strip(), URL_LENGTH),
        "author_sso_id": None if deleted else comment.author_sso_id,
        "ip_hash": None if deleted else comment.ip_hash,
        "user_agent": "" if deleted else comment.user_agent[:USER_AGENT_LENGTH],
        "body": "" if deleted else comment.body,
        "body_digest": None if deleted else body_digest(comment.body),
        "html": "" if deleted else comment.html,
        "status": comment.status,
        "previous_status": comment.previous_status,
        "spam_reasons": list(comment.spam_reasons),
        "likes": comment.likes,
        "pinned": comment.pinned,
        "created_at": comment.created_at,
        "edited_at": comment.edited_at,
        "moderated_at": comment.moderated_at,
        "moderated_by": comment.moderated_by,
    }


def _fitting(value: str, limit: int) -> str | None:
    """A value that fits its column, or None: a cut email address or URL would be a wrong one."""
    return value if value and len(value) <= limit else None


def _chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
