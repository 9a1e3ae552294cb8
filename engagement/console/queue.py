"""The queue page: which comments a moderator sees, what each card shows, and a decision on one card.

It reads and decides through the moderation services and their permission checks (the principal is
passed as their ``token``); this module only shapes their answers for the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate
from sqlalchemy import select

from engagement import clock
from engagement.database import MAX_ROW_ID
from engagement.errors import ApiError, Conflict
from engagement.extensions import db
from engagement.fields import CommentBody
from engagement.models import Comment, CommentStatus
from engagement.moderation import comments
from engagement.moderation.schemas import EDITABLE_STATUSES, BulkSchema, QueueQuery
from engagement.reports import service as reports
from engagement.staff import access

PAGE_SIZE = 50
# "reported": approved comments with open readers' reports; the tab shows while there are any.
TABS = ("pending", "approved", "spam", "trash", "all", "reported")
TAB_LABELS = {
    "pending": "Pending",
    "approved": "Approved",
    "spam": "Spam",
    "trash": "Trash",
    "all": "All",
    "reported": "Reported",
}
EXCERPT_LENGTH = 140
# spam_reasons as the spam rules write them ("ban:12:email", "moderation_word:casino") to chip labels.
REASON_LABELS = {
    "first_time": "First comment",
    "max_links": "Links",
    "moderation_word": "Word match",
    "disallowed_word": "Word match",
    "honeypot": "Honeypot",
    "moderation_all": "All comments held",
    "held_by_staff": "Held by staff",
    "reports": "Reported by readers",
}
REPORT_LABELS = {"spam": "Spam", "abuse": "Abuse or harassment", "off_topic": "Off topic", "other": "Other"}
BAN_LABELS = {"email": "Banned email", "ip": "Banned IP", "domain": "Banned domain", "word": "Banned word"}
FILTERS = ("site", "thread", "q", "email")
# What the bulk bar does, and what each action makes of a comment. "pending" is only Undo's: the moderation
# service's bulk has no way back to pending, so those go one by one through the single-comment service.
BULK_STATUSES = {"approve": "approved", "spam": "spam", "trash": "trash", "pending": "pending"}


class DecisionForm(Schema):
    """A decision on one card: the status to move to, and the status the card showed (``seen``): if the
    comment moved since, somebody decided first and nothing is changed."""

    class Meta:
        unknown = EXCLUDE  # the CSRF token and the queue's filters ride along

    status = fields.String(required=True, validate=validate.OneOf(EDITABLE_STATUSES))
    seen = fields.String(load_default=None, validate=validate.OneOf(("pending", "approved", "spam", "trash")))


class EditForm(Schema):
    """A new body for one card, with the reason the audit log keeps: the API PATCH's fields, so the same
    messages."""

    class Meta:
        unknown = EXCLUDE  # the CSRF token and the queue's filters ride along

    body = CommentBody(required=True)
    reason = fields.String(load_default="", validate=validate.Length(max=1000))


class PinForm(Schema):
    """Pin (``true``) or unpin (``false``) one card."""

    class Meta:
        unknown = EXCLUDE

    pinned = fields.Boolean(required=True)
    reason = fields.String(load_default="", validate=validate.Length(max=1000))


class BulkForm(BulkSchema):
    """The bulk bar: the API's bulk fields (ids, action, reason) as a form posts them (strings), limited
    to the queue's decisions."""

    class Meta:
        unknown = EXCLUDE  # the CSRF token and the queue's filters ride along

    ids = fields.List(
        fields.Integer(validate=validate.Range(min=1, max=MAX_ROW_ID)),
        required=True,
        validate=validate.Length(min=1, max=PAGE_SIZE * 10, error="Select at least one comment."),
    )
    action = fields.String(required=True, validate=validate.OneOf(tuple(BULK_STATUSES)))


@dataclass(frozen=True)
class Card:
    """One comment as the queue shows it (every field autoescaped but ``html``, stored sanitized)."""

    comment: Comment
    reasons: list[str]
    parent_excerpt: str | None
    ago: str
    full_time: str
    reports: dict[str, Any]  # reports.service.reports_of's entry: open, by_reason, reports


@dataclass(frozen=True)
class Queue:
    tab: str
    filters: dict[str, str]
    counts: dict[str, int]
    sites: list[Any]
    cards: list[Card]
    next_cursor: str | None
    error: str | None


@dataclass(frozen=True)
class Decision:
    """What a decision did: ``stale`` when the comment had moved (or was already there)."""

    comment_id: int
    status: str
    previous: str
    stale: bool
    message: str
    undoable: bool = True

    def answer(self) -> dict[str, Any]:
        """The JSON answer queue.js reads."""
        return {
            "id": self.comment_id,
            "status": self.status,
            "previous": self.previous,
            "stale": self.stale,
            "message": self.message,
            "undoable": self.undoable,
        }


def load_queue(*, principal: Any, args: dict[str, str]) -> Queue:
    """The tab, its counts and one keyset page of cards for the query string ``args``; a bad filter is
    a message on the page (and an empty list), never an error."""
    summary = comments.summary(token=principal)
    sites = [row["site"] for row in summary]
    raw = {
        name: value for name, value in args.items() if name in (*FILTERS, "tab", "cursor") and value.strip()
    }
    tab = raw.pop("tab", "pending")
    filters = {name: raw[name] for name in FILTERS if name in raw}
    error = None
    try:
        if tab not in TABS:
            raise ValidationError({"tab": ["Unknown tab."]})
        query = QueueQuery().load({**raw, "status": tab, "limit": PAGE_SIZE}, unknown=EXCLUDE)
    except ValidationError as invalid:
        error = "These filters are not valid: " + describe(invalid.messages)
        tab = tab if tab in TABS else "pending"
        query = None
    if query is not None and query["site"] is not None and query["site"] not in {s.slug for s in sites}:
        error, query = "You have no site called that; pick one of yours.", None
    counts = _counts(summary, None if query is None else query["site"])
    listing = None
    if query is not None:
        try:
            listing = comments.comment_queue(token=principal, **query)
        except ApiError as refused:  # a cursor that is not one of ours
            error = refused.message
    items = list(listing.items) if listing is not None else []
    return Queue(
        tab=tab,
        filters=filters,
        counts=counts,
        sites=sites,
        cards=_cards(items),
        next_cursor=listing.next_cursor if listing is not None else None,
        error=error,
    )


def decide(*, principal: Any, comment_id: int, status: str, seen: str | None) -> Decision:
    """Move one comment through the moderation service (its permission checks: 404, 403). When the card
    was stale (the comment is no longer in ``seen``, or already in ``status``) nothing changes."""
    comment = comments.get_comment(token=principal, comment_id=comment_id)
    before = comment.status
    if status == before == CommentStatus.APPROVED and seen == before:
        # Approve on the Reported tab: the comment stays, its readers' reports are dismissed.
        dismissed = reports.dismiss_reports(token=principal, comment_id=comment_id, reason="staff console")
        if dismissed:
            message = (
                f"Comment {comment_id} stays; {dismissed} report{'s' if dismissed != 1 else ''} dismissed."
            )
            return Decision(comment_id, before, before, False, message, undoable=False)
    if (seen is not None and before != seen) or before == status:
        return Decision(comment_id, before, before, True, f"{stale_notice(comment_id)} It is {before}.")
    try:
        comments.update_comment(token=principal, comment_id=comment_id, status=status, reason="staff console")
    except Conflict as conflict:
        return Decision(comment_id, before, before, True, conflict.message)
    return Decision(comment_id, comment.status, before, False, f"Comment {comment_id}: {comment.status}.")


def bulk_decide(*, principal: Any, ids: list[int], action: str, reason: str) -> dict[str, Any]:
    """One decision on many comments through the moderation service's bulk (one transaction; a comment
    that cannot move is reported, not raised). Another site's comment is reported as not found, like
    an id that does not exist, so a moderator learns nothing about other sites."""
    reason = reason or "staff console"
    if action == "pending":
        updated, failed = _back_to_pending(principal, ids, reason)
    else:
        updated, failed = comments.bulk_moderate(token=principal, ids=ids, action=action, reason=reason)
    failed = {key: "comment_not_found" if code == "forbidden" else code for key, code in failed.items()}
    status = BULK_STATUSES[action]
    message = f"{len(updated)} comment{'s' if len(updated) != 1 else ''}: {status}."
    if failed:
        message += f" {len(failed)} could not be changed."
    return {"updated": updated, "failed": failed, "status": status, "message": message}


def bulk_notice(done: int, action: str | None) -> str | None:
    """The notice after a bulk decision without script, from a count and a known action only."""
    if action not in BULK_STATUSES:
        return None
    return f"{done} comment{'s' if done != 1 else ''}: {BULK_STATUSES[action]}."


def tab_counts(*, principal: Any, site: str | None) -> dict[str, int]:
    """The tabs' counts, of one site (404 unknown, 403 not the principal's) or of all the principal's."""
    if site is not None:
        access.site_in_scope(principal, site)
    return _counts(comments.summary(token=principal), site)


def _back_to_pending(principal: Any, ids: list[int], reason: str) -> tuple[list[int], dict[str, str]]:
    updated: list[int] = []
    failed: dict[str, str] = {}
    for comment_id in dict.fromkeys(ids):
        try:
            comments.update_comment(token=principal, comment_id=comment_id, status="pending", reason=reason)
        except ApiError as refused:
            failed[str(comment_id)] = refused.code
            continue
        updated.append(comment_id)
    return updated, failed


def comment_to_edit(*, principal: Any, comment_id: int) -> Comment:
    """One comment the principal may moderate (the moderation service's 404 and 403)."""
    return comments.get_comment(token=principal, comment_id=comment_id)


def edit_body(*, principal: Any, comment_id: int, body: str, reason: str) -> dict[str, Any]:
    """Replace a comment's body through the moderation service the API's PATCH uses (re-rendered, audited
    with ``reason``); the answer queue.js reads, with the new sanitized HTML."""
    comment = comments.update_comment(
        token=principal, comment_id=comment_id, body=body, reason=reason or "staff console"
    )
    return {"id": comment.id, "html": comment.html, "message": f"Comment {comment.id}: edited."}


def pin(*, principal: Any, comment_id: int, pinned: bool, reason: str) -> dict[str, Any]:
    """Pin or unpin a comment through the moderation service the API's PATCH uses."""
    comment = comments.update_comment(
        token=principal, comment_id=comment_id, pinned=pinned, reason=reason or "staff console"
    )
    word = "pinned" if comment.pinned else "unpinned"
    return {"id": comment.id, "pinned": comment.pinned, "message": f"Comment {comment.id}: {word}."}


def reason_chips(reasons: list[str]) -> list[str]:
    """Labels for a comment's ``spam_reasons``; an unknown reason is shown as it is (escaped)."""
    labels: list[str] = []
    for reason in reasons:
        name, _, rest = reason.partition(":")
        if name == "ban":
            label = BAN_LABELS.get(rest.rpartition(":")[2], reason)
        else:
            label = REASON_LABELS.get(name, reason)
        if label not in labels:
            labels.append(label)
    return labels


def relative_time(moment: datetime, now: datetime) -> str:
    """'just now', '5 minutes ago', '3 hours ago', '2 days ago'."""
    seconds = max(0, int((now - moment).total_seconds()))
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''} ago"
    return "just now"


def stale_notice(comment_id: int) -> str:
    """What a stale card's decision says: it changed nothing."""
    return (
        f"Comment {comment_id} had changed since the page was shown (someone decided first): "
        "nothing was changed."
    )


def _counts(summary: list[dict[str, Any]], site: str | None) -> dict[str, int]:
    totals = dict.fromkeys(TABS, 0)
    for row in summary:
        if site is not None and row["site"].slug != site:
            continue
        for status, count in row["counts"].items():
            if status in totals:
                totals[status] += count
            if status != "reported":  # approved comments, counted once already
                totals["all"] += count
    return totals


def _cards(items: list[Comment]) -> list[Card]:
    parent_ids = {c.parent_id for c in items if c.parent_id is not None}
    parents: dict[int, str] = {}
    if parent_ids:
        parents = dict(
            db.session.execute(select(Comment.id, Comment.body).where(Comment.id.in_(parent_ids))).all()
        )
    reported = reports.reports_of([c.id for c in items])
    now = clock.now()
    cards = []
    for comment in items:
        created = as_utc(comment.created_at, now)
        parent = parents.get(comment.parent_id) if comment.parent_id is not None else None
        cards.append(
            Card(
                comment=comment,
                reasons=reason_chips(list(comment.spam_reasons or [])),
                parent_excerpt=excerpt(parent) if parent is not None else None,
                ago=relative_time(created, now),
                full_time=created.strftime("%Y-%m-%d %H:%M:%S UTC"),
                reports=reported[comment.id],
            )
        )
    return cards


def as_utc(moment: datetime, now: datetime) -> datetime:
    """A stored time as aware UTC (SQLite gives them back naive)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=now.tzinfo)


def excerpt(text: str) -> str:
    """The text on one line, cut to ``EXCERPT_LENGTH`` characters."""
    text = " ".join(text.split())
    return text if len(text) <= EXCERPT_LENGTH else text[: EXCERPT_LENGTH - 1] + "…"


def describe(messages: Any) -> str:
    """Marshmallow's messages as one line of text."""
    if isinstance(messages, dict):
        return "; ".join(f"{name}: {describe(value)}" for name, value in messages.items())
    if isinstance(messages, list):
        return " ".join(describe(m) for m in messages)
    return str(messages)
