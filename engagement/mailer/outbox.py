"""The outbox: every email is a row written in the transaction of the event that causes it.

A comment and the notification it triggers commit together or not at all, so a crash or an SMTP outage
can delay a message but never lose it. Senders (``flask engagement send-mail``) claim due rows for a
short lease, deliver them, and mark each one sent in its own transaction right after the SMTP server
accepted it. Several senders may run: PostgreSQL hands each one different rows (``FOR UPDATE SKIP
LOCKED``); SQLite has one writer at a time, so its claim is a plain transaction.

A message may wait for a later time (``not_before``, a moderator digest collecting held comments):
no sender claims it before then, and until then its writer may render it again under a row lock.

The one window for a duplicate: a sender that dies after the server accepted a message and before its
"sent" commit leaves the row queued; when the lease ends, the message goes out again with the same
Message-ID (delivery is at least once, and that header lets mail clients drop the copy).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import make_msgid, parseaddr
from typing import Any

from flask import current_app, render_template
from sqlalchemy import select, update

from engagement import clock
from engagement.database import insert_if_absent
from engagement.extensions import db
from engagement.i18n import mail_translator
from engagement.models import SiteRef
from engagement.models.mail import OutboxMessage, OutboxStatus

# Longer than a sender needs for one batch (each SMTP step times out after SMTP_TIMEOUT seconds), so a
# row is not handed to a second sender while the first is still working on it.
CLAIM_LEASE = timedelta(minutes=15)
RETRY_BASE = timedelta(minutes=5)
RETRY_CAP = timedelta(hours=6)
MAX_ERROR_LENGTH = 2000
SUBJECT_LENGTH = OutboxMessage.__table__.c.subject.type.length


@dataclass(frozen=True)
class ClaimedMessage:
    """What a sender needs to deliver one message, read while it was claimed."""

    id: int
    message_id: str
    to_address: str
    from_name: str
    reply_to: str | None
    subject: str
    text_body: str
    html_body: str
    unsubscribe_url: str | None
    created_at: datetime


def enqueue_email(
    *,
    to: str,
    subject: str,
    template: str,
    context: dict[str, Any],
    site: SiteRef | None = None,
    reply_to: str | None = None,
    unsubscribe_url: str | None = None,
    dedupe_key: str | None = None,
    suppressed_because: str | None = None,
    not_before: datetime | None = None,
    language: str | None = None,
) -> OutboxMessage:
    """Render ``templates/mail/messages/<template>.txt`` and ``.html`` and add the message to the
    current transaction (the caller commits it with the change that caused it).

    ``dedupe_key``: a second message with the same key is not added; the first one is returned.
    ``suppressed_because``: the message is recorded but never sent (kept so staff can see why).
    ``not_before``: no sender claims it earlier (a digest collecting until then); default now.
    ``language``: the recipient's (``engagement.i18n``): templates get its ``t`` and ``lang``/``dir``.
    """
    now = clock.now()
    values = {
        "site_id": site.id if site is not None else None,
        "message_id": make_msgid(domain=_sender_domain()),
        "dedupe_key": dedupe_key,
        "to_address": to,
        "from_name": header_text(site.name) if site is not None else "",
        "reply_to": reply_to,
        **_rendered(
            subject=subject,
            template=template,
            context=context,
            unsubscribe_url=unsubscribe_url,
            language=language,
        ),
        "unsubscribe_url": unsubscribe_url,
        "status": OutboxStatus.SUPPRESSED if suppressed_because else OutboxStatus.QUEUED,
        "attempts": 0,
        "next_attempt_at": not_before or now,
        "last_error": suppressed_because,
        "created_at": now,
    }
    if dedupe_key is None:
        message = OutboxMessage(**values)
        db.session.add(message)
        return message
    # ON CONFLICT DO NOTHING rather than check-then-insert: two transactions publishing the same reply
    # at once still leave one message.
    insert_if_absent(OutboxMessage.__table__, values, conflict_columns=["dedupe_key"])
    return db.session.scalars(select(OutboxMessage).where(OutboxMessage.dedupe_key == dedupe_key)).one()


def unclaimed_message(message_id: int, *, not_before: datetime) -> OutboxMessage | None:
    """A message enqueued with ``not_before`` that no sender can have taken yet, locked until the caller
    commits (``FOR UPDATE``: senders skip it meanwhile); None once it is due, taken or gone.

    A claim moves ``next_attempt_at`` to the end of its lease and a staff retry to the time of the retry,
    so a row still due at ``not_before`` and never attempted is one no sender has read.
    """
    message = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    unclaimed = (
        message is not None
        and message.status == OutboxStatus.QUEUED
        and message.attempts == 0
        and message.next_attempt_at == not_before
        and not_before > clock.now()
    )
    return message if unclaimed else None


def rewrite_unclaimed_message(
    message: OutboxMessage,
    *,
    subject: str,
    template: str,
    context: dict[str, Any],
    language: str | None = None,
) -> None:
    """Render a message from ``unclaimed_message`` again (a digest taking in what happened since it was
    enqueued); the caller commits, in the transaction that locked it."""
    values = _rendered(
        subject=subject,
        template=template,
        context=context,
        unsubscribe_url=message.unsubscribe_url,
        language=language,
    )
    for column, value in values.items():
        setattr(message, column, value)


def header_text(text: str) -> str:
    """``text`` as one header line: each run of white space (line breaks, the Unicode separators, form feed,
    NEL...) one space, every other control character and bidi embedding, override or isolate gone. Names and
    titles are checked for them on input now, but one imported or stored before (a site's name with a line
    break: the email package refuses it, and every mail of the site failed to build) still goes out."""
    return _NOT_IN_A_HEADER.sub("", " ".join(text.split()))


_NOT_IN_A_HEADER = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _rendered(
    *,
    subject: str,
    template: str,
    context: dict[str, Any],
    unsubscribe_url: str | None,
    language: str | None = None,
) -> dict[str, str]:
    # Titles and names come from readers: one line, and within the column.
    subject = header_text(subject)
    if len(subject) > SUBJECT_LENGTH:
        subject = subject[: SUBJECT_LENGTH - 1] + "…"
    words = mail_translator(language)
    variables = {
        "subject": subject,
        "unsubscribe_url": unsubscribe_url,
        "t": words.t,
        "lang": words.language,
        "dir": words.dir,
        **context,
    }
    return {
        "template": template,
        "subject": subject,
        "text_body": render_template(f"mail/messages/{template}.txt", **variables),
        "html_body": render_template(f"mail/messages/{template}.html", **variables),
    }


def sender_address() -> tuple[str, str]:
    """(display name, address) of ``SMTP_FROM``."""
    return parseaddr(current_app.config["SMTP_FROM"])


def _sender_domain() -> str:
    return sender_address()[1].rpartition("@")[2] or "localhost"


def claim_due_messages(*, limit: int) -> list[ClaimedMessage]:
    """Take up to ``limit`` due messages for ``CLAIM_LEASE``; commits, so other senders skip them."""
    now = clock.now()
    due = (
        select(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.QUEUED, OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)  # ignored by SQLite, whose writers take turns anyway
    )
    claimed = [
        ClaimedMessage(
            id=row.id,
            message_id=row.message_id,
            to_address=row.to_address,
            from_name=row.from_name,
            reply_to=row.reply_to,
            subject=row.subject,
            text_body=row.text_body,
            html_body=row.html_body,
            unsubscribe_url=row.unsubscribe_url,
            created_at=row.created_at,
        )
        for row in db.session.scalars(due)
    ]
    if claimed:
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_([m.id for m in claimed]))
            .values(next_attempt_at=now + CLAIM_LEASE)
        )
    db.session.commit()
    return claimed


def flush_backoff() -> int:
    """Make every message waiting out a retry due now (``worker --flush``, after the SMTP server was
    fixed). One a sender holds (its lease ends within ``CLAIM_LEASE``) is left to it, and so is one
    that was never tried: it waits for its own time (a digest collecting until then)."""
    now = clock.now()
    flushed = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.status == OutboxStatus.QUEUED,
            OutboxMessage.attempts > 0,
            OutboxMessage.next_attempt_at > now + CLAIM_LEASE,
        )
        .values(next_attempt_at=now)
    ).rowcount
    db.session.commit()
    return int(flushed)


def mark_sent(message_id: int) -> None:
    """The SMTP server accepted the message: record it at once, in a transaction of its own."""
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == OutboxStatus.QUEUED)
        .values(status=OutboxStatus.SENT, sent_at=clock.now(), attempts=OutboxMessage.attempts + 1)
    )
    db.session.commit()


def record_failure(message_id: int, error: str, *, permanent: bool) -> OutboxStatus:
    """Record a failed attempt: retried after an exponential backoff, or failed for good when the
    server refused it permanently (5xx) or it is out of attempts. Returns the message's new status."""
    now = clock.now()
    attempts = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(attempts=OutboxMessage.attempts + 1, last_error=error[:MAX_ERROR_LENGTH])
        .returning(OutboxMessage.attempts)
    ).scalar_one()
    if permanent or attempts >= current_app.config["SMTP_MAX_ATTEMPTS"]:
        status, next_attempt_at = OutboxStatus.FAILED, now
    else:
        status, next_attempt_at = OutboxStatus.QUEUED, now + retry_delay(attempts)
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(status=status, next_attempt_at=next_attempt_at)
    )
    db.session.commit()
    return status


def retry_delay(attempts: int) -> timedelta:
    """5 minutes after the first failure, doubling up to 6 hours: 8 attempts span about 10 hours."""
    return min(RETRY_CAP, RETRY_BASE * 2 ** (attempts - 1))
