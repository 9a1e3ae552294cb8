"""Akismet in the life of a comment: asked about each post the local rules did not already call spam,
told when staff disagree with it.

What is asked: every post whose local verdict is approved or pending (a comment held for a first-time
author, a link or a moderation word is checked too, so Akismet's spam goes to spam rather than to the
queue). Local spam (honeypot, disallowed word, ban) is not sent: it is spam whatever Akismet says.

What is kept: the fields comment-check was sent (the raw IP among them, which the comment itself never
stores) in ``akismet_checks``, because submit-spam/submit-ham must repeat them. They are erased with their
author (engagement.privacy), deleted with the comment, and purged after ``CHECK_RETENTION`` by the mail
process: a decision made later than that is not reported.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import delete, event, select
from sqlalchemy.orm import Session

from engagement import clock, events
from engagement.akismet import client as akismet
from engagement.akismet import reports
from engagement.comments.drafts import Client, NewComment
from engagement.comments.spam import Verdict, apply_akismet
from engagement.extensions import db
from engagement.mailer.sender import before_delivery
from engagement.models import (
    AkismetCheck,
    AkismetReportKind,
    AkismetVerdict,
    Comment,
    CommentStatus,
    SiteRef,
)

log = logging.getLogger(__name__)

CHECK_RETENTION = timedelta(days=30)
# The widget's hidden field (PostCommentSchema's ``hp``), as Akismet's honeypot_field_name.
HONEYPOT_FIELD = "hp"


@dataclass(frozen=True)
class Consulted:
    """What Akismet said about a post (None: it could not answer) and the fields it was sent."""

    answer: AkismetVerdict | None
    fields: dict[str, str]


def consult(
    *,
    site: SiteRef,
    draft: NewComment,
    client: Client,
    verdict: Verdict,
    permalink: str | None,
    now: datetime,
) -> Consulted | None:
    """Ask Akismet about a post and apply its answer to ``verdict``; None when not asked (no key, or
    already spam). Ends the caller's read transaction first: on SQLite it holds the write lock, which
    no post may keep while Akismet answers (up to ``AKISMET_TIMEOUT``)."""
    if verdict.status == CommentStatus.SPAM:
        return None
    key = akismet.key_for(site)
    if key is None:
        return None
    fields = _fields(site, draft, client, permalink=permalink, now=now)
    blog = akismet.blog_for(site)
    settings = site.settings
    db.session.rollback()
    try:
        answer: AkismetVerdict | None = akismet.check_comment(key=key, blog=blog, fields=fields)
    except akismet.AkismetUnavailable as error:
        log.warning("akismet unavailable", extra={"fields": {"site": site.slug, "error": str(error)}})
        answer = None
    apply_akismet(verdict, answer, settings)
    return Consulted(answer=answer, fields=fields)


def remember(consulted: Consulted | None, *, comment_id: int, site_id: int, now: datetime) -> None:
    """Keep what Akismet judged, in the post's transaction, so staff decisions can be reported."""
    if consulted is None or consulted.answer is None:
        return
    db.session.add(
        AkismetCheck(
            comment_id=comment_id,
            site_id=site_id,
            verdict=str(consulted.answer),
            fields=consulted.fields,
            created_at=now,
        )
    )


def _fields(
    site: SiteRef, draft: NewComment, client: Client, *, permalink: str | None, now: datetime
) -> dict[str, str]:
    """comment-check's documented fields (the key, blog and charset are added by the client)."""
    fields = {
        "user_ip": client.ip or "",
        "user_agent": client.user_agent,
        "referrer": client.referrer,
        "permalink": permalink or "",
        "comment_type": "reply" if draft.parent_id is not None else "comment",
        "comment_author": draft.author_name,
        "comment_author_email": draft.author_email,
        "comment_author_url": draft.author_url or "",
        "comment_content": draft.body,
        "comment_date_gmt": now.isoformat(),
        "blog_lang": site.settings.akismet_blog_lang,
        "honeypot_field_name": HONEYPOT_FIELD,
        "hidden_honeypot_field": draft.honeypot,
    }
    return {name: value for name, value in fields.items() if value}


def init_app(app: Flask) -> None:
    """Report staff decisions Akismet disagreed with; deliver the reports from the mail process."""
    events.comment_status_changed.connect(_note_decision, sender=app)
    before_delivery.connect(_deliver_reports, sender=app)


# Decisions are collected per transaction and looked up together just before its commit: a bulk decision
# on a thousand comments costs one query, not one per comment.
_DECISIONS = "akismet_decisions"


def _note_decision(_app: Any, *, comment: Comment, after: str, **_: Any) -> None:
    if after in (CommentStatus.APPROVED, CommentStatus.SPAM):
        db.session.info.setdefault(_DECISIONS, {})[comment.id] = after


@event.listens_for(Session, "before_commit")
def _queue_reports_for_disagreements(session: Session) -> None:
    decisions: dict[int, str] | None = session.info.pop(_DECISIONS, None)
    if not decisions:
        return
    checks = session.execute(
        select(AkismetCheck.comment_id, AkismetCheck.verdict).where(
            AkismetCheck.comment_id.in_(list(decisions))
        )
    )
    for comment_id, verdict in checks:
        akismet_said_spam = verdict in (AkismetVerdict.SPAM, AkismetVerdict.DISCARD)
        if decisions[comment_id] == CommentStatus.APPROVED and akismet_said_spam:
            reports.queue_report(comment_id=comment_id, kind=AkismetReportKind.HAM)
        elif decisions[comment_id] == CommentStatus.SPAM and not akismet_said_spam:
            reports.queue_report(comment_id=comment_id, kind=AkismetReportKind.SPAM)


@event.listens_for(Session, "after_rollback")
def _forget_decisions(session: Session) -> None:
    session.info.pop(_DECISIONS, None)


def _deliver_reports(_app: Any) -> None:
    db.session.execute(delete(AkismetCheck).where(AkismetCheck.created_at < clock.now() - CHECK_RETENTION))
    db.session.commit()
    try:
        reports.deliver_due_reports()
    except Exception:  # Akismet's reports must never stop the mail they share a process with
        db.session.rollback()
        log.exception("akismet reports not delivered")
