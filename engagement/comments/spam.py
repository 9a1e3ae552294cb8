"""Anti-spam rules with WordPress core's semantics: what holds a comment, what marks it spam.

Refusals (flood, duplicate) raise; verdicts on an accepted comment are returned with the reasons, which
are stored on the comment so moderators see which rule held or flagged it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, event, exists, func, or_, select

from engagement.bans import active_bans, matching_bans
from engagement.comments.drafts import Client, NewComment
from engagement.errors import Conflict, TooManyRequests
from engagement.extensions import db
from engagement.hashing import ip_hash, ip_hashes
from engagement.models import AkismetVerdict, BanAction, Comment, CommentStatus, SiteSettings
from engagement.normalization import body_digest, fold
from engagement.rendering import links_in_html


@dataclass(frozen=True)
class Submission:
    """Everything about a comment that the rules look at, with the raw (unhashed) IP."""

    site_id: int
    thread_id: int | None
    author_name: str
    author_email: str
    author_url: str | None
    body: str
    html: str  # the body rendered once by the caller; link counting reads it instead of rendering again
    ip: str | None
    ip_hash: str | None
    user_agent: str
    sso_id: str | None = None  # a signed-in reader's user id on the site
    # What an IP ban is matched against: ``ip_hash``, and for a new post from IPv6 also its whole address's
    # hash, as bans stored before the /64 rule hold it (engagement.hashing.ip_hashes).
    ban_ip_hashes: tuple[str, ...] = ()

    @classmethod
    def of_new(
        cls, draft: NewComment, client: Client, *, site_id: int, thread_id: int | None, html: str
    ) -> Submission:
        """A new comment as the rules see it."""
        return cls(
            site_id=site_id,
            thread_id=thread_id,
            author_name=draft.author_name,
            author_email=draft.author_email,
            author_url=draft.author_url,
            body=draft.body,
            html=html,
            ip=client.ip,
            ip_hash=ip_hash(client.ip),
            user_agent=client.user_agent[:USER_AGENT_LENGTH],
            sso_id=draft.sso_id,
            ban_ip_hashes=ip_hashes(client.ip),
        )

    @classmethod
    def of_edit(cls, comment: Comment, *, body: str, html: str, ip: str | None) -> Submission:
        """A stored comment with a new body, as the rules see it (the author and agent it was posted with)."""
        return cls(
            site_id=comment.site_id,
            thread_id=comment.thread_id,
            author_name=comment.author_name,
            author_email=comment.author_email,
            author_url=comment.author_url,
            body=body,
            html=html,
            ip=ip,
            ip_hash=comment.ip_hash,
            user_agent=comment.user_agent,
            sso_id=comment.author_sso_id,
            ban_ip_hashes=(comment.ip_hash,) if comment.ip_hash else (),
        )

    @functools.cached_property
    def folded_texts(self) -> list[str]:
        """The fields word bans and word lists search, folded once for all of them (only if one looks)."""
        texts = (self.author_name, self.author_email, self.author_url, self.body, self.ip, self.user_agent)
        return [fold(text) for text in texts if text]

    @functools.cached_property
    def body_digest(self) -> str | None:
        """What the duplicate rule compares (computed once: the rule and the INSERT both need it)."""
        return body_digest(self.body)

    def stored_columns(self) -> dict[str, Any]:
        """What a new comment stores of its submission, as the comments table names it."""
        return {
            "author_name": self.author_name,
            "author_email": self.author_email,
            "author_url": self.author_url,
            "author_sso_id": self.sso_id,
            "ip_hash": self.ip_hash,
            "user_agent": self.user_agent,
            "body": self.body,
            "html": self.html,
            "body_digest": self.body_digest,
        }


USER_AGENT_LENGTH = 400


@dataclass
class Verdict:
    status: CommentStatus = CommentStatus.APPROVED
    reasons: list[str] = field(default_factory=list)

    def hold(self, reason: str) -> None:
        self.reasons.append(reason)
        if self.status == CommentStatus.APPROVED:
            self.status = CommentStatus.PENDING

    def mark_spam(self, reason: str) -> None:
        self.reasons.append(reason)
        self.status = CommentStatus.SPAM


def flood_wait(
    submission: Submission, settings: SiteSettings, now: datetime, *, posted_id: int
) -> int | None:
    """Seconds to wait when the same IP or email commented on this site within ``flood_seconds`` before
    the comment just inserted as ``posted_id``; None when it may stand."""
    if settings.flood_seconds <= 0:
        return None
    since = now - timedelta(seconds=settings.flood_seconds)
    # The same person: by email, by the site's user id when signed in (who may have no email), by IP.
    same_author = [Comment.author_email == submission.author_email] if submission.author_email else []
    if submission.sso_id is not None:
        same_author.append(Comment.author_sso_id == submission.sso_id)
    if submission.ip_hash:
        same_author.append(Comment.ip_hash == submission.ip_hash)
    last = db.session.scalar(
        select(Comment.created_at)
        .where(
            Comment.site_id == submission.site_id,
            Comment.created_at > since,
            or_(*same_author),
            Comment.id != posted_id,
        )
        .order_by(Comment.created_at.desc())
        .limit(1)
    )
    return None if last is None else settings.flood_seconds - int((now - last).total_seconds())


def comment_flood(wait: int) -> TooManyRequests:
    """429 ``comment_flood`` with ``Retry-After``."""
    return TooManyRequests(
        "comment_flood", "You are posting comments too quickly. Slow down.", retry_after=wait
    )


# The same body (as ``body_digest`` folds it: case, invisible characters and spacing do not make it new)
# from the same email on the same thread, as a condition for the INSERT itself: the check
# and the write are one statement (one round trip, and no window between them). Built once, with
# parameters: building it per post cost more than running it. Email and site: they match the
# (author_email, site_id) index, so the check reads this author's comments only (by thread alone it read
# every comment of the thread).
DUPLICATE = exists().where(
    Comment.site_id == bindparam("duplicate_site_id"),
    Comment.author_email == bindparam("duplicate_email"),
    # "+ 0" keeps the thread's listing index out of the planner's choice: without table statistics
    # SQLite rates one equality on it about as well as the two on (site_id, author_email), and a full
    # run of the suite once saw it pick the thread's index, reading every comment of the thread.
    Comment.thread_id + 0 == bindparam("duplicate_thread_id"),
    Comment.body_digest == bindparam("duplicate_body_digest"),
    # Signed-in readers without an email are told apart by the site's user id; guests all have "".
    func.coalesce(Comment.author_sso_id, "") == bindparam("duplicate_sso_id"),
    Comment.status != CommentStatus.TRASH,
)


def duplicate_parameters(submission: Submission, *, thread_id: int) -> dict[str, Any]:
    """The values ``DUPLICATE`` compares a new comment by."""
    return {
        "duplicate_site_id": submission.site_id,
        "duplicate_email": submission.author_email,
        "duplicate_thread_id": thread_id,
        "duplicate_body_digest": submission.body_digest,
        "duplicate_sso_id": submission.sso_id or "",
    }


def lock_out_duplicates(parameters: dict[str, Any]) -> None:
    """PostgreSQL, READ COMMITTED: two identical posts at once would each find no duplicate and both land.
    A transaction lock on what the rule compares makes the second wait for the first to commit; its
    INSERT, a statement of its own and so a new snapshot, then sees the first and refuses. Identical posts
    only ever wait for each other (or, on a rare hash collision, two unrelated ones for a moment). SQLite's
    single writer already takes posts one at a time."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    key = "duplicate:" + "\x1f".join(str(parameters[name]) for name in sorted(parameters))
    db.session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(key, 0))))


def duplicate_comment() -> Conflict:
    """409 ``duplicate_comment``, WordPress's words."""
    return Conflict(
        "duplicate_comment", "Duplicate comment detected; it looks as though you've already said that!"
    )


def _matches(words: Iterable[str], submission: Submission) -> str | None:
    """The first word found (a substring, as WordPress does) in any field, both folded: case, a
    zero-width space inside the word, doubled spaces or full-width letters do not hide it."""
    if not words:
        return None
    folded = submission.folded_texts
    for word in words:
        needle = fold(word)
        if needle and any(needle in h for h in folded):
            return word.strip().lower()
    return None


@event.listens_for(Comment.body, "set")
def _keep_body_digest(comment: Comment, body: str | None, _old: object, _initiator: object) -> None:
    # Every change of a body through the ORM (an edit, a moderator's edit, an erasure) keeps the digest
    # the duplicate rule compares in step; new comments and imports set it in their INSERT.
    comment.body_digest = body_digest(body or "")


def judge(submission: Submission, settings: SiteSettings, *, honeypot_filled: bool, now: datetime) -> Verdict:
    """Decide approved / pending / spam for a new or edited comment; reasons say which rule decided."""
    verdict = Verdict()
    if honeypot_filled:
        verdict.mark_spam("honeypot")
    for ban in matching_bans(
        active_bans(submission.site_id, now),
        email=submission.author_email,
        sso_id=submission.sso_id,
        ip_hashes=submission.ban_ip_hashes,
        author_url=submission.author_url,
        folded_texts=lambda: submission.folded_texts,
    ):
        if ban.action == BanAction.SPAM:
            verdict.mark_spam(f"ban:{ban.id}:{ban.kind}")
        else:
            verdict.hold(f"ban:{ban.id}:{ban.kind}")
    if (word := _matches(settings.disallowed_words, submission)) is not None:
        verdict.mark_spam(f"disallowed_word:{word}")
    if settings.max_links > 0 and links_in_html(submission.html) >= settings.max_links:
        verdict.hold("max_links")
    if (word := _matches(settings.moderation_words, submission)) is not None:
        verdict.hold(f"moderation_word:{word}")
    if settings.moderation == "all":
        verdict.hold("moderation_all")
    elif settings.moderation == "first_time" and not _known_author(submission, settings):
        verdict.hold("first_time")
    return verdict


def apply_akismet(verdict: Verdict, answer: AkismetVerdict | None, settings: SiteSettings) -> None:
    """Akismet's answer on top of the local verdict: spam (``akismet``; a discard is spam too, with
    ``akismet_discard``), ham keeps the local verdict. No answer (None: a timeout, an error) follows the
    site's ``akismet_failure``: ``hold`` (pending, ``akismet_unavailable``) or ``allow`` (the local
    verdict, with ``akismet_unchecked`` recorded)."""
    if answer is None:
        if settings.akismet_failure == "hold":
            verdict.hold("akismet_unavailable")
        else:
            verdict.reasons.append("akismet_unchecked")
    elif answer == AkismetVerdict.SPAM:
        verdict.mark_spam("akismet")
    elif answer == AkismetVerdict.DISCARD:
        verdict.mark_spam("akismet")
        verdict.reasons.append("akismet_discard")


def _known_author(submission: Submission, settings: SiteSettings) -> bool:
    """WordPress's "comment author must have a previously approved comment", by email on this site, or
    by the site's user id for a signed-in reader (whom a site may trust at once: sso_skip_first_time)."""
    if submission.sso_id is not None:
        if settings.sso_skip_first_time:
            return True
        author = Comment.author_sso_id == submission.sso_id
    else:
        author = Comment.author_email == submission.author_email
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    Comment.site_id == submission.site_id, author, Comment.status == CommentStatus.APPROVED
                )
            )
        )
    )
