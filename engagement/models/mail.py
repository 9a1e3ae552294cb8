"""Mail: the outbox every email goes through, readers' confirmed addresses and subscriptions, used links."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engagement.models.base import Base
from engagement.models.counters import TARGET_LENGTH
from engagement.models.sites import Site

EMAIL_LENGTH = 254
URL_LENGTH = 1000


class OutboxStatus(enum.StrEnum):
    QUEUED = "queued"  # waiting for its next attempt (or claimed by a sender until next_attempt_at)
    SENT = "sent"  # the SMTP server accepted it
    FAILED = "failed"  # out of attempts, or refused for good: staff may retry it
    SUPPRESSED = "suppressed"  # never to be sent (cooldown, rate limit, already confirmed): kept as a record


class OutboxMessage(Base):
    """One email, rendered when it was enqueued, in the transaction of the event that caused it."""

    __tablename__ = "outbox"
    __table_args__ = (
        # What the sender claims: due messages, oldest first.
        Index("ix_outbox_due", "status", "next_attempt_at"),
        Index("ix_outbox_site_id", "site_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    # Stable across retries, so a receiving server or client can drop a copy resent after a crash.
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    # Set for messages that must exist once per event (a reply's notification to one reader).
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    template: Mapped[str] = mapped_column(String(64))
    to_address: Mapped[str] = mapped_column(String(EMAIL_LENGTH))
    from_name: Mapped[str] = mapped_column(String(200), default="")
    reply_to: Mapped[str | None] = mapped_column(String(EMAIL_LENGTH))
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    unsubscribe_url: Mapped[str | None] = mapped_column(String(URL_LENGTH))

    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # When a queued message is due; while a sender holds it, the end of that sender's lease.
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    sent_at: Mapped[datetime | None]

    site: Mapped[Site | None] = relationship()


class _DoubleOptIn:
    """An address that asked for mail; nothing but a confirmation is sent to it before ``confirmed_at``."""

    email: Mapped[str] = mapped_column(String(EMAIL_LENGTH))  # lower-cased
    confirmed_at: Mapped[datetime | None]
    # When the last confirmation mail went out: a second one waits an hour.
    confirmation_sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class MailContact(_DoubleOptIn, Base):
    """An address that asked for reply notifications on a site."""

    __tablename__ = "mail_contacts"
    __table_args__ = (UniqueConstraint("site_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))


class ReplySubscription(Base):
    """A contact wants to hear about replies to their comments in one thread."""

    __tablename__ = "reply_subscriptions"

    contact_id: Mapped[int] = mapped_column(
        ForeignKey("mail_contacts.id", ondelete="CASCADE"), primary_key=True
    )
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Subscriber(_DoubleOptIn, Base):
    """An email subscription to a site (or a target in it), counted once confirmed."""

    __tablename__ = "subscribers"
    __table_args__ = (
        UniqueConstraint("site_id", "target", "email"),
        Index("ix_subscribers_site_listing", "site_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    target: Mapped[str] = mapped_column(String(TARGET_LENGTH))


class UsedMailLink(Base):
    """The nonce of a single-use link (a moderator's Approve/Spam/Trash) that has been used."""

    __tablename__ = "used_mail_links"

    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    used_at: Mapped[datetime] = mapped_column(server_default=func.now())


class ModeratorAlertWindow(Base):
    """The mail cap of one ``notify_emails`` address on one site: after an alert or a digest, nothing more
    goes to the address about the site before ``ends_at``; comments held meanwhile wait in one digest."""

    __tablename__ = "moderator_alert_windows"

    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True)
    # A keyed hash of the lower-cased address: its mail in the outbox is the one place the address is kept.
    address_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    ends_at: Mapped[datetime]
    # The outbox row of the digest collecting this window's held comments, queued until ends_at. Not a
    # foreign key: a privacy erasure deletes outbox rows, and a digest that is gone reads the same as one
    # that went.
    digest_id: Mapped[int | None]
    # The comments the digest lists (the first ones held in the window), and how many more it counts.
    digest_comment_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    digest_unlisted: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
