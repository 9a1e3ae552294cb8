"""Staff moderation: the queue and its decisions, bans, threads, sites, tokens, the audit log, and the
moderator alert mails with their one-click links."""

from __future__ import annotations

from typing import Any

from flask import Flask

from engagement import events
from engagement.models import Comment, SiteRef
from engagement.moderation import alerts, comments, routes


def init_app(app: Flask) -> None:
    """Register the staff API and the alert links; alert the site's moderators when a comment is held."""
    app.register_blueprint(routes.bp)
    app.register_blueprint(routes.links)
    events.comment_held.connect(_alert_moderators, sender=app)
    events.reports_threshold_reached.connect(_hold_reported, sender=app)


def _alert_moderators(_app: Any, *, comment: Comment, site: SiteRef) -> None:
    alerts.alert_moderators(comment=comment, site=site)


def _hold_reported(_app: Any, *, comment: Comment, site: SiteRef, reporters: int) -> None:
    comments.hold_reported(comment=comment, site=site, reporters=reporters)
