"""Disqus: an XML export (Admin > Community > Export): every ``<thread>``, then every ``<post>``.

Posts point at their thread and parent by ``dsq:id``, in no particular thread order, so reply trees are
rebuilt once the whole file is read. A deleted post stays only as a placeholder for its replies.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element

from engagement.hashing import ip_hash
from engagement.importers.pipeline import ImportedComment, ImportedThread, Record, Skipped, SourceFile
from engagement.importers.xml_stream import (
    attribute,
    child_named,
    child_texts,
    elements_down_to,
    is_true,
    local_name,
    parse_utc,
)
from engagement.models import CommentStatus
from engagement.rendering import sanitize_html

SOURCE = "disqus"
THREAD_KEYS = ("path", "permalink", "post-id")  # post-id: the page's disqus_identifier


class DisqusFile(SourceFile):
    """Reads a Disqus export; ``thread_key`` is ``path`` (default), ``permalink`` or ``post-id``."""

    name = SOURCE
    settle_per_thread = False

    def __init__(self, path: Path, *, thread_key: str = "path") -> None:
        super().__init__(path, thread_key=thread_key)
        self._deleted_threads: set[str] = set()

    def records(self, progress: Callable[[int], None]) -> Iterator[Record]:
        for depth, element, _parent in elements_down_to(self.path, 1, progress=progress):
            name = local_name(element) if depth == 1 else ""
            if name == "thread":
                thread = self._thread(element)
                if thread is not None:
                    yield thread
            elif name == "post":
                yield self._post(element)

    def _thread(self, element: Element) -> ImportedThread | None:
        ref = attribute(element, "id")
        if ref is None:
            return None
        fields = child_texts(element)
        if is_true(fields.get("isDeleted")):
            self._deleted_threads.add(ref)
            return None
        link = fields.get("link", "")
        identifier = fields.get("id", "")
        if self.thread_key == "post-id" and identifier:
            key = identifier
        elif self.thread_key == "permalink" and link:
            key = link
        else:
            key = urlsplit(link).path or identifier or f"disqus-{ref}"
        return ImportedThread(
            ref=ref,
            key=key,
            title=fields.get("title", ""),
            url=link if link.startswith(("http://", "https://")) else "",
            closed=is_true(fields.get("isClosed")),
            created_at=parse_utc(fields.get("createdAt", "")),
        )

    def _post(self, element: Element) -> Record:
        ref = attribute(element, "id")
        thread = child_named(element, "thread")
        thread_ref = attribute(thread, "id") or (thread.text or "").strip() if thread is not None else None
        if ref is None:
            return Skipped("missing_post_id")
        if not thread_ref:
            return Skipped("missing_thread")
        if thread_ref in self._deleted_threads:
            return Skipped("post_of_deleted_thread")
        fields = child_texts(element)
        created_at = parse_utc(fields.get("createdAt", ""))
        if created_at is None:
            return Skipped("unreadable_date")
        author = child_named(element, "author")
        author_fields = child_texts(author) if author is not None else {}
        parent = child_named(element, "parent")
        message = fields.get("message", "")
        status = _status(fields)
        return ImportedComment(
            source=SOURCE,
            source_id=ref,
            ref=ref,
            thread_ref=thread_ref,
            parent_ref=attribute(parent, "id") if parent is not None else None,
            created_at=created_at,
            status=status,
            previous_status=CommentStatus.PENDING if status == CommentStatus.SPAM else None,
            body=message,
            html=sanitize_html(message),
            author_name=author_fields.get("name") or author_fields.get("username", ""),
            author_email=author_fields.get("email", ""),
            author_url=author_fields.get("link") or None,
            ip_hash=ip_hash(fields.get("ipAddress") or None),
        )


def _status(fields: dict[str, str]) -> str:
    if is_true(fields.get("isDeleted")):
        return CommentStatus.DELETED
    if is_true(fields.get("isSpam")):
        return CommentStatus.SPAM
    if fields.get("isApproved", "").lower() == "false":
        return CommentStatus.PENDING
    return CommentStatus.APPROVED
