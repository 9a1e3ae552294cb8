"""Single sign-on: the keys a site's backend signs its readers' tokens with, and the token ids used once."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from engagement.models.base import Base

SSO_ID_LENGTH = 255  # a comment's author_sso_id and a ban's value hold a token's ``sub``


class SsoAlgorithm(enum.StrEnum):
    """The JOSE algorithms a key can verify; each key verifies exactly one."""

    HS256 = "HS256"  # a shared secret the service generates
    RS256 = "RS256"  # an RSA public key (PEM) the site gives
    EDDSA = "EdDSA"  # an Ed25519 public key (PEM) the site gives


class SsoKey(Base):
    """One key of a site's: a generated HS256 secret (Fernet-encrypted, write-only) or a public key."""

    __tablename__ = "sso_keys"
    __table_args__ = (UniqueConstraint("site_id", "kid", name="uq_sso_keys_site_kid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    kid: Mapped[str] = mapped_column(String(64))
    algorithm: Mapped[str] = mapped_column(String(8))
    secret_encrypted: Mapped[str | None] = mapped_column(Text)
    public_key_pem: Mapped[str | None] = mapped_column(Text)
    # A rotated key keeps verifying until then (the grace period); None: current.
    retires_at: Mapped[datetime | None]
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class UsedSsoToken(Base):
    """A token's ``jti`` once exchanged, kept until the token expires: a second exchange is a replay."""

    __tablename__ = "used_sso_tokens"
    __table_args__ = (Index("ix_used_sso_tokens_expires", "expires_at"),)

    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True)
    jti_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime]
