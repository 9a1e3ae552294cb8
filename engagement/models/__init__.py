"""Typed SQLAlchemy models. Importing this package registers every table on ``Base.metadata``."""

from engagement.models.base import Base
from engagement.models.comments import Comment, CommentLike, CommentStatus, Thread
from engagement.models.counters import (
    Counter,
    CounterHistory,
    CounterKind,
    CounterReaderAction,
    CounterSource,
)
from engagement.models.mail import (
    MailContact,
    ModeratorAlertWindow,
    OutboxMessage,
    OutboxStatus,
    ReplySubscription,
    Subscriber,
    UsedMailLink,
)
from engagement.models.moderation import AuditEntry, Ban, BanAction, BanKind
from engagement.models.sites import Site, SiteRef, SiteSettings, SiteSnapshot
from engagement.models.staff import StaffRole, StaffToken, staff_token_sites

__all__ = [
    "AuditEntry",
    "Ban",
    "BanAction",
    "BanKind",
    "Base",
    "Comment",
    "CommentLike",
    "CommentStatus",
    "Counter",
    "CounterHistory",
    "CounterKind",
    "CounterReaderAction",
    "CounterSource",
    "MailContact",
    "ModeratorAlertWindow",
    "OutboxMessage",
    "OutboxStatus",
    "ReplySubscription",
    "Site",
    "SiteRef",
    "SiteSettings",
    "SiteSnapshot",
    "StaffRole",
    "StaffToken",
    "Subscriber",
    "Thread",
    "UsedMailLink",
    "staff_token_sites",
]
