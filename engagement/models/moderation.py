"""Bans and the audit log of every moderation decision."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from engagement.models.base import Base


class BanKind(enum.StrEnum):
    EMAIL = "email"
    IP = "ip"
    DOMAIN = "domain"
    WORD = "word"
    SSO = "sso"  # a signed-in reader's user id on the site (a single sign-on token's ``sub``)


class BanAction(enum.StrEnum):
    SPAM = "spam"
    MODERATE = "moderate"


class Ban(Base):
    __tablename__ = "bans"
    __table_args__ = (Index("ix_bans_site_kind", "site_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    # Lower-cased; for an IP, its HMAC (like comment IPs), so the clear address is never stored.
    value: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(16))
    expires_at: Mapped[datetime | None]
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class AuditEntry(Base):
    """One decision by staff or by the spam rules. Written in the transaction of the change it records."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_site_id", "site_id", "id"),
        Index("ix_audit_entries_comment_id", "comment_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    # No foreign key: the record of a hard-deleted comment outlives it.
    comment_id: Mapped[int | None]
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
