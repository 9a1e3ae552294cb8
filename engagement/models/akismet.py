"""What Akismet was told about a comment, and the learning reports owed to it (an outbox of its own)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from engagement.models.base import Base


class AkismetVerdict(enum.StrEnum):
    HAM = "ham"  # comment-check answered false
    SPAM = "spam"  # true
    DISCARD = "discard"  # true with X-akismet-pro-tip: discard


class AkismetReportKind(enum.StrEnum):
    SPAM = "spam"  # submit-spam: staff marked spam a comment Akismet passed
    HAM = "ham"  # submit-ham: staff approved a comment Akismet called spam


class AkismetReportStatus(enum.StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"  # out of attempts
    DROPPED = "dropped"  # nothing left to send: the check was erased with its author


class AkismetCheck(Base):
    """The fields comment-check was sent for one comment (the raw IP among them), kept so a moderator's
    later decision can be reported with the same fields, as Akismet asks. Erased with the author."""

    __tablename__ = "akismet_checks"
    __table_args__ = (Index("ix_akismet_checks_created_at", "created_at"),)  # the retention purge

    comment_id: Mapped[int] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    verdict: Mapped[str] = mapped_column(String(16))
    # comment-check's form fields, without the key and the blog (read from the site when reporting).
    fields: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class AkismetReport(Base):
    """One submit-spam or submit-ham owed to Akismet: written in the moderator's decision's transaction,
    delivered by the mail process with backoff. At most one of each kind per comment."""

    __tablename__ = "akismet_reports"
    __table_args__ = (
        UniqueConstraint("comment_id", "kind", name="uq_akismet_reports_comment_kind"),
        Index("ix_akismet_reports_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), default=AkismetReportStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # When a queued report is due; while a sender holds it, the end of that sender's lease.
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    sent_at: Mapped[datetime | None]
