"""Moderator alerts: a held comment is mailed to the site's ``notify_emails`` with one-click Approve,
Spam and Trash links.

Each comment's links in a mail share a nonce and work once, for 7 days, and only while the address is
still one of the site's ``notify_emails``. The decision goes through the same transition as the staff
API (counts, thread version, audit as ``email:<address>``).

At most one mail goes to an address about a site every ``ALERT_WINDOW``. A comment held after a quiet
window is mailed at once and opens a window; comments held while it runs are collected into one digest,
an outbox row that waits for the window's end and is rendered again, under its lock, with each comment
held before then. The digest opens the next window when it goes, so a steady flood of held comments
gives one mail every ``ALERT_WINDOW`` per address. Each (site, address) has one window row, locked by
every held comment that touches it (``FOR UPDATE``; SQLite has one writer at a time anyway), so two
comments held at once neither both open a window nor drop one from the digest.

A digest still goes to an address taken out of ``notify_emails`` while it was collecting: the comments
in it were held while the address moderated the site, like an alert already queued at that moment;
its links are refused as any of that address's links are.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import selectinload

from engagement import clock
from engagement.database import insert_if_absent
from engagement.errors import Conflict, Forbidden, NotFound
from engagement.extensions import db
from engagement.hashing import keyed_hash
from engagement.i18n import mail_translator
from engagement.mailer import links
from engagement.mailer.outbox import enqueue_email, rewrite_unclaimed_message, unclaimed_message
from engagement.models import (
    Comment,
    CommentStatus,
    ModeratorAlertWindow,
    OutboxMessage,
    Site,
    SiteRef,
    UsedMailLink,
)
from engagement.moderation.comments import moderate_by_link as decide
from engagement.rendering import html_to_text

ACTIONS = {"approve": CommentStatus.APPROVED, "spam": CommentStatus.SPAM, "trash": CommentStatus.TRASH}
ALERT_WINDOW = timedelta(minutes=5)
# A digest lists this many comments with their links and counts the rest: a flood from many IPs must
# not make a mail of thousands of links.
DIGEST_LISTED = 25
DIGEST_EXCERPT_CHARACTERS = 500
MODERATE_LINK = links.LinkPurpose("engagement.mail-moderate", "moderation_links.moderate", timedelta(days=7))


@dataclass(frozen=True)
class ModerationLink:
    comment: Comment
    site: SiteRef
    action: str
    email: str
    text: str  # the comment as plain text, for the confirmation page


def alert_moderators(*, comment: Comment, site: SiteRef) -> None:
    """A comment was held: tell each of the site's ``notify_emails`` about it, in an alert at once or in
    the digest of the address's running window. Caller commits."""
    now = clock.now()
    # One order of addresses for every transaction, so two held comments lock the same rows in the same
    # order and never deadlock.
    for email in sorted({address.lower() for address in site.settings.notify_emails}):
        window = _locked_window(site, email, now)
        digest = _collecting_digest(window, now)
        if window.ends_at <= now:
            _send_alert(comment, site, email)
            window.ends_at = now + ALERT_WINDOW
        else:
            _collect(window, digest, comment, site, email)


def _locked_window(site: SiteRef, email: str, now: datetime) -> ModeratorAlertWindow:
    key = {"site_id": site.id, "address_hash": keyed_hash("mail-address", email)}
    # Insert if absent, then lock: of two transactions that find no row, the second waits for the first
    # one's insert to commit and then locks the row it made, instead of both opening a window.
    insert_if_absent(
        ModeratorAlertWindow.__table__,
        {**key, "ends_at": now, "digest_comment_ids": [], "digest_unlisted": 0},
        conflict_columns=["site_id", "address_hash"],
    )
    return db.session.scalars(
        select(ModeratorAlertWindow)
        .filter_by(**key)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def _collecting_digest(window: ModeratorAlertWindow, now: datetime) -> OutboxMessage | None:
    """The window's digest while comments may still join it; once it is due or taken, the window moves on."""
    if window.digest_id is None:
        return None
    digest = unclaimed_message(window.digest_id, not_before=window.ends_at)
    if digest is None:
        # It goes (or went) at the end of its window, or earlier when staff sent it on, and opens the next
        # window when it goes.
        window.ends_at = min(window.ends_at, now) + ALERT_WINDOW
        window.digest_id, window.digest_comment_ids, window.digest_unlisted = None, [], 0
    return digest


def _send_alert(comment: Comment, site: SiteRef, email: str) -> None:
    held = _held_comment(comment, email)
    language = site.settings.language  # moderators read the site's language
    enqueue_email(
        to=email,
        language=language,
        subject=mail_translator(language).t("alertSubject", site=site.name, title=held["thread_title"]),
        template="moderation_alert",
        context={"site_name": site.name, "comment": held},
        site=site,
        # Answering the alert writes to the commenter, the one person a moderator may want to ask.
        reply_to=comment.author_email or None,
        dedupe_key=f"held:{comment.id}:{keyed_hash('mail-address', email)[:32]}",
    )


def _collect(
    window: ModeratorAlertWindow, digest: OutboxMessage | None, comment: Comment, site: SiteRef, email: str
) -> None:
    if len(window.digest_comment_ids) < DIGEST_LISTED:
        window.digest_comment_ids = [*window.digest_comment_ids, comment.id]
    else:
        window.digest_unlisted += 1
    listed = db.session.scalars(
        select(Comment).where(Comment.id.in_(window.digest_comment_ids)).options(selectinload(Comment.thread))
    ).all()
    # Ordered as held; a comment deleted since it was held is left out.
    comments = sorted(listed, key=lambda c: window.digest_comment_ids.index(c.id))
    total = len(comments) + window.digest_unlisted
    language = site.settings.language
    subject = mail_translator(language).t("digestSubject", site=site.name, n=total)
    context: dict[str, Any] = {
        "site_name": site.name,
        "since": f"{window.ends_at - ALERT_WINDOW:%Y-%m-%d %H:%M} UTC",
        "window_minutes": int(ALERT_WINDOW.total_seconds() // 60),
        "comments": [_held_comment(c, email, excerpt=DIGEST_EXCERPT_CHARACTERS) for c in comments],
        "unlisted": window.digest_unlisted,
        "total": total,
    }
    if digest is not None:
        rewrite_unclaimed_message(
            digest, subject=subject, template="moderation_digest", context=context, language=language
        )
        return
    digest = enqueue_email(
        to=email,
        language=language,
        subject=subject,
        template="moderation_digest",
        context=context,
        site=site,
        not_before=window.ends_at,
    )
    db.session.flush()  # the digest's id, for the window
    window.digest_id = digest.id


def _held_comment(comment: Comment, email: str, *, excerpt: int | None = None) -> dict[str, Any]:
    """What a mail shows of one held comment, with its own Approve/Spam/Trash links for ``email``."""
    thread = comment.thread
    text = html_to_text(comment.html)
    if excerpt is not None and len(text) > excerpt:
        text = text[: excerpt - 1].rstrip() + "…"
    # One nonce for the comment's three links in this mail: the first one used spends the other two.
    nonce = secrets.token_urlsafe(16)
    claims = {"c": comment.id, "h": links.address_tag(email), "n": nonce}
    return {
        "thread_title": thread.title or thread.key,
        "thread_url": thread.url or None,
        "author_name": comment.author_name,
        "author_email": comment.author_email,
        "author_url": comment.author_url,
        "text": text,
        "reasons": list(comment.spam_reasons or []),
        **{f"{action}_url": links.link_url(MODERATE_LINK, {**claims, "a": action}) for action in ACTIONS},
    }


def describe_moderation_link(token: str) -> ModerationLink:
    """What a moderation link would do, refusing as its POST would (nothing changes)."""
    link, _nonce = _usable_link(token)
    return link


def moderate_by_link(token: str) -> ModerationLink:
    """Apply a moderation link's decision, once."""
    link, nonce = _usable_link(token)
    # Same transaction as the decision: a refused transition does not spend the link.
    if not insert_if_absent(
        UsedMailLink.__table__, {"nonce": nonce, "used_at": clock.now()}, conflict_columns=["nonce"]
    ):
        raise _used()
    decide(comment=link.comment, status=ACTIONS[link.action], actor=f"email:{link.email}")
    return link


def _usable_link(token: str) -> tuple[ModerationLink, str]:
    claims = links.verify(MODERATE_LINK, token)
    comment_id, action, tag, nonce = (claims.get(k) for k in ("c", "a", "h", "n"))
    if not isinstance(comment_id, int) or action not in ACTIONS or not tag or not nonce:
        raise links.invalid_link()
    if db.session.scalar(select(exists().where(UsedMailLink.nonce == nonce))):
        raise _used()
    comment = db.session.get(Comment, comment_id)
    if comment is None:
        raise NotFound("comment_not_found", "This comment no longer exists.")
    site = db.session.get(Site, comment.site_id)
    moderators = {links.address_tag(address): address.lower() for address in site.settings.notify_emails}
    email = moderators.get(tag)
    if email is None:
        raise Forbidden("link_revoked", "This address no longer moderates this site.")
    if comment.status != CommentStatus.PENDING:
        by = comment.moderated_by or "the spam rules"
        raise Conflict(
            "already_moderated",
            f"This comment was already moderated: {comment.status}, by {by}.",
            fields={"status": str(comment.status), "moderated_by": by},
        )
    link = ModerationLink(
        comment=comment, site=site, action=action, email=email, text=html_to_text(comment.html)
    )
    return link, nonce


def _used() -> Conflict:
    return Conflict("link_used", "This link has already been used.")
