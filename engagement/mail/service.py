"""Readers and mail: double opt-in for reply notifications and for subscriptions, the notifications
themselves, and what confirmation and unsubscribe links do.

Nobody is mailed who did not confirm: an address gets one confirmation mail (at most one an hour, and
within ``RATELIMIT_MAIL_ADDRESS`` per address whatever the IP), and nothing else until its link is
followed. A subscription request costs the same work and gets the same answer whether the address is
new, pending or confirmed, so the API cannot be used to learn who subscribed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import delete, event, select, update
from sqlalchemy.orm import Session

from engagement import clock, events
from engagement.database import insert_ignoring_conflicts
from engagement.errors import NotFound
from engagement.extensions import db
from engagement.hashing import keyed_hash
from engagement.i18n import mail_translator
from engagement.mailer import links
from engagement.mailer.outbox import enqueue_email
from engagement.models import Comment, MailContact, ReplySubscription, Site, SiteRef, Subscriber, Thread
from engagement.rate_limits import within_limit
from engagement.rendering import html_to_text
from engagement.threads import ThreadForPosting

log = logging.getLogger(__name__)

CONFIRMATION_COOLDOWN = timedelta(hours=1)
CONFIRM_LINK = links.LinkPurpose("engagement.mail-confirm", "mail_links.confirm", timedelta(days=7))
# An unsubscribe link must keep working for as long as the mails that carry it may be read.
UNSUBSCRIBE_LINK = links.LinkPurpose("engagement.mail-unsubscribe", "mail_links.unsubscribe", None)


@dataclass(frozen=True)
class LinkSubject:
    """What a confirmation or unsubscribe link is about, for the page that asks before it acts."""

    kind: str  # "subscription", "notifications" (every thread of a site) or "thread"
    site_name: str
    detail: str  # the subscription's target, or the thread's title
    done: bool = False  # already in the state the link asks for


# --- opt-in ----------------------------------------------------------------------------------------------


def request_reply_notifications(
    *, site: SiteRef, thread: ThreadForPosting, email: str, language: str | None = None
) -> None:
    """The comment form's "notify me" box: replies in ``thread`` will be mailed to ``email`` once the
    address is confirmed for the site; the first opt-in mails the confirmation link. Caller commits."""
    email = email.lower()
    now = clock.now()
    contact = _locked_row(
        MailContact, {"site_id": site.id, "email": email, "created_at": now}, keys=["site_id", "email"]
    )
    db.session.execute(
        insert_ignoring_conflicts(
            ReplySubscription.__table__,
            {"contact_id": contact.id, "thread_id": thread.id, "created_at": now},
            conflict_columns=["contact_id", "thread_id"],
        )
    )
    if contact.confirmed_at is not None:
        return  # a regular's every opt-in is not a mail request (nothing here answers a stranger)
    language = language or site.settings.language
    _mail_confirmation(
        model=MailContact,
        row=contact,
        site=site,
        language=language,
        subject=mail_translator(language).t("confirmNotificationsSubject", site=site.name),
        template="confirm_notifications",
        context={"site_name": site.name, "thread_title": thread.title or thread.key},
        claims={"k": "contact", "id": contact.id, "h": links.address_tag(email)},
        now=now,
    )


def request_subscription(*, site: SiteRef, target: str, email: str, language: str | None = None) -> None:
    """``POST /subscribers``: mail a confirmation link; the subscription counts once it is followed."""
    email = email.lower()
    now = clock.now()
    subscriber = _locked_row(
        Subscriber,
        {"site_id": site.id, "target": target, "email": email, "created_at": now},
        keys=["site_id", "target", "email"],
    )
    language = language or site.settings.language
    _mail_confirmation(
        model=Subscriber,
        row=subscriber,
        site=site,
        language=language,
        subject=mail_translator(language).t("confirmSubscriptionSubject", site=site.name),
        template="confirm_subscription",
        context={"site_name": site.name, "target": target},
        claims={"k": "subscriber", "id": subscriber.id, "h": links.address_tag(email)},
        now=now,
    )
    db.session.commit()


def _locked_row(model: type[Any], values: dict[str, Any], *, keys: list[str]) -> Any:
    """The row with these ``keys``, created if absent, locked until commit (PostgreSQL) so that two
    requests for one address cannot both decide to send a confirmation."""
    db.session.execute(insert_ignoring_conflicts(model.__table__, values, conflict_columns=keys))
    query = select(model).filter_by(**{key: values[key] for key in keys}).with_for_update()
    return db.session.scalars(query.execution_options(populate_existing=True)).one()


def _mail_confirmation(
    *,
    model: type[Any],
    row: Any,
    site: SiteRef,
    language: str,
    subject: str,
    template: str,
    context: dict[str, Any],
    claims: dict[str, Any],
    now: datetime,
) -> None:
    """Enqueue the confirmation mail, or record it as suppressed, with the same statements either way."""
    allowed = _address_within_limit(row.email)  # consulted every time, so every request costs the same
    if row.confirmed_at is not None:
        held_back = "the address is already confirmed"
    elif row.confirmation_sent_at is not None and now - row.confirmation_sent_at < CONFIRMATION_COOLDOWN:
        held_back = "a confirmation was sent less than an hour ago"
    elif not allowed:
        held_back = "too many requests for this address"
    else:
        held_back = None
    enqueue_email(
        to=row.email,
        subject=subject,
        template=template,
        context={**context, "confirm_url": links.link_url(CONFIRM_LINK, claims)},
        site=site,
        unsubscribe_url=links.link_url(UNSUBSCRIBE_LINK, claims),
        suppressed_because=held_back,
        language=language,
    )
    sent_at = now if held_back is None else row.confirmation_sent_at
    db.session.execute(update(model).where(model.id == row.id).values(confirmation_sent_at=sent_at))


def _address_within_limit(email: str) -> bool:
    """Count a request against ``RATELIMIT_MAIL_ADDRESS`` for this address (keyed by its hash); while the
    limit store is down, the per-subscription cooldown still holds."""
    return within_limit("RATELIMIT_MAIL_ADDRESS", scope="mail-address", key=keyed_hash("mail-address", email))


# --- notifications ---------------------------------------------------------------------------------------


# Published replies are collected per transaction and looked up together just before its commit: a bulk
# approval of a thousand replies costs two queries, not two per reply.
_REPLIES = "mail_published_replies"


def notify_reply(*, comment: Comment, site: SiteRef) -> None:
    """A comment was published: if it replies to someone who confirmed reply notifications for this
    thread, and is not their own, mail them once (queued when the caller commits)."""
    if comment.parent_id is not None:
        db.session.info.setdefault(_REPLIES, {})[comment.id] = (comment, site)


@event.listens_for(Session, "before_commit")
def _queue_reply_notifications(session: Session) -> None:
    replies: dict[int, tuple[Comment, SiteRef]] | None = session.info.pop(_REPLIES, None)
    if not replies:
        return
    parent_ids = {comment.parent_id for comment, _ in replies.values()}
    parents = {c.id: c for c in session.scalars(select(Comment).where(Comment.id.in_(parent_ids)))}
    wanted = {
        (site.id, comment.thread_id, parents[comment.parent_id].author_email.lower()): None
        for comment, site in replies.values()
        if comment.parent_id in parents
    }
    contacts = {
        (contact.site_id, thread_id, contact.email): contact
        for contact, thread_id in session.execute(
            select(MailContact, ReplySubscription.thread_id)
            .join(ReplySubscription, ReplySubscription.contact_id == MailContact.id)
            .where(
                MailContact.site_id.in_({site_id for site_id, _, _ in wanted}),
                MailContact.email.in_({email for _, _, email in wanted if email}),
                MailContact.confirmed_at.is_not(None),
                ReplySubscription.thread_id.in_({thread_id for _, thread_id, _ in wanted}),
            )
        )
    }
    for comment, site in replies.values():
        parent = parents.get(comment.parent_id)  # type: ignore[arg-type]
        email = parent.author_email.lower() if parent is not None else ""
        contact = contacts.get((site.id, comment.thread_id, email))
        if parent is not None and contact is not None and email != comment.author_email.lower():
            _mail_reply(comment, parent, site, contact, email)


@event.listens_for(Session, "after_rollback")
def _forget_replies(session: Session) -> None:
    session.info.pop(_REPLIES, None)


def _mail_reply(comment: Comment, parent: Comment, site: SiteRef, contact: MailContact, email: str) -> None:
    thread = comment.thread
    claims = {"id": contact.id, "h": links.address_tag(email)}
    # The language the parent's author wrote in: they get the mail.
    language = parent.language or site.settings.language
    enqueue_email(
        to=email,
        language=language,
        subject=mail_translator(language).t(
            "replySubject", author=comment.author_name, title=thread.title or site.name
        ),
        template="reply_notification",
        context={
            "site_name": site.name,
            "thread_title": thread.title or thread.key,
            "reply_author": comment.author_name,
            "reply_text": html_to_text(comment.html),
            "your_text": html_to_text(parent.html),
            "reply_url": f"{thread.url}#comment-{comment.id}" if thread.url else None,
            "unsubscribe_thread_url": links.link_url(
                UNSUBSCRIBE_LINK, {"k": "thread", "t": thread.id, **claims}
            ),
        },
        site=site,
        unsubscribe_url=links.link_url(UNSUBSCRIBE_LINK, {"k": "contact", **claims}),
        dedupe_key=f"reply:{comment.id}:{contact.id}",
    )


# --- links -----------------------------------------------------------------------------------------------

_KINDS = {"subscriber": "subscription", "contact": "notifications", "thread": "thread"}


def describe_confirmation(token: str) -> LinkSubject:
    """What a confirmation link would confirm (nothing changes)."""
    claims, row = _link(CONFIRM_LINK, token)
    if row is None:
        raise _stale()
    return _subject(claims, row, done=row.confirmed_at is not None)


def confirm(token: str) -> LinkSubject:
    """Follow a confirmation link: the address is confirmed (a subscription starts counting)."""
    claims, row = _link(CONFIRM_LINK, token)
    if row is None:
        raise _stale()
    subject = _subject(claims, row, done=True)
    model = type(row)
    newly_confirmed = db.session.execute(
        update(model)
        .where(model.id == row.id, model.confirmed_at.is_(None))
        .values(confirmed_at=clock.now())
        .returning(model.id)
    ).first()
    if newly_confirmed is not None and isinstance(row, Subscriber):
        _count(row, delta=1)
    db.session.commit()
    return subject


def describe_unsubscribe(token: str) -> LinkSubject:
    """What an unsubscribe link would stop (nothing changes)."""
    claims, row = _link(UNSUBSCRIBE_LINK, token)
    if row is None:
        return LinkSubject(kind=_KINDS[claims["k"]], site_name="", detail="", done=True)
    return _subject(claims, row)


def unsubscribe(token: str) -> LinkSubject:
    """Follow an unsubscribe link (or its one-click ``POST``); idempotent, and never an error for an
    address that is already out. Leaving a whole site also forgets the confirmation, so a later
    opt-in in someone else's comment needs the address's owner to confirm again."""
    claims, row = _link(UNSUBSCRIBE_LINK, token)
    if row is None:
        return LinkSubject(kind=_KINDS[claims["k"]], site_name="", detail="", done=True)
    subject = _subject(claims, row, done=True)
    if isinstance(row, Subscriber):
        was_confirmed = db.session.execute(
            delete(Subscriber).where(Subscriber.id == row.id).returning(Subscriber.confirmed_at)
        ).scalar_one_or_none()
        if was_confirmed is not None:
            _count(row, delta=-1)
    elif claims["k"] == "thread":
        db.session.execute(
            delete(ReplySubscription).where(
                ReplySubscription.contact_id == row.id, ReplySubscription.thread_id == claims["t"]
            )
        )
    else:
        db.session.execute(delete(ReplySubscription).where(ReplySubscription.contact_id == row.id))
        db.session.execute(update(MailContact).where(MailContact.id == row.id).values(confirmed_at=None))
    db.session.commit()
    return subject


def _link(purpose: links.LinkPurpose, token: str) -> tuple[dict[str, Any], MailContact | Subscriber | None]:
    """A link's claims and the row it names, if that row still belongs to the address the link was
    sent to (SQLite may give a deleted row's id to a new one)."""
    claims = links.verify(purpose, token)
    if claims.get("k") not in _KINDS or not isinstance(claims.get("id"), int):
        raise links.invalid_link()
    if claims["k"] == "thread" and not isinstance(claims.get("t"), int):
        raise links.invalid_link()
    model = Subscriber if claims["k"] == "subscriber" else MailContact
    row = db.session.get(model, claims["id"])
    still_theirs = row is not None and links.address_tag(row.email) == claims.get("h")
    return claims, row if still_theirs else None


def _subject(claims: dict[str, Any], row: MailContact | Subscriber, *, done: bool = False) -> LinkSubject:
    site = db.session.get(Site, row.site_id)
    if isinstance(row, Subscriber):
        detail = row.target
    elif claims["k"] == "thread":
        thread = db.session.get(Thread, claims["t"])
        detail = (thread.title or thread.key) if thread is not None else ""
    else:
        detail = ""
    return LinkSubject(kind=_KINDS[claims["k"]], site_name=site.name, detail=detail, done=done)


def _stale() -> NotFound:
    return NotFound("link_stale", "There is nothing left to confirm here; subscribe again from the site.")


def _count(subscriber: Subscriber, *, delta: int) -> None:
    site = db.session.get(Site, subscriber.site_id)
    events.subscription_counted.send(
        current_app._get_current_object(), site=site, target=subscriber.target, delta=delta
    )
