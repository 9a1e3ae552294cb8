"""Fan, follower and subscriber counters: native reader actions plus external counts pushed by staff."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, String, UniqueConstraint, func
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
