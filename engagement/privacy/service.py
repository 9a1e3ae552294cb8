"""Privacy requests about one email address, or one signed-in reader's user id on a site (single
sign-on): what we hold (access) and forgetting it (erasure).

Staff answer them across their token's sites; a reader asks for one site and proves the address is theirs
by following a signed link mailed to it. Erasure either anonymizes (the words stay, under "Anonymous",
with no name, email, URL, IP hash or user agent) or deletes the comments (a comment with replies stays as a
``deleted`` placeholder, as any deletion). Either way the address's subscriptions, reply-notification
opt-ins and mail still queued for it go too. Every erased comment gets an audit entry; the audit log
never stores the address itself.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import joinedload

from engagement import audit, clock, events, threads
from engagement.database import insert_ignoring_conflicts
from engagement.errors import Forbidden
from engagement.extensions import db
from engagement.hashing import keyed_hash
from engagement.i18n import mail_translator
from engagement.mailer import links
from engagement.mailer.outbox import enqueue_email
from engagement.models import (
    AkismetCheck,
    Comment,
    MailContact,
    OutboxMessage,
    PrivacyRequest,
    PrivacyRequestStatus,
    ReplySubscription,
    Site,
    SiteRef,
    StaffToken,
    Subscriber,
    Thread,
)
from engagement.staff.access import scoped_site_ids

ANONYMOUS = "Anonymous"
ERASE_MODES = ("anonymize", "delete")
REQUESTS = ("export", "erase")
# A reader's link works for two days; one mail per address, site and kind of request an hour.
LINK_LIFETIME = timedelta(days=2)
EXPORT_LINK = links.LinkPurpose("engagement.privacy-export", "privacy_links.export_own_data", LINK_LIFETIME)
ERASE_LINK = links.LinkPurpose("engagement.privacy-erase", "privacy_links.erase_page", LINK_LIFETIME)


@dataclass(frozen=True)
class FollowedThreads:
    contact: MailContact
    thread_keys: list[str]


@dataclass(frozen=True)
class Person:
    """Everything held about one address in the sites asked about."""

    email: str
    comments: list[Comment]
    subscriptions: list[Subscriber]
    reply_notifications: list[FollowedThreads]
    site_slugs: dict[int, str] = field(default_factory=dict)
    sso_id: str | None = None


@dataclass(frozen=True)
class Erasure:
    email: str
    mode: str
    sso_id: str | None
    comments: int
    subscriptions: int
    reply_notifications: int


@dataclass(frozen=True)
class ErasureLink:
    """What an erase link would do, for the page that asks before it acts."""

    site_name: str
    email: str
    comments: int
    done: bool = False


# --- staff ---------------------------------------------------------------------------------------------


def find_person(
    *, token: StaffToken, email: str | None, sso_id: str | None = None, site: str | None = None
) -> Person:
    """Every comment, subscription and reply-notification opt-in of ``email`` in the token's sites (or in
    ``site``), and every comment of the signed-in reader ``site`` knows by ``sso_id``."""
    return _person(email or "", scoped_site_ids(token, site), sso_id=sso_id)


def erase_person(
    *, token: StaffToken, email: str | None, mode: str, sso_id: str | None = None, site: str | None = None
) -> Erasure:
    """Anonymize (any staff, in its sites) or delete (admins) everything of ``email``, or of the
    signed-in reader ``sso_id`` of ``site``."""
    if mode == "delete" and not token.is_admin:
        raise Forbidden("forbidden", "Only an admin token may delete comments; anonymize them instead.")
    site_ids = scoped_site_ids(token, site)
    erasure = _erase(email or "", site_ids, mode=mode, actor=token.label, sso_id=sso_id)
    db.session.commit()
    return erasure


# --- a signed-in reader ----------------------------------------------------------------------------------


def own_data(*, site: SiteRef, sso_id: str, email: str | None) -> Person:
    """What the site holds about a reader it signed in: their comments by user id (and by the email the
    site vouches for), and that email's subscriptions and opt-ins. No mailed link: the session proves it."""
    return _person(email or "", [site.id], sso_id=sso_id)


def erase_own_data(*, site: SiteRef, sso_id: str, email: str | None) -> Erasure:
    """A signed-in reader forgets themselves on the site: comments anonymized, mail opt-ins gone."""
    erasure = _erase(email or "", [site.id], mode="anonymize", actor="reader (signed in)", sso_id=sso_id)
    db.session.commit()
    return erasure


# --- a reader's own request ------------------------------------------------------------------------------


def request_by_email(*, site: SiteRef, email: str, request: str, language: str | None = None) -> None:
    """Record a reader's export or erase request; the mail process answers it (``answer_requests``).

    The same statement for every address, known or not, and nothing looked up here: neither the answer
    nor its timing can tell whether the site holds anything about an address. Repeats within the hour
    (per site, kind and address) change nothing.
    """
    email = email.strip().lower()
    now = clock.now()
    hour = int(now.timestamp() // 3600)
    db.session.execute(
        insert_ignoring_conflicts(
            PrivacyRequest.__table__,
            {
                "site_id": site.id,
                "kind": request,
                "email": email,
                "status": PrivacyRequestStatus.RECEIVED,
                "dedupe_key": keyed_hash("privacy-request", f"{site.id}:{request}:{email}:{hour}")[:64],
                "language": language,
                "created_at": now,
            },
            conflict_columns=["dedupe_key"],
        )
    )
    db.session.commit()


def answer_requests(*, limit: int = 100) -> int:
    """Answer waiting requests (the mail process, before each delivery batch): mail a link to each
    address the site holds something about, forget the others, and drop requests whose link has
    expired. Returns how many requests were answered."""
    now = clock.now()
    db.session.execute(delete(PrivacyRequest).where(PrivacyRequest.created_at < now - LINK_LIFETIME))
    waiting = db.session.scalars(
        select(PrivacyRequest)
        .where(PrivacyRequest.status == PrivacyRequestStatus.RECEIVED)
        .order_by(PrivacyRequest.id)
        .limit(limit)
        .with_for_update(skip_locked=True)  # several mail processes: each answers its own
    ).all()
    for privacy_request in waiting:
        site = db.session.get(Site, privacy_request.site_id)
        person = _person(privacy_request.email, [site.id])
        if not (person.comments or person.subscriptions or person.reply_notifications):
            db.session.delete(privacy_request)  # nothing to send, and nothing to keep about a stranger
            continue
        _mail_link(site, privacy_request)
        privacy_request.status = PrivacyRequestStatus.MAILED
    db.session.commit()
    return len(waiting)


def _mail_link(site: Site, privacy_request: PrivacyRequest) -> None:
    kind = privacy_request.kind
    purpose = EXPORT_LINK if kind == "export" else ERASE_LINK
    hour = int(privacy_request.created_at.timestamp() // 3600)
    address = keyed_hash("privacy", privacy_request.email)[:40]
    language = privacy_request.language or site.settings.language
    subject = mail_translator(language).t(
        {"export": "exportSubject", "erase": "eraseSubject"}[kind], site=site.name
    )
    enqueue_email(
        to=privacy_request.email,
        language=language,
        subject=subject,
        template=f"privacy_{kind}",
        # The link names the request, never the address: links end up in logs and browser history.
        context={"site_name": site.name, "link_url": links.link_url(purpose, {"r": privacy_request.id})},
        site=site,
        dedupe_key=f"privacy:{kind}:{site.id}:{address}:{hour}",
    )


def export_by_link(token: str) -> tuple[Site, Person]:
    """What the site holds about the address an export link was mailed to."""
    site, privacy_request = _link_claims(EXPORT_LINK, token)
    return site, _person(privacy_request.email, [site.id])


def describe_erase_link(token: str) -> ErasureLink:
    """What following an erase link would do (nothing changes)."""
    site, privacy_request = _link_claims(ERASE_LINK, token)
    if privacy_request.status == PrivacyRequestStatus.ERASED:
        return ErasureLink(site_name=site.name, email="", comments=0, done=True)
    person = _person(privacy_request.email, [site.id])
    held = person.comments or person.subscriptions or person.reply_notifications
    return ErasureLink(
        site_name=site.name, email=privacy_request.email, comments=len(person.comments), done=not held
    )


def erase_by_link(token: str) -> ErasureLink:
    """Follow an erase link: anonymize the address's comments on the site and forget its mail; then the
    request forgets the address too. Following it again changes nothing."""
    site, privacy_request = _link_claims(ERASE_LINK, token)
    if privacy_request.status == PrivacyRequestStatus.ERASED:
        return ErasureLink(site_name=site.name, email="", comments=0, done=True)
    email = privacy_request.email
    erasure = _erase(email, [site.id], mode="anonymize", actor="privacy-request")
    privacy_request.email = ""
    privacy_request.status = PrivacyRequestStatus.ERASED
    db.session.commit()
    return ErasureLink(site_name=site.name, email=email, comments=erasure.comments, done=True)


def _link_claims(purpose: links.LinkPurpose, token: str) -> tuple[Site, PrivacyRequest]:
    claims = links.verify(purpose, token)
    request_id = claims.get("r")
    privacy_request = db.session.get(PrivacyRequest, request_id) if type(request_id) is int else None
    expected = "export" if purpose is EXPORT_LINK else "erase"
    if privacy_request is None or privacy_request.kind != expected:
        raise links.invalid_link()
    if privacy_request.status == PrivacyRequestStatus.RECEIVED:
        raise links.invalid_link()  # never mailed: no link can name it
    return db.session.get(Site, privacy_request.site_id), privacy_request


# --- shared --------------------------------------------------------------------------------------------


def _comments_of(email: str, site_ids: list[int] | None, sso_id: str | None = None) -> list[Comment]:
    """The comments of an address, of a signed-in reader's user id, or of either (none: no comment)."""
    authored = []
    if email.strip():
        authored.append(Comment.author_email == email.strip().lower())
    if sso_id is not None:
        authored.append(Comment.author_sso_id == sso_id)
    if not authored:
        return []
    query = (
        select(Comment)
        # The site once (its JSON columns decoded once), not joined to each of hundreds of rows.
        .options(joinedload(Comment.thread).selectinload(Thread.site))
        .where(or_(*authored))
        .order_by(Comment.created_at, Comment.id)
    )
    if site_ids is not None:
        query = query.where(Comment.site_id.in_(site_ids))
    return list(db.session.scalars(query))


def _in_sites(column: Any, site_ids: list[int] | None) -> Any:
    return column.in_(site_ids) if site_ids is not None else column.is_not(None)


def _person(email: str, site_ids: list[int] | None, *, sso_id: str | None = None) -> Person:
    email = email.strip().lower()
    subscriptions = list(
        db.session.scalars(
            select(Subscriber)
            .where(Subscriber.email == email, _in_sites(Subscriber.site_id, site_ids))
            .order_by(Subscriber.id)
        )
    )
    contacts = list(
        db.session.scalars(
            select(MailContact)
            .where(MailContact.email == email, _in_sites(MailContact.site_id, site_ids))
            .order_by(MailContact.id)
        )
    )
    followed: dict[int, list[str]] = defaultdict(list)
    if contacts:
        rows = db.session.execute(
            select(ReplySubscription.contact_id, Thread.key)
            .join(Thread, Thread.id == ReplySubscription.thread_id)
            .where(ReplySubscription.contact_id.in_([c.id for c in contacts]))
            .order_by(Thread.key)
        )
        for contact_id, key in rows:
            followed[contact_id].append(key)
    return Person(
        email=email,
        sso_id=sso_id,
        comments=_comments_of(email, site_ids, sso_id),
        subscriptions=subscriptions,
        reply_notifications=[FollowedThreads(c, followed[c.id]) for c in contacts],
        site_slugs=dict(db.session.execute(select(Site.id, Site.slug)).all()),
    )


def _erase(
    email: str, site_ids: list[int] | None, *, mode: str, actor: str, sso_id: str | None = None
) -> Erasure:
    """Erase in the current transaction (committed by the caller, or earlier: see _forget_subscriptions).
    An empty ``email`` (a signed-in reader the site gave none for) erases their comments only."""
    email = email.strip().lower()
    comments = _comments_of(email, site_ids, sso_id)
    # What Akismet was sent (the raw IP among it) goes with the person; reports owed on it are dropped.
    db.session.execute(delete(AkismetCheck).where(AkismetCheck.comment_id.in_([c.id for c in comments])))
    if mode == "anonymize":
        _anonymize(comments, actor=actor)
    else:
        audit.write(
            [
                audit.entry(
                    actor=actor,
                    action="privacy_deleted",
                    site_id=comment.site_id,
                    comment=comment,
                    from_status=comment.status,
                )
                for comment in comments
            ]
        )
        threads.remove_comments(comments)
    contacts = db.session.execute(
        delete(MailContact)
        .where(MailContact.email == email, _in_sites(MailContact.site_id, site_ids))
        .returning(MailContact.site_id)
    ).all()
    db.session.execute(
        delete(OutboxMessage).where(
            func.lower(OutboxMessage.to_address) == email,
            or_(OutboxMessage.site_id.is_(None), _in_sites(OutboxMessage.site_id, site_ids)),
        )
    )
    for site_id in {site_id for (site_id,) in contacts}:
        audit.record(actor=actor, action="privacy_mail_forgotten", site_id=site_id, details={"mode": mode})
    subscriptions = _forget_subscriptions(email, site_ids, actor=actor)
    return Erasure(
        email=email,
        sso_id=sso_id,
        mode=mode,
        comments=len(comments),
        subscriptions=subscriptions,
        reply_notifications=len(contacts),
    )


def _anonymize(comments: list[Comment], *, actor: str) -> None:
    """Strip the author from every comment: a fixed number of statements however many there are (one
    audit insert, one update of the comments at the flush, one per distinct thread-count change)."""
    rows = []
    for comment in comments:
        rows.append(
            audit.entry(
                actor=actor,
                action="privacy_anonymized",
                site_id=comment.site_id,
                comment=comment,
                from_status=comment.status,
                to_status=comment.status,
            )
        )
        comment.author_name = ANONYMOUS
        comment.author_email = ""
        comment.author_url = None
        comment.author_sso_id = None
        comment.ip_hash = None
        comment.user_agent = ""
        comment.edit_key_digest = None  # an erased author's token must not reach the comment either
    audit.write(rows)
    # Name and avatar changed: readers' cached pages of these threads must go (a version bump).
    threads.change_many_thread_counts(dict.fromkeys({comment.thread_id for comment in comments}, 0))


def _forget_subscriptions(email: str, site_ids: list[int] | None, *, actor: str) -> int:
    """Delete the address's subscriptions; a confirmed one leaves its counter in the same transaction."""
    removed = db.session.execute(
        delete(Subscriber)
        .where(Subscriber.email == email, _in_sites(Subscriber.site_id, site_ids))
        .returning(Subscriber.site_id, Subscriber.target, Subscriber.confirmed_at)
    ).all()
    for site_id, target, confirmed_at in removed:
        audit.record(actor=actor, action="privacy_unsubscribed", site_id=site_id, details={"target": target})
        if confirmed_at is not None:
            events.subscription_counted.send(
                current_app._get_current_object(), site=db.session.get(Site, site_id), target=target, delta=-1
            )
    return len(removed)
