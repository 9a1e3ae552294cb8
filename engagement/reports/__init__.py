"""Readers' reports of abuse: a reader flags an approved comment; enough distinct readers hold it for a
moderator; a moderator's decision dismisses or upholds the reports."""

from __future__ import annotations

from typing import Any

from flask import Flask

from engagement import events
from engagement.models import Comment, SiteRef
from engagement.reports import routes, service


def init_app(app: Flask) -> None:
    """Register the reader and staff routes; settle a comment's reports when staff decide on it."""
    app.register_blueprint(routes.public)
    app.register_blueprint(routes.staff)
    events.comment_status_changed.connect(_settle_reports, sender=app)


def _settle_reports(
    _app: Any, *, comment: Comment, site: SiteRef, before: str, after: str, actor: str
) -> None:
    service.settle_reports(comment=comment, after=after, actor=actor)
