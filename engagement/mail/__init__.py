"""Email: the outbox, reply notifications, subscriber double opt-in and moderator alerts."""

from __future__ import annotations

from typing import Any

from flask import Flask

from engagement import events
from engagement.models import Comment, SiteRef


def init_app(app: Flask) -> None:
    """Register the mail routes, and enqueue mail inside the transaction of each comment event."""
    from engagement.mail import routes

    app.register_blueprint(routes.public)
    app.register_blueprint(routes.links)
    app.register_blueprint(routes.staff)
    events.comment_published.connect(_notify_reply, sender=app)
    events.comment_held.connect(_alert_moderators, sender=app)


# The receivers import lazily: comments.service imports this package, and alerts imports the moderation
# service, which imports comments.service.
def _notify_reply(_app: Any, *, comment: Comment, site: SiteRef) -> None:
    from engagement.mail.service import notify_reply

    notify_reply(comment=comment, site=site)


def _alert_moderators(_app: Any, *, comment: Comment, site: SiteRef) -> None:
    from engagement.mail.alerts import alert_moderators

    alert_moderators(comment=comment, site=site)
