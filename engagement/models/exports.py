"""A site's export made outside any request: the worker writes the file, staff follow its progress and
download it once it is whole (engagement.portability.jobs)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from engagement.models.base import Base

EXPORT_ID_LENGTH = 32


class ExportStatus(enum.StrEnum):
    QUEUED = "queued"  # waiting for the worker
    RUNNING = "running"  # being written; ``lines`` grows
    COMPLETE = "complete"  # the file is whole: its size and SHA-256 are known, it may be downloaded
    FAILED = "failed"  # it stopped (``error`` says why); no file is served
    EXPIRED = "expired"  # complete once, its file removed after the retention time


class ExportJob(Base):
    __tablename__ = "export_jobs"
    __table_args__ = (
        Index("ix_export_jobs_site", "site_id", "created_at"),
        Index("ix_export_jobs_status", "status", "created_at"),
    )

    # Random, not a sequence: a job's URL does not tell how many exports there were, or lead to others.
    id: Mapped[str] = mapped_column(String(EXPORT_ID_LENGTH), primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    requested_by: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default=ExportStatus.QUEUED)
    # Progress: comments the site had when the job started, and lines written so far.
    comments_total: Mapped[int] = mapped_column(Integer, default=0)
    comments_done: Mapped[int] = mapped_column(Integer, default=0)
    lines: Mapped[int] = mapped_column(Integer, default=0)
    size: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(String(400))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    started_at: Mapped[datetime | None]
    # Touched while the file is written: a job whose worker died stops being "running" after a while.
    heartbeat_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
