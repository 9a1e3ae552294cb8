"""Staff: members (people, who sign in to the console) and bearer tokens (for machines, or owned by a
member). Only a SHA-256 of every secret is stored: tokens, console sessions and sign-in links."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Column, ForeignKey, String, Table, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engagement.models.base import Base
from engagement.models.mail import EMAIL_LENGTH
from engagement.models.sites import Site


class StaffRole(enum.StrEnum):
    ADMIN = "admin"
    MODERATOR = "moderator"


class StaffScope:
    """What every staff principal (a token, a member) offers the permission checks: a role and sites."""

    role: str
    sites: list[Site]

    @property
    def is_admin(self) -> bool:
        return self.role == StaffRole.ADMIN

    def may_access(self, site: Site) -> bool:
        """Admins reach every site; a moderator only the sites in its scope."""
        return self.is_admin or any(s.id == site.id for s in self.sites)


staff_token_sites = Table(
    "staff_token_sites",
    Base.metadata,
    Column("token_id", ForeignKey("staff_tokens.id", ondelete="CASCADE"), primary_key=True),
    Column("site_id", ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True),
)

staff_member_sites = Table(
    "staff_member_sites",
    Base.metadata,
    Column("member_id", ForeignKey("staff_members.id", ondelete="CASCADE"), primary_key=True),
    Column("site_id", ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True),
)


class StaffMember(StaffScope, Base):
    """A person on the staff: signs in to the console by a mailed link or one of their tokens."""

    __tablename__ = "staff_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(EMAIL_LENGTH), unique=True)  # lower-cased
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    revoked_at: Mapped[datetime | None]

    sites: Mapped[list[Site]] = relationship(secondary=staff_member_sites, lazy="selectin")

    @property
    def label(self) -> str:
        """Who the audit log names: the address, which is unique and does not change."""
        return self.email


class StaffToken(StaffScope, Base):
    __tablename__ = "staff_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters of the secret, so staff can tell tokens apart in listings.
    token_prefix: Mapped[str] = mapped_column(String(16))
    # The member the token belongs to; None for a machine's standalone token.
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_members.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    sites: Mapped[list[Site]] = relationship(secondary=staff_token_sites, lazy="selectin")
    member: Mapped[StaffMember | None] = relationship(lazy="joined")


class ConsoleSession(Base):
    """A signed-in browser. Its cookie holds a secret; only the secret's SHA-256 is kept here. It acts
    as its member, or (signed in with a standalone token) as that token; it ends when revoked, when its
    member or token is revoked, or after the console's idle timeout."""

    __tablename__ = "console_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_members.id", ondelete="CASCADE"), index=True
    )
    # The token pasted to sign in, if one was: revoking it ends the session.
    token_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_tokens.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    last_seen_at: Mapped[datetime]
    ip_hash: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str] = mapped_column(String(300))
    revoked_at: Mapped[datetime | None]

    member: Mapped[StaffMember | None] = relationship(lazy="joined")
    token: Mapped[StaffToken | None] = relationship(lazy="joined")


class SignInRequest(Base):
    """An address typed on the sign-in page, waiting for the mail process: it looks the address up, so
    the page costs the same for a member and a stranger. Deleted once looked at."""

    __tablename__ = "console_sign_in_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(EMAIL_LENGTH))  # lower-cased
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class SignInLink(Base):
    """A one-time sign-in link mailed (or printed by the CLI) to a member; only its SHA-256 is kept."""

    __tablename__ = "console_sign_in_links"
    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id", ondelete="CASCADE"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    used_at: Mapped[datetime | None]

    member: Mapped[StaffMember] = relationship(lazy="joined")
