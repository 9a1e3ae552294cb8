"""Privacy requests: what we hold about an email address, and erasing it (staff and self-service)."""

from __future__ import annotations

from typing import Any

from flask import Flask

from engagement.mailer.sender import before_delivery
from engagement.privacy import routes, service


def init_app(app: Flask) -> None:
    """Register the privacy routes; the mail process answers readers' requests before each delivery."""
    app.register_blueprint(routes.staff)
    app.register_blueprint(routes.public)
    app.register_blueprint(routes.links)
    before_delivery.connect(_answer_requests, sender=app)


def _answer_requests(_app: Any) -> None:
    service.answer_requests()
