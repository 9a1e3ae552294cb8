"""Webhooks: signed, retried posts of a site's events to the endpoints its admins register."""

from __future__ import annotations

from typing import Any

from flask import Flask

from engagement import events
from engagement.mailer.sender import before_delivery
from engagement.models import Comment, CommentStatus, CounterKind, SiteRef
from engagement.webhooks import delivery, routes
from engagement.webhooks.service import queue_event

# A staff decision, as the event a receiver wants.
_DECIDED = {
    CommentStatus.APPROVED: "comment.approved",
    CommentStatus.PENDING: "comment.held",
    CommentStatus.SPAM: "comment.rejected",
    CommentStatus.TRASH: "comment.rejected",
    CommentStatus.DELETED: "comment.deleted",
}


def init_app(app: Flask) -> None:
    """Register the admin routes; queue a delivery for each event; deliver from the mail process."""
    app.register_blueprint(routes.bp)
    events.comment_posted.connect(_posted, sender=app)
    events.comment_status_changed.connect(_decided, sender=app)
    events.comment_edited.connect(_comment_event("comment.edited"), sender=app, weak=False)
    events.comment_deleted.connect(_comment_event("comment.deleted"), sender=app, weak=False)
    events.comment_reported.connect(_reported, sender=app)
    events.counter_changed.connect(_counter_changed, sender=app)
    events.subscription_counted.connect(_subscription_counted, sender=app)
    events.thread_closed.connect(_thread_closed, sender=app)
    before_delivery.connect(_deliver, sender=app)


def _comment(comment: Comment, **extra: Any) -> dict[str, Any]:
    """What every comment event carries: ids and states, no personal data."""
    return {
        "comment_id": comment.id,
        "thread": comment.thread.key,
        "parent_id": comment.parent_id,
        "status": str(comment.status),
        **extra,
    }


def _posted(_app: Any, *, comment: Comment, site: SiteRef, **_: Any) -> None:
    queue_event(site=site, event_type="comment.created", data=lambda: _comment(comment))
    if comment.status == CommentStatus.PENDING:
        queue_event(site=site, event_type="comment.held", data=lambda: _comment(comment))


def _decided(_app: Any, *, comment: Comment, site: SiteRef, before: str, after: str, **_: Any) -> None:
    event_type = _DECIDED.get(CommentStatus(after))
    if event_type:
        queue_event(
            site=site, event_type=event_type, data=lambda: _comment(comment, previous_status=str(before))
        )


def _comment_event(event_type: str) -> Any:
    def receive(_app: Any, *, comment: Comment, site: SiteRef, **_: Any) -> None:
        queue_event(site=site, event_type=event_type, data=lambda: _comment(comment))

    return receive


def _reported(_app: Any, *, comment: Comment, site: SiteRef, reason: str, **_: Any) -> None:
    queue_event(site=site, event_type="comment.reported", data=lambda: _comment(comment, reason=reason))


def _counter_changed(
    _app: Any, *, site: SiteRef, target: str, kind: CounterKind, count: int | None, **_: Any
) -> None:
    data: dict[str, Any] = {"target": target, "kind": kind.value}
    if count is not None:
        data["count"] = count
    queue_event(site=site, event_type="counter.changed", data=lambda: data)


def _subscription_counted(_app: Any, *, site: SiteRef, target: str, delta: int, **_: Any) -> None:
    if delta > 0:
        queue_event(site=site, event_type="subscriber.confirmed", data=lambda: {"target": target})


def _thread_closed(_app: Any, *, site: SiteRef, key: str, **_: Any) -> None:
    queue_event(site=site, event_type="thread.closed", data=lambda: {"thread": key})


def _deliver(_app: Any, **_: Any) -> None:
    delivery.deliver_due()
