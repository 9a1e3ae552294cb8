"""WordPress: a WXR export (Tools > Export), one ``<item>`` per post with its ``<wp:comment>`` elements.

Each post with comments becomes a thread keyed by its path (as the widget's default ``location.pathname``),
its permalink or its post id. Pingbacks and trackbacks are not reader comments and are skipped. The file
is read one comment at a time, so a post with tens of thousands of comments costs no more memory than one.

A ``comment_id`` is unique only within its post's ``<item>`` (Isso's own test file gives 11 to comments
of two posts), so a comment's source id is ``{post_id}:{comment_id}``, or the item's link (or position)
in place of a missing post id. Comments imported before under the bare ``comment_id`` are found again in
their own thread and re-keyed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element

from engagement.hashing import ip_hash
from engagement.importers.pipeline import (
    ImportedComment,
    ImportedThread,
    Record,
    Skipped,
    SourceFile,
    scoped_source_id,
)
from engagement.importers.xml_stream import (
    child_texts,
    children_named,
    elements_down_to,
    local_name,
    parse_utc,
)
from engagement.models import CommentStatus
from engagement.rendering import sanitize_html_with_line_breaks

SOURCE = "wordpress"
THREAD_KEYS = ("path", "permalink", "post-id")
# wp:comment_approved -> our status; "post-trashed" is WordPress trashing a post's comments with it.
STATUSES = {
    "1": CommentStatus.APPROVED,
    "0": CommentStatus.PENDING,
    "spam": CommentStatus.SPAM,
    "trash": CommentStatus.TRASH,
    "post-trashed": CommentStatus.TRASH,
}
SKIPPED_TYPES = ("pingback", "trackback")


class WordPressFile(SourceFile):
    """Reads a WXR file; ``thread_key`` is ``path`` (default), ``permalink`` or ``post-id``."""

    name = SOURCE
    settle_per_thread = True  # an item holds all of its post's comments

    def records(self, progress: Callable[[int], None]) -> Iterator[Record]:
        fields: dict[str, str] = {}  # the parts of the current <item> read so far
        thread: ImportedThread | None = None
        items = 0
        # <rss><channel><item><wp:comment>: each part of an item is handed over alone, never the item.
        for depth, element, parent in elements_down_to(self.path, 3, progress=progress):
            if depth == 2:  # an <item> (or another part of the channel) is over
                fields, thread = {}, None
                items += 1
                continue
            if depth != 3 or parent is None or local_name(parent) != "item":
                continue
            name = local_name(element)
            if name != "comment":
                fields.setdefault(name, (element.text or "").strip())
                continue
            if thread is None:  # WordPress writes a post's own fields before its comments
                thread = self._thread(fields, fallback_ref=f"item-{items}")
                yield thread
            yield _comment(element, thread_ref=thread.ref)

    def _thread(self, fields: dict[str, str], *, fallback_ref: str) -> ImportedThread:
        link = fields.get("link") or fields.get("guid", "")
        post_id = fields.get("post_id", "")
        return ImportedThread(
            ref=post_id or link or fallback_ref,
            key=self._key(link=link, post_id=post_id),
            title=fields.get("title", ""),
            url=link if link.startswith(("http://", "https://")) else "",
            closed={"closed": True, "open": False}.get(fields.get("comment_status", "")),
            created_at=parse_utc(fields.get("post_date_gmt", "")) or parse_utc(fields.get("post_date", "")),
        )

    def _key(self, *, link: str, post_id: str) -> str:
        if self.thread_key == "post-id" and post_id:
            return post_id
        if self.thread_key == "permalink" and link:
            return link
        return urlsplit(link).path or (f"/?p={post_id}" if post_id else "/")


def _comment(element: Element, *, thread_ref: str) -> Record:
    fields = child_texts(element)
    kind = fields.get("comment_type", "")
    if kind in SKIPPED_TYPES:
        return Skipped(kind)
    comment_id = fields.get("comment_id", "")
    if not comment_id:
        return Skipped("missing_comment_id")
    created_at = parse_utc(fields.get("comment_date_gmt", "")) or parse_utc(fields.get("comment_date", ""))
    if created_at is None:
        return Skipped("unreadable_date")
    status = STATUSES.get(fields.get("comment_approved", "0"), CommentStatus.PENDING)
    content = fields.get("comment_content", "")
    parent = fields.get("comment_parent", "0")
    return ImportedComment(
        source=SOURCE,
        # The thread's ref is the post id (else its link, else its place in the file): the id's scope.
        source_id=scoped_source_id(thread_ref, comment_id),
        legacy_source_id=comment_id,
        ref=comment_id,
        thread_ref=thread_ref,
        parent_ref=parent if parent not in ("", "0") else None,
        created_at=created_at,
        status=status,
        previous_status=_status_before(element, status),
        body=content,
        html=sanitize_html_with_line_breaks(content),
        author_name=fields.get("comment_author", ""),
        author_email=fields.get("comment_author_email", ""),
        author_url=fields.get("comment_author_url") or None,
        ip_hash=ip_hash(fields.get("comment_author_IP") or None),
    )


def _status_before(element: Element, status: str) -> str | None:
    """What "restore" returns a spam or trashed comment to: WordPress's record of a trashed comment's
    status, else the moderation queue."""
    if status not in (CommentStatus.SPAM, CommentStatus.TRASH):
        return None
    for meta in children_named(element, "commentmeta"):
        fields = child_texts(meta)
        if fields.get("meta_key") == "_wp_trash_meta_status":
            before = STATUSES.get(fields.get("meta_value", ""))
            if before in (CommentStatus.APPROVED, CommentStatus.PENDING):
                return before
    return CommentStatus.PENDING
