"""Staff bearer tokens: only a SHA-256 of each secret is stored."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Column, ForeignKey, String, Table, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engagement.models.base import Base
from engagement.models.sites import Site


class StaffRole(enum.StrEnum):
    ADMIN = "admin"
    MODERATOR = "moderator"


staff_token_sites = Table(
    "staff_token_sites",
    Base.metadata,
    Column("token_id", ForeignKey("staff_tokens.id", ondelete="CASCADE"), primary_key=True),
    Column("site_id", ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True),
)


class StaffToken(Base):
    __tablename__ = "staff_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters of the secret, so staff can tell tokens apart in listings.
    token_prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    sites: Mapped[list[Site]] = relationship(secondary=staff_token_sites, lazy="selectin")

    @property
    def is_admin(self) -> bool:
        return self.role == StaffRole.ADMIN

    def may_access(self, site: Site) -> bool:
        """Admins reach every site; a moderator only the sites in its scope."""
        return self.is_admin or any(s.id == site.id for s in self.sites)
