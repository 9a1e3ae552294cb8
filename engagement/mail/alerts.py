"""Moderator alerts: a held comment is mailed to the site's ``notify_emails`` with one-click Approve,
Spam and Trash links.

Each mail's links share a nonce and work once, for 7 days, and only while the address is still one of
the site's ``notify_emails``. The decision goes through the same transition as the staff API (counts,
thread version, audit as ``email:<address>``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import exists, select

from engagement import clock
from engagement.database import insert_if_absent
from engagement.errors import Conflict, Forbidden, NotFound
from engagement.extensions import db
from engagement.hashing import keyed_hash
from engagement.mail import links
from engagement.mail.outbox import enqueue_email
from engagement.models import Comment, CommentStatus, Site, SiteRef, UsedMailLink
from engagement.moderation import service as moderation
from engagement.rendering import html_to_text

ACTIONS = {"approve": CommentStatus.APPROVED, "spam": CommentStatus.SPAM, "trash": CommentStatus.TRASH}


@dataclass(frozen=True)
class ModerationLink:
    comment: Comment
    site: SiteRef
    action: str
    email: str
    text: str  # the comment as plain text, for the confirmation page


def alert_moderators(*, comment: Comment, site: SiteRef) -> None:
    """A comment was held: mail each of the site's ``notify_emails`` once about it. Caller commits."""
    thread = comment.thread
    for email in dict.fromkeys(address.lower() for address in site.settings.notify_emails):
        nonce = secrets.token_urlsafe(16)
        urls = {
            f"{action}_url": links.link_url(
                links.MODERATE, {"c": comment.id, "a": action, "h": links.address_tag(email), "n": nonce}
            )
            for action in ACTIONS
        }
        enqueue_email(
            to=email,
            subject=f"[{site.name}] Comment awaiting moderation on {thread.title or thread.key}",
            template="moderation_alert",
            context={
                "site_name": site.name,
                "thread_title": thread.title or thread.key,
                "thread_url": thread.url or None,
                "author_name": comment.author_name,
                "author_email": comment.author_email,
                "author_url": comment.author_url,
                "text": html_to_text(comment.html),
                "reasons": list(comment.spam_reasons or []),
                **urls,
            },
            site=site,
            # Answering the alert writes to the commenter, the one person a moderator may want to ask.
            reply_to=comment.author_email or None,
            dedupe_key=f"held:{comment.id}:{keyed_hash('mail-address', email)[:32]}",
        )


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
    moderation.moderate_by_link(
        comment=link.comment, status=ACTIONS[link.action], actor=f"email:{link.email}"
    )
    return link


def _usable_link(token: str) -> tuple[ModerationLink, str]:
    claims = links.verify(links.MODERATE, token)
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
        raise Conflict(
            "already_moderated",
            f"This comment was already moderated: {comment.status}, by "
            f"{comment.moderated_by or 'the spam rules'}.",
        )
    link = ModerationLink(
        comment=comment, site=site, action=action, email=email, text=html_to_text(comment.html)
    )
    return link, nonce


def _used() -> Conflict:
    return Conflict("link_used", "This link has already been used.")
