"""Delivering the outbox: ``flask engagement send-mail`` (once) and ``send-mail --watch`` (a process).

Without ``SMTP_HOST`` a message is "delivered" by writing it to the log, so development needs no mail
server and still goes through the outbox. With it, each claimed batch shares one SMTP connection; a
message is marked sent the moment the server accepts it. A refusal with a 5xx code fails the message at
once (retrying would not help); anything else (4xx, a dropped connection, a server that is down) is
retried with backoff, and every message of the batch not yet accepted gets the same failed attempt.
"""

from __future__ import annotations

import logging
import signal
import smtplib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime
from typing import Protocol

from blinker import Namespace
from flask import current_app
from sqlalchemy.exc import OperationalError

from engagement.extensions import db
from engagement.mailer import outbox
from engagement.models import OutboxStatus

log = logging.getLogger(__name__)

BATCH_SIZE = 10

# Sent (with the app as sender) before each batch is claimed: work that turns into mail outside any
# request, such as answering privacy requests, is done by the mail process and delivered in the same run.
before_delivery = Namespace().signal("before-delivery")


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    unreachable: str | None = None  # why the SMTP server could not be reached, when it could not

    @property
    def attempted(self) -> int:
        return self.sent + self.retrying + self.failed

    @property
    def more_may_be_due(self) -> bool:
        """A full batch went to a reachable server: the next one may be waiting."""
        return self.unreachable is None and self.attempted >= BATCH_SIZE


class Transport(Protocol):
    def send(self, message: EmailMessage) -> None: ...


def build_message(claimed: outbox.ClaimedMessage) -> EmailMessage:
    """The MIME message: plain text with an HTML alternative, and the headers every mail carries."""
    default_name, address = outbox.sender_address()
    username, _, domain = address.rpartition("@")
    message = EmailMessage(policy=SMTP_POLICY)
    # Address() encodes a non-ASCII display name (RFC 2047), so "Zürcher Zeitung" arrives intact.
    message["From"] = Address(
        display_name=claimed.from_name or default_name, username=username, domain=domain
    )
    message["To"] = claimed.to_address
    if claimed.reply_to:
        message["Reply-To"] = claimed.reply_to
    message["Subject"] = claimed.subject
    message["Date"] = format_datetime(claimed.created_at)
    message["Message-ID"] = claimed.message_id
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: vacation responders stay quiet
    if claimed.unsubscribe_url:
        message["List-Unsubscribe"] = f"<{claimed.unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"  # RFC 8058
    message.set_content(claimed.text_body)
    message.add_alternative(claimed.html_body, subtype="html")
    return message


def deliver_due_messages() -> DeliveryReport:
    """Deliver every message due now, batch by batch, until none is left (``send-mail`` without --watch)."""
    report = DeliveryReport()
    while True:
        batch = deliver_one_batch()
        report.sent += batch.sent
        report.retrying += batch.retrying
        report.failed += batch.failed
        report.unreachable = batch.unreachable
        # A server that is down is tried once per run, not once per batch of the backlog.
        if not batch.more_may_be_due:
            return report


def deliver_one_batch() -> DeliveryReport:
    """Claim up to ``BATCH_SIZE`` due messages and try each once."""
    before_delivery.send(current_app._get_current_object())
    report = DeliveryReport()
    claimed = outbox.claim_due_messages(limit=BATCH_SIZE)
    if not claimed:
        return report
    remaining = list(claimed)
    try:
        with _transport() as transport:
            while remaining:
                _deliver(transport, remaining[0], report)
                remaining.pop(0)
    except OSError as error:  # connection refused, timed out or dropped (smtplib errors are OSErrors too)
        report.unreachable = _describe(error)
        for unsent in remaining:
            _record(report, unsent, report.unreachable, permanent=False)
    return report


def _deliver(transport: Transport, claimed: outbox.ClaimedMessage, report: DeliveryReport) -> None:
    """Send one message and record the outcome; raises OSError when the connection itself failed."""
    try:
        transport.send(build_message(claimed))
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPResponseException) as error:
        if _code(error) == 421:  # the server is closing the connection: the rest of the batch cannot go
            raise
        _record(report, claimed, _describe(error), permanent=_code(error) >= 500)
    except (smtplib.SMTPNotSupportedError, ValueError) as error:  # an address the server cannot take
        _record(report, claimed, _describe(error), permanent=True)
    else:
        outbox.mark_sent(claimed.id)
        report.sent += 1


def watch_until_terminated(*, idle_seconds: float) -> None:
    """``send-mail --watch``: deliver until SIGTERM or SIGINT, finishing the message in hand first."""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    watch(stop=stop, idle_seconds=idle_seconds)


def watch(*, stop: threading.Event, idle_seconds: float) -> None:
    """Deliver messages as they become due until ``stop`` is set (SIGTERM); a database that is down
    is waited out, not a reason to exit."""
    while not stop.is_set():
        try:
            report = deliver_one_batch()
        except OperationalError:
            log.exception("outbox unavailable; retrying")
            report = DeliveryReport()
        finally:
            db.session.remove()
        if not report.more_may_be_due:
            stop.wait(idle_seconds)


def _record(report: DeliveryReport, claimed: outbox.ClaimedMessage, error: str, *, permanent: bool) -> None:
    status = outbox.record_failure(claimed.id, error, permanent=permanent)
    if status == OutboxStatus.FAILED:
        report.failed += 1
    else:
        report.retrying += 1
    log.warning(
        "mail not delivered",
        extra={"fields": {"outbox_id": claimed.id, "error": error, "status": str(status)}},
    )


def _code(error: smtplib.SMTPException) -> int:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return min(code for code, _ in error.recipients.values())
    return getattr(error, "smtp_code", 0)


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


@contextmanager
def _transport() -> Iterator[Transport]:
    config = current_app.config
    if not config["SMTP_HOST"]:
        yield _LogTransport()
        return
    port = config["SMTP_PORT"] or (465 if config["SMTP_SSL"] else 587 if config["SMTP_STARTTLS"] else 25)
    smtp_class = smtplib.SMTP_SSL if config["SMTP_SSL"] else smtplib.SMTP
    with smtp_class(config["SMTP_HOST"], port, timeout=config["SMTP_TIMEOUT"]) as connection:
        if config["SMTP_STARTTLS"] and not config["SMTP_SSL"]:
            connection.starttls()
        if config["SMTP_USERNAME"]:
            connection.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"] or "")
        yield _SmtpTransport(connection)


class _SmtpTransport:
    def __init__(self, connection: smtplib.SMTP) -> None:
        self.connection = connection

    def send(self, message: EmailMessage) -> None:
        self.connection.send_message(message)


class _LogTransport:
    """The development mailbox: one structured log line per message, links and all."""

    def send(self, message: EmailMessage) -> None:
        text = message.get_body(("plain",))
        log.info(
            "mail",
            extra={
                "fields": {
                    "to": message["To"],
                    "subject": message["Subject"],
                    "message_id": message["Message-ID"],
                    "list_unsubscribe": message["List-Unsubscribe"],
                    "text": text.get_content() if text is not None else "",
                }
            },
        )
