"""Readers' reports of abuse on approved comments."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from engagement.models.base import Base


class ReportReason(enum.StrEnum):
    SPAM = "spam"
    ABUSE = "abuse"
    OFF_TOPIC = "off_topic"
    OTHER = "other"


class Report(Base):
    """One reader's report of one comment (a second one by the same reader changes nothing).

    ``reporter`` is the reader id's keyed hash, ``ip_hash`` the client IP's: readers behind one IP count as
    one reporter. A report is open until a moderator decides: approving the comment dismisses it
    (``dismissed_at``), marking it spam or trash upholds it (``upheld_at``).
    """

    __tablename__ = "reports"
    __table_args__ = (
        UniqueConstraint("comment_id", "reporter"),
        # A reporter's record on a site: whose reports were dismissed three times and never upheld.
        Index("ix_reports_site_reporter", "site_id", "reporter"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    reporter: Mapped[str] = mapped_column(String(64))
    ip_hash: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    dismissed_at: Mapped[datetime | None]
    dismissed_by: Mapped[str | None] = mapped_column(String(200))
    upheld_at: Mapped[datetime | None]
