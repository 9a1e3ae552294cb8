"""The learning reports owed to Akismet (``submit-spam`` / ``submit-ham``): an outbox of their own.

Queued in the transaction of the moderator's decision (so a decision rolled back owes nothing), delivered
by the mail process (``mailer.before_delivery``) or ``flask engagement send-akismet``, never in a request.
A sender claims due reports for a lease, so two senders never send the same one; a report is marked sent
right after Akismet thanks us. A failure is retried with exponential backoff until
``AKISMET_MAX_ATTEMPTS``; while Akismet is unreachable, the rest of the batch waits for the next attempt.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from engagement import clock
from engagement.akismet import client
from engagement.database import insert_if_absent
from engagement.extensions import db
from engagement.models import (
    AkismetCheck,
    AkismetReport,
    AkismetReportKind,
    AkismetReportStatus,
    Site,
)

log = logging.getLogger(__name__)

BATCH_SIZE = 20
CLAIM_LEASE = timedelta(minutes=5)
RETRY_BASE = timedelta(minutes=1)
RETRY_CAP = timedelta(hours=6)
MAX_ERROR_LENGTH = 500


@dataclass
class ReportDelivery:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    dropped: int = 0


def queue_report(*, comment_id: int, kind: AkismetReportKind) -> bool:
    """Owe Akismet one report about this comment, in the caller's transaction (once per kind)."""
    return insert_if_absent(
        AkismetReport.__table__,
        {
            "comment_id": comment_id,
            "kind": str(kind),
            "status": str(AkismetReportStatus.QUEUED),
            "attempts": 0,
            "next_attempt_at": clock.now(),
            "created_at": clock.now(),
        },
        conflict_columns=["comment_id", "kind"],
    )


def retry_delay(attempts: int) -> timedelta:
    """A minute after the first failure, doubling up to 6 hours."""
    return min(RETRY_CAP, RETRY_BASE * 2 ** (attempts - 1))


def deliver_due_reports() -> ReportDelivery:
    """Deliver every report due now, batch by batch; stops at the first batch Akismet could not take."""
    total = ReportDelivery()
    while True:
        batch, claimed = _deliver_one_batch()
        for name in ("sent", "retrying", "failed", "dropped"):
            setattr(total, name, getattr(total, name) + getattr(batch, name))
        if claimed < BATCH_SIZE or batch.retrying or batch.failed:
            return total


def _claim_due() -> list[tuple[int, int, str]]:
    now = clock.now()
    due = (
        select(AkismetReport.id, AkismetReport.comment_id, AkismetReport.kind)
        .where(AkismetReport.status == AkismetReportStatus.QUEUED, AkismetReport.next_attempt_at <= now)
        .order_by(AkismetReport.next_attempt_at, AkismetReport.id)
        .limit(BATCH_SIZE)
        .with_for_update(skip_locked=True)  # ignored by SQLite, whose writers take turns anyway
    )
    claimed = [(row.id, row.comment_id, row.kind) for row in db.session.execute(due)]
    if claimed:
        db.session.execute(
            update(AkismetReport)
            .where(AkismetReport.id.in_([report_id for report_id, _, _ in claimed]))
            .values(next_attempt_at=now + CLAIM_LEASE)
        )
    db.session.commit()
    return claimed


def _deliver_one_batch() -> tuple[ReportDelivery, int]:
    report = ReportDelivery()
    claimed = _claim_due()
    unreachable: str | None = None
    for report_id, comment_id, kind in claimed:
        if unreachable is not None:
            _record_failure(report, report_id, unreachable)
            continue
        check = db.session.get(AkismetCheck, comment_id)
        site = db.session.get(Site, check.site_id) if check is not None else None
        key = client.key_for(site) if site is not None else None
        if check is None or site is None or key is None:
            # Erased with its author, or the site no longer has a key: nothing can be sent.
            _finish(report_id, AkismetReportStatus.DROPPED, error="nothing to send")
            report.dropped += 1
            continue
        fields = dict(check.fields)
        blog = client.blog_for(site)
        db.session.rollback()  # no transaction (on SQLite, no write lock) while Akismet answers
        try:
            client.submit(kind=AkismetReportKind(kind), key=key, blog=blog, fields=fields)
        except client.AkismetUnavailable as error:
            unreachable = str(error)
            _record_failure(report, report_id, unreachable)
        else:
            _finish(report_id, AkismetReportStatus.SENT)
            report.sent += 1
    return report, len(claimed)


def _finish(report_id: int, status: AkismetReportStatus, *, error: str | None = None) -> None:
    db.session.execute(
        update(AkismetReport)
        .where(AkismetReport.id == report_id, AkismetReport.status == AkismetReportStatus.QUEUED)
        .values(
            status=status,
            sent_at=clock.now() if status == AkismetReportStatus.SENT else None,
            attempts=AkismetReport.attempts + 1,
            last_error=error,
        )
    )
    db.session.commit()


def _record_failure(report: ReportDelivery, report_id: int, error: str) -> None:
    now = clock.now()
    attempts = db.session.execute(
        update(AkismetReport)
        .where(AkismetReport.id == report_id)
        .values(attempts=AkismetReport.attempts + 1, last_error=error[:MAX_ERROR_LENGTH])
        .returning(AkismetReport.attempts)
    ).scalar_one()
    if attempts >= current_app.config["AKISMET_MAX_ATTEMPTS"]:
        status, next_attempt_at = AkismetReportStatus.FAILED, now
        report.failed += 1
    else:
        status, next_attempt_at = AkismetReportStatus.QUEUED, now + retry_delay(attempts)
        report.retrying += 1
    db.session.execute(
        update(AkismetReport)
        .where(AkismetReport.id == report_id)
        .values(status=status, next_attempt_at=next_attempt_at)
    )
    db.session.commit()
    log.warning(
        "akismet report not delivered",
        extra={"fields": {"report_id": report_id, "error": error, "status": str(status)}},
    )
