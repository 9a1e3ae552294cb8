"""Fan, follower and subscriber counters: native reader actions plus external counts pushed by staff."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from engagement.models.base import Base


class CounterKind(enum.StrEnum):
    FANS = "fans"  # "Like"
    FOLLOWERS = "followers"  # "Follow"
    SUBSCRIBERS = "subscribers"  # confirmed email subscriptions (mail), never a one-click reader action


# The kinds a reader toggles with one click in the widget.
READER_ACTION_KINDS = (CounterKind.FANS, CounterKind.FOLLOWERS)

TARGET_LENGTH = 64
# 64-bit counts: several platforms' numbers summed must not overflow a PostgreSQL integer.
SOURCE_LENGTH = 32


class Counter(Base):
    """One (site, target, kind) count; created by its first write, so reads never create rows.

    Both halves change only through atomic ``UPDATE ... SET n = n + 1`` or a recomputed sum, never
    a value computed in Python, so concurrent writers cannot lose each other's updates.
    """

    __tablename__ = "counters"
    __table_args__ = (UniqueConstraint("site_id", "target", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    target: Mapped[str] = mapped_column(String(TARGET_LENGTH))
    kind: Mapped[str] = mapped_column(String(16))
    native_count: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # The sum of counter_sources.count, kept here so a badge needs one row.
    external_count: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())

    @property
    def count(self) -> int:
        return self.native_count + self.external_count


class CounterReaderAction(Base):
    """One reader's like or follow; the primary key makes a repeated action a no-op."""

    __tablename__ = "counter_reader_actions"

    counter_id: Mapped[int] = mapped_column(ForeignKey("counters.id", ondelete="CASCADE"), primary_key=True)
    reader_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class CounterSource(Base):
    """The last accepted value from one platform (``facebook``, ``youtube``, ...) for one counter."""

    __tablename__ = "counter_sources"

    counter_id: Mapped[int] = mapped_column(ForeignKey("counters.id", ondelete="CASCADE"), primary_key=True)
    source: Mapped[str] = mapped_column(String(SOURCE_LENGTH), primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger)
    # When the platform had this value (the sync job's clock), not when we received it.
    observed_at: Mapped[datetime]


class CounterHistory(Base):
    """A counter's value at the end of one UTC day (the last change that day), for growth charts."""

    __tablename__ = "counter_history"
    __table_args__ = (UniqueConstraint("counter_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    counter_id: Mapped[int] = mapped_column(ForeignKey("counters.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    count: Mapped[int] = mapped_column(BigInteger)
    native: Mapped[int] = mapped_column(BigInteger)
    external: Mapped[int] = mapped_column(BigInteger)


class CounterFeed(Base):
    """A counter that updates itself: one platform account's number, fetched at an interval through the
    platform's official API (``engagement.counters.platforms``), with its health for staff to see.

    Its values land in ``counter_sources`` under ``source_name`` through the same rules as a push. The
    credentials are write-only: Fernet-encrypted JSON (``engagement.encryption``), never answered or logged.
    """

    __tablename__ = "counter_feeds"
    __table_args__ = (
        Index("ix_counter_feeds_due", "enabled", "next_attempt_at"),
        Index("ix_counter_feeds_host", "host", "fetching_until"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    target: Mapped[str] = mapped_column(String(TARGET_LENGTH))
    kind: Mapped[str] = mapped_column(String(16))
    platform: Mapped[str] = mapped_column(String(SOURCE_LENGTH))
    account: Mapped[str] = mapped_column(String(300))
    credentials_encrypted: Mapped[str | None] = mapped_column(Text)
    interval_seconds: Mapped[int] = mapped_column(Integer)
    # The platform host it asks (mastodon.social, graph.facebook.com): one request in flight per host, for
    # all workers together, held by ``fetching_until`` while a worker fetches it.
    host: Mapped[str] = mapped_column(String(255), default="", server_default="")
    fetching_until: Mapped[datetime | None]
    enabled: Mapped[bool] = mapped_column(default=True)
    # Health: the last number taken and when; the last failure (the platform's status and message, never
    # a credential); failures in a row; when the next attempt is due (a worker claims a feed by moving it).
    last_success_at: Mapped[datetime | None]
    last_count: Mapped[int | None] = mapped_column(BigInteger)
    last_approximate: Mapped[bool] = mapped_column(default=False)
    last_error: Mapped[str | None] = mapped_column(String(400))
    last_error_status: Mapped[int | None] = mapped_column(Integer)
    last_error_at: Mapped[datetime | None]
    # A value the counter's rules kept out (a 0, a drop over max_drop_share): recorded and shown.
    last_refused: Mapped[str | None] = mapped_column(String(400))
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    failing_since: Mapped[datetime | None]
    # The platform refused the credentials (401/403): no retry until staff change them.
    needs_credentials: Mapped[bool] = mapped_column(default=False)
    next_attempt_at: Mapped[datetime | None]
    stale_mailed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())

    @property
    def source_name(self) -> str:
        """Its name among the counter's sources (``counter_sources.source``)."""
        return f"{self.platform}:{self.id}"[:SOURCE_LENGTH]
