"""Threads (one per article) and their comments."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, func, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engagement.models.base import Base

if TYPE_CHECKING:
    from engagement.models.sites import Site


class CommentStatus(enum.StrEnum):
    APPROVED = "approved"
    PENDING = "pending"
    SPAM = "spam"
    TRASH = "trash"
    DELETED = "deleted"  # placeholder kept because it still has replies


# Stored as plain strings (not a database enum) so adding a status is a code change, not a type migration.
STATUS_LENGTH = 16
SOURCE_LENGTH = 16
SOURCE_ID_LENGTH = 64


class Thread(Base):
    __tablename__ = "threads"
    __table_args__ = (UniqueConstraint("site_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(512))
    title: Mapped[str] = mapped_column(String(300), default="")
    url: Mapped[str] = mapped_column(String(1000), default="")
    closed: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # Approved comments only; updated with atomic UPDATE ... SET n = n + 1 so concurrent posts never lose one.
    comment_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Bumped on every change a reader can see; the ETag of every public read of this thread.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # When the first comment that was not spam arrived (or its import): what close_after_days counts
    # from. None: only spam has come, so the thread has no title, no URL and no age anyone chose.
    opened_at: Mapped[datetime | None]
    last_comment_at: Mapped[datetime | None]

    site: Mapped[Site] = relationship(back_populates="threads")


class Comment(Base):
    __tablename__ = "comments"
    __table_args__ = (
        # A thread's top-level comments in each public sort, pinned ones first: a page, first or deep, is
        # one range of one of these (the status, last, is read from the index, not the row).
        Index("ix_comments_thread_top", "thread_id", "depth", "pinned", "created_at", "id", "status"),
        Index("ix_comments_thread_top_likes", "thread_id", "depth", "pinned", "likes", "id", "status"),
        # Every comment of a thread, newest first: the staff queue's thread= and the thread's feed.
        Index("ix_comments_thread_created", "thread_id", "created_at", "id", "status"),
        # ... and their replies in creation order: where each stands, and whether a reader sees it, are
        # in the index, so choosing a page's replies reads no reply's row (a row holds its text).
        Index("ix_comments_replies", "root_id", "created_at", "id", "status", "parent_id"),
        # The moderation queue of a site ...
        Index("ix_comments_site_queue", "site_id", "status", "created_at"),
        # ... of all statuses ...
        Index("ix_comments_site_created", "site_id", "created_at", "id"),
        # ... of every site (an admin's queue, newest first, by status or of all statuses): without them
        # the console's first page read and sorted every comment of the service.
        Index("ix_comments_status_created", "status", "created_at", "id"),
        Index("ix_comments_created", "created_at", "id"),
        # Comments with open readers' reports, most reported first: only they are in it (partial), so a
        # new comment (0 reports) costs it nothing. A query must say ``open_reports > 0`` literally.
        Index(
            "ix_comments_reported",
            "open_reports",
            "id",
            sqlite_where=text("open_reports > 0"),
            postgresql_where=text("open_reports > 0"),
        ),
        # An author's comments: the flood and duplicate checks, the staff's email= and privacy lookups,
        # of one site or all, newest first: led by the email, stored lower-cased as every query compares
        # it ...
        Index("ix_comments_email_site", "author_email", "site_id", "created_at"),
        # ... and the first-time check (an approved comment by this email). Without status in an index
        # led by the email, SQLite took ix_comments_site_queue and read every approved comment of the site.
        Index("ix_comments_email_site_status", "author_email", "site_id", "status"),
        Index("ix_comments_site_ip", "site_id", "ip_hash", "created_at"),
        # A signed-in reader's comments (flood, first-time, privacy, staff lookups by user id); only
        # theirs are in it (partial), so a guest's comment costs it nothing.
        Index(
            "ix_comments_site_sso",
            "site_id",
            "author_sso_id",
            "status",
            sqlite_where=text("author_sso_id IS NOT NULL"),
            postgresql_where=text("author_sso_id IS NOT NULL"),
        ),
        # An imported comment's origin, so importing the same file again updates instead of duplicating.
        # NULLs never collide, so comments posted here are unaffected.
        Index("ix_comments_source", "site_id", "source", "source_id", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"), index=True)
    # The top-level ancestor (None for a top-level comment): a page's replies are fetched by root.
    root_id: Mapped[int | None]
    depth: Mapped[int] = mapped_column(Integer, default=0)

    author_name: Mapped[str] = mapped_column(String(245), default="")
    # Lower-cased on the way in (the comment form, imports, single sign-on), so equality finds it.
    author_email: Mapped[str] = mapped_column(String(100), default="")
    author_url: Mapped[str | None] = mapped_column(String(200))
    # The site's own user id (a single sign-on token's ``sub``) when a signed-in reader posted it.
    author_sso_id: Mapped[str | None] = mapped_column(String(255))
    ip_hash: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str] = mapped_column(String(400), default="")
    # The language the author wrote in (the widget's), for the mail they get; None: the site's.
    language: Mapped[str | None] = mapped_column(String(16))

    body: Mapped[str] = mapped_column(Text, default="")
    html: Mapped[str] = mapped_column(Text, default="")
    # SHA-256 of the body as the duplicate rule compares it (engagement.normalization.body_digest).
    body_digest: Mapped[str | None] = mapped_column(String(64))

    status: Mapped[str] = mapped_column(String(STATUS_LENGTH), default=CommentStatus.PENDING)
    previous_status: Mapped[str | None] = mapped_column(String(STATUS_LENGTH))
    # Which anti-spam rules held or flagged it, e.g. ["max_links", "moderation_word:casino"].
    spam_reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    # SHA-256 of the random key in the author's edit token (comments/tokens.py); None: no token works
    # (imported, erased, a deleted placeholder).
    edit_key_digest: Mapped[str | None] = mapped_column(String(64))
    likes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    pinned: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # Readers' reports no moderator has settled yet (engagement.reports keeps it).
    open_reports: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    edited_at: Mapped[datetime | None]
    moderated_at: Mapped[datetime | None]
    moderated_by: Mapped[str | None] = mapped_column(String(200))
    # Where an imported comment came from ("wordpress", "disqus", "isso", "json") and its id there.
    source: Mapped[str | None] = mapped_column(String(SOURCE_LENGTH))
    source_id: Mapped[str | None] = mapped_column(String(SOURCE_ID_LENGTH))

    thread: Mapped[Thread] = relationship()

    def __repr__(self) -> str:
        return f"<Comment {self.id} {self.status} thread={self.thread_id}>"


class CommentLike(Base):
    """One reader's like of one comment; the primary key makes liking twice a no-op."""

    __tablename__ = "comment_likes"

    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"), primary_key=True)
    reader_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
