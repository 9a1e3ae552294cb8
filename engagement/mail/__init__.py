"""Reader mail: subscriber double opt-in, reply notifications and their opt-in, and the staff view of the
outbox. Sending itself is engagement.mailer."""

from __future__ import annotations

from typing import Any

from flask import Flask

from engagement import events
from engagement.mail import routes, service
from engagement.models import Comment, SiteRef
from engagement.threads import ThreadForPosting


def init_app(app: Flask) -> None:
    """Register the mail routes, and enqueue mail inside the transaction of each comment event."""
    app.register_blueprint(routes.public)
    app.register_blueprint(routes.links)
    app.register_blueprint(routes.staff)
    events.comment_published.connect(_notify_reply, sender=app)
    events.reply_notifications_requested.connect(_request_reply_notifications, sender=app)


def _notify_reply(_app: Any, *, comment: Comment, site: SiteRef) -> None:
    service.notify_reply(comment=comment, site=site)


def _request_reply_notifications(
    _app: Any, *, site: SiteRef, thread: ThreadForPosting, email: str, language: str | None = None
) -> None:
    service.request_reply_notifications(site=site, thread=thread, email=email, language=language)
