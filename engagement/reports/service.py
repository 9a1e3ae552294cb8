"""Readers' reports: taking one, counting the distinct readers behind a comment's open reports, and settling
them when staff decide.

Rules (issue 16):
- One report per reader per comment; a repeat answers the same and changes nothing.
- Only approved comments can be reported (anything else is "no such comment", as readers cannot see it).
- Readers behind one IP hash count as one reporter; a reporter whose reports were dismissed three times and
  never upheld on the site stops counting (their reports are still listed).
- At the site's ``report_threshold`` of counting reporters, moderation holds the comment
  (``events.reports_threshold_reached``), in the same transaction.
- Approving a comment dismisses its open reports, so reports made before that decision never hold it
  again (no brigading loop); spam or trash upholds them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, and_, distinct, func, select, update

from engagement import audit, clock, events
from engagement.database import insert_if_absent
from engagement.errors import NotFound
from engagement.extensions import db
from engagement.models import Comment, CommentStatus, Report, SiteRef, StaffToken
from engagement.staff import access
from engagement.staff.comment_view import reports_of

DISMISSALS_BEFORE_IGNORED = 3


@dataclass(frozen=True)
class Reported:
    """What a report did: ``new`` when it was this reader's first on the comment; ``held`` when it took the
    comment to the threshold."""

    new: bool
    held: bool


def report_comment(
    *, site: SiteRef, comment_id: int, reporter: str, ip_hash: str | None, reason: str, note: str
) -> Reported:
    """Record a reader's report of an approved comment of ``site``; hold it at the threshold."""
    # The comment's row stays locked until commit (PostgreSQL; SQLite has one writer anyway): two reports
    # reaching the threshold at once are taken one after the other, so the comment is held once and its
    # thread's count goes down once. The second then finds it no longer public, like any later report.
    comment = db.session.scalar(select(Comment).where(Comment.id == comment_id).with_for_update())
    if comment is None or comment.site_id != site.id or comment.status != CommentStatus.APPROVED:
        raise NotFound("comment_not_found", f"There is no comment {comment_id}.")
    new = insert_if_absent(
        Report.__table__,
        {
            "site_id": site.id,
            "comment_id": comment.id,
            "reporter": reporter,
            "ip_hash": ip_hash,
            "reason": reason,
            "note": note.strip(),
            "created_at": clock.now(),
        },
        conflict_columns=["comment_id", "reporter"],
    )
    held = False
    threshold = site.settings.report_threshold
    if new:
        comment.open_reports = Comment.open_reports + 1
        db.session.flush()
        events.comment_reported.send(
            current_app._get_current_object(), comment=comment, site=site, reason=reason
        )
    if new and threshold > 0:
        reporters = counting_reporters(site_id=site.id, comment_id=comment.id)
        if reporters >= threshold:
            events.reports_threshold_reached.send(
                current_app._get_current_object(), comment=comment, site=site, reporters=reporters
            )
            held = comment.status != CommentStatus.APPROVED
    db.session.commit()
    return Reported(new=new, held=held)


def counting_reporters(*, site_id: int, comment_id: int) -> int:
    """Distinct reporters (one per IP hash) of the comment's open reports, without the site's ignored ones."""
    ignored = (
        select(Report.reporter)
        .where(Report.site_id == site_id)
        .group_by(Report.reporter)
        .having(
            and_(
                func.count(Report.dismissed_at) >= DISMISSALS_BEFORE_IGNORED,
                func.count(Report.upheld_at) == 0,
            )
        )
    )
    return int(
        db.session.scalar(
            select(func.count(distinct(func.coalesce(Report.ip_hash, Report.reporter)))).where(
                _open(Report.comment_id == comment_id), Report.reporter.not_in(ignored)
            )
        )
        or 0
    )


def erase_reader_reports(*, site: SiteRef, reporter: str) -> int:
    """A reader's own erasure of their reports on a site (they hold no email, so the erasure by address
    cannot find them): their open reports stop counting at once; how many were erased. A comment they
    helped hold stays held: a moderator decides."""
    reports = list(
        db.session.scalars(
            select(Report).where(Report.site_id == site.id, Report.reporter == reporter).with_for_update()
        )
    )
    for report in reports:
        if report.dismissed_at is None and report.upheld_at is None:
            db.session.execute(
                update(Comment)
                .where(Comment.id == report.comment_id, Comment.open_reports > 0)
                .values(open_reports=Comment.open_reports - 1)
            )
        db.session.delete(report)
    if reports:
        audit.record(
            actor=audit.SYSTEM,
            action="reports_erased",
            site_id=site.id,
            reason="the reader's own request",
            details={"reports": len(reports)},
        )
    db.session.commit()
    return len(reports)


def settle_reports(*, comment: Comment, after: str, actor: str) -> None:
    """A staff decision on ``comment``: approving dismisses its open reports, spam or trash upholds them;
    audited with the decision (same transaction)."""
    if after == CommentStatus.APPROVED:
        _close(comment, actor=actor, values={"dismissed_at": clock.now(), "dismissed_by": actor})
    elif after in (CommentStatus.SPAM, CommentStatus.TRASH):
        _close(comment, actor=actor, values={"upheld_at": clock.now()})


def dismiss_reports(*, token: StaffToken, comment_id: int, reason: str) -> int:
    """Dismiss a comment's open reports without changing the comment (the staff API); how many."""
    comment = _staff_comment(token, comment_id)
    dismissed = _close(
        comment,
        actor=token.label,
        values={"dismissed_at": clock.now(), "dismissed_by": token.label},
        reason=reason,
    )
    db.session.commit()
    return dismissed


def comment_reports(*, token: StaffToken, comment_id: int) -> dict[str, Any]:
    """A comment's reports as staff see them: open count, counts by reason, each report (reporter hashed)."""
    comment = _staff_comment(token, comment_id)
    return reports_of([comment.id])[comment.id]


def _close(comment: Comment, *, actor: str, values: dict[str, Any], reason: str = "") -> int:
    # Read from the loaded row: a decision on a comment nobody reported (nearly all of them, a bulk of a
    # thousand included) costs no statement.
    if not comment.open_reports:
        return 0
    comment.open_reports = 0
    closed = db.session.execute(
        update(Report)
        .where(_open(Report.comment_id == comment.id))
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if closed:
        action = "reports_dismissed" if "dismissed_at" in values else "reports_upheld"
        audit.record(
            actor=actor,
            action=action,
            site_id=comment.site_id,
            comment=comment,
            reason=reason,
            details={"reports": closed},
        )
    return int(closed or 0)


def _open(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    return and_(condition, Report.dismissed_at.is_(None), Report.upheld_at.is_(None))


def _staff_comment(token: StaffToken, comment_id: int) -> Comment:
    comment = db.session.get(Comment, comment_id)
    if comment is None:
        raise NotFound("comment_not_found", f"There is no comment {comment_id}.")
    access.require_site(token, comment.thread.site)
    return comment
