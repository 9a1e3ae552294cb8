"""Typed SQLAlchemy models. Importing this package registers every table on ``Base.metadata``."""

from engagement.models.akismet import (
    AkismetCheck,
    AkismetReport,
    AkismetReportKind,
    AkismetReportStatus,
    AkismetVerdict,
)
from engagement.models.base import Base
from engagement.models.comments import Comment, CommentLike, CommentStatus, Thread
from engagement.models.counters import (
    Counter,
    CounterFeed,
    CounterHistory,
    CounterKind,
    CounterReaderAction,
    CounterSource,
)
from engagement.models.exports import EXPORT_ID_LENGTH, ExportJob, ExportStatus
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
from engagement.models.privacy import PrivacyRequest, PrivacyRequestStatus
from engagement.models.reports import Report, ReportReason
from engagement.models.sites import Site, SiteRef, SiteSettings, SiteSnapshot
from engagement.models.sso import SSO_ID_LENGTH, SsoAlgorithm, SsoKey, UsedSsoToken
from engagement.models.staff import (
    ConsoleSession,
    SignInLink,
    SignInRequest,
    StaffMember,
    StaffRole,
    StaffScope,
    StaffToken,
    staff_member_sites,
    staff_token_sites,
)
from engagement.models.webhooks import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint


def _never_reuse_ids() -> None:
    """Every table with a surrogate ``id``: SQLite's AUTOINCREMENT, so a deleted highest id is never
    handed to the next row. Ids appear in edit tokens, mailed links, audit entries and exports, where
    a reused one would name somebody else's row. (PostgreSQL's sequences never go back on their own.)"""
    for table in Base.metadata.tables.values():
        if [column.name for column in table.primary_key.columns] == ["id"]:
            table.dialect_options["sqlite"]["autoincrement"] = True


_never_reuse_ids()

__all__ = [
    "EXPORT_ID_LENGTH",
    "SSO_ID_LENGTH",
    "AkismetCheck",
    "AkismetReport",
    "AkismetReportKind",
    "AkismetReportStatus",
    "AkismetVerdict",
    "AuditEntry",
    "Ban",
    "BanAction",
    "BanKind",
    "Base",
    "Comment",
    "CommentLike",
    "CommentStatus",
    "ConsoleSession",
    "Counter",
    "CounterFeed",
    "CounterHistory",
    "CounterKind",
    "CounterReaderAction",
    "CounterSource",
    "DeliveryStatus",
    "ExportJob",
    "ExportStatus",
    "MailContact",
    "ModeratorAlertWindow",
    "OutboxMessage",
    "OutboxStatus",
    "PrivacyRequest",
    "PrivacyRequestStatus",
    "ReplySubscription",
    "Report",
    "ReportReason",
    "SignInLink",
    "SignInRequest",
    "Site",
    "SiteRef",
    "SiteSettings",
    "SiteSnapshot",
    "SsoAlgorithm",
    "SsoKey",
    "StaffMember",
    "StaffRole",
    "StaffScope",
    "StaffToken",
    "Subscriber",
    "Thread",
    "UsedMailLink",
    "UsedSsoToken",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "staff_member_sites",
    "staff_token_sites",
]
